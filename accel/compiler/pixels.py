"""From uint8 image pixels to a graph's int8 input: one 256-entry table per graph.

Camera and dataset images arrive as uint8 pixels; a model expects them normalized. A graph
records how in ``graph.metadata["pixels"]``:

* ``{"kind": "shift", "shift": s}`` — the native MNIST networks: ``q = p >> s``;
* ``{"kind": "normalize", "mean": m, "std": d}`` — the torchvision convention of imported
  models: the model sees ``(p / 255 - m) / d``, quantized by the input tensor
  (`accel.compiler.graph.Tensor.quantize`); absent metadata means mean 0 and std 1;
* ``{"kind": "int8"}`` — the "pixels" are already int8 input values plus 128 (``q = p - 128``),
  so inputs quantized elsewhere (float tensors, `accel.runtime.model`) take the pixel path of
  every backend unchanged.

Both are a function of the pixel value alone, so a lookup table maps them exactly; the SoC
firmware quantizes images with the same table.
"""

from __future__ import annotations

import numpy as np

from accel.compiler.graph import Graph

__all__ = ["pixel_lut", "quantize_pixels", "normalization"]


def normalization(graph: Graph) -> dict:
    """The graph's pixel mapping (see the module docstring), validated."""
    spec = graph.metadata.get("pixels", {"kind": "normalize", "mean": 0.0, "std": 1.0})
    kind = spec.get("kind") if isinstance(spec, dict) else None
    if kind == "shift" and isinstance(spec.get("shift"), int) and 0 <= spec["shift"] <= 8:
        return spec
    if kind == "int8":
        return {"kind": "int8"}
    if kind == "normalize":
        mean, std = float(spec.get("mean", 0.0)), float(spec.get("std", 1.0))
        if np.isfinite(mean) and np.isfinite(std) and std > 0:
            return {"kind": "normalize", "mean": mean, "std": std}
    raise ValueError(f"graph {graph.name!r}: bad pixel mapping {spec!r}")


def pixel_lut(graph: Graph) -> np.ndarray:
    """int8 input value of every pixel value 0..255, shape (256,)."""
    spec = normalization(graph)
    pixels = np.arange(256)
    if spec["kind"] == "shift":
        return (pixels >> spec["shift"]).astype(np.int8)
    if spec["kind"] == "int8":
        return (pixels - 128).astype(np.int8)
    real = (pixels / 255.0 - spec["mean"]) / spec["std"]
    return graph.input_tensor.quantize(real).astype(np.int8)


def quantize_pixels(graph: Graph, images: np.ndarray) -> np.ndarray:
    """uint8 images ``(..., h, w)`` (one channel) or ``(..., h, w, c)`` -> int8 input tensors of
    the graph's input shape (HWC), through `pixel_lut`.

    Raises
    ------
    ValueError
        Pixels outside 0..255, non-integer pixels, or images of another shape.
    """
    images = np.asarray(images)
    if not np.issubdtype(images.dtype, np.integer) or images.size and (
            images.min() < 0 or images.max() > 255):
        raise ValueError("images must hold integer pixels between 0 and 255")
    shape = graph.input_tensor.shape
    if len(shape) == 3 and shape[2] == 1 and images.shape[-2:] == shape[:2]:
        images = images[..., None]
    if images.shape[-len(shape):] != shape:
        raise ValueError(f"the model takes {shape} inputs (HWC), not images of shape "
                         f"{images.shape}")
    return pixel_lut(graph)[images.astype(np.int64)].astype(np.int8)
