"""accelgen's post-training quantizer for float models: calibration inputs and activation ranges.

Calibration inputs are a ``.npy``/``.npz`` file or an array: uint8 pixels (0..255) are
normalized ``(p / 255 - mean) / std``; float arrays are used as they are. Without them, a model
of a 28x28x1 input is calibrated on 500 of the offline MNIST training samples
(`accel.nn.mnist.data.load_offline`, the training part of `split_offline`). onnxruntime runs
the float model with every intermediate float tensor as an output; each tensor's range is its
minimum and maximum over the samples.
"""

from __future__ import annotations

import os

import numpy as np
import onnx

from accel.frontend.errors import FrontendError
from accel.frontend.loader import Model

__all__ = ["MNIST_SAMPLES", "calibration_inputs", "collect_ranges", "input_quant"]

#: Offline MNIST samples of the default calibration.
MNIST_SAMPLES = 500


def _read(calibration) -> np.ndarray:
    if isinstance(calibration, np.ndarray):
        return calibration
    path = os.fspath(calibration)
    try:
        data = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise FrontendError(f"{path}: cannot read the calibration data ({exc})") from None
    if isinstance(data, np.lib.npyio.NpzFile):
        with data:
            names = data.files
            if not names:
                raise FrontendError(f"{path}: the calibration archive is empty")
            key = next((k for k in ("x", "images", "inputs") if k in names), names[0])
            return data[key]
    return data


def calibration_inputs(calibration, shape: tuple[int, ...], mean: float, std: float,
                       layout: str = "NCHW") -> tuple[np.ndarray, bool]:
    """Float32 model inputs ``(n,) + shape`` (the model's input without batch: CHW, HWC for an
    ``"NHWC"`` model, or features) and whether they came from uint8 pixels. Images may come
    HWC for an NCHW model, and without the channel axis when there is one channel.

    Raises
    ------
    FrontendError
        No calibration for a model that is not 28x28x1, an unreadable file, a shape that does
        not match the input, pixels outside 0..255 or non-finite values.
    """
    nhwc = layout == "NHWC"
    if calibration is None:
        if tuple(shape) != ((28, 28, 1) if nhwc else (1, 28, 28)):
            raise FrontendError(f"a float model of input shape {list(shape)} needs calibration "
                                "inputs (a .npy/.npz file)")
        from accel.nn.mnist.data import DatasetError, load_offline, split_offline
        try:  # training samples only: the held-out ones stay unseen
            images = split_offline(*load_offline(seed=0))[0][:MNIST_SAMPLES]
        except DatasetError as exc:
            raise FrontendError(f"default calibration: {exc}") from None
        calibration = images
    data = _read(calibration)
    pixels = data.dtype == np.uint8
    if not (pixels or np.issubdtype(data.dtype, np.floating)):
        raise FrontendError(f"calibration data must be uint8 pixels or floats, not {data.dtype}")
    shape = tuple(shape)
    if data.shape == shape:
        data = data[None]
    elif nhwc and shape[2] == 1 and data.shape[1:] == shape[:2]:
        data = data[..., None]
    elif not nhwc and len(shape) == 3 and shape[0] == 1 and data.shape[1:] == shape[1:]:
        data = data[:, None]
    elif not nhwc and len(shape) == 3 and data.shape[1:] == (shape[1], shape[2], shape[0]):
        data = data.transpose(0, 3, 1, 2)
    if data.shape[1:] != shape or data.shape[0] < 1:
        raise FrontendError(f"calibration data of shape {list(data.shape)} do not match the "
                            f"model input {list(shape)} ({layout})")
    if pixels:
        data = (data.astype(np.float64) / 255.0 - mean) / std
    if not np.isfinite(data).all():
        raise FrontendError("calibration data must be finite")
    return np.ascontiguousarray(data, dtype=np.float32), pixels


def input_quant(data: np.ndarray, pixels: bool, mean: float, std: float) -> tuple[float, int]:
    """The int8 quantization of the model input.

    For pixels the scale is ``1 / (255 std)``, one level per pixel value: ``q = p - 128`` plus
    a constant, every pixel its own level, exactly when ``255 mean`` is an integer; otherwise
    every pixel still gets its own level, unless ``255 mean`` ends in exactly .5 (mean 0.5):
    then the scale grows by a part in 10**9 so that no pixel sits on a rounding tie, and only
    the two middle pixels share a level. Other inputs get the asymmetric int8 quantization of
    their calibrated range.
    """
    from accel.frontend.walk import activation_quant
    if not pixels:
        return activation_quant(float(data.min()), float(data.max()))
    offset = 255.0 * mean - 128
    scale = 1.0 / (255.0 * std)
    if abs(offset - np.floor(offset) - 0.5) < 1e-9:
        scale *= 1 + 1e-9
    return scale, int(np.clip(np.rint(offset), -128, 127))


def collect_ranges(model: Model, data: np.ndarray) -> dict[str, tuple[float, float]]:
    """``name -> (min, max)`` of every float tensor of ``model`` over the inputs ``data``."""
    import onnxruntime as ort
    proto = onnx.ModelProto()
    proto.CopyFrom(model.proto)
    graph = proto.graph
    floats = {vi.name for vi in list(graph.value_info) + list(graph.output)
              if vi.type.tensor_type.elem_type == onnx.TensorProto.FLOAT}
    present = {o.name for o in graph.output}
    for node in graph.node:
        for name in node.output:
            if name in floats and name not in present:
                graph.output.append(onnx.helper.make_tensor_value_info(
                    name, onnx.TensorProto.FLOAT, None))
                present.add(name)
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    options.log_severity_level = 3
    try:
        session = ort.InferenceSession(proto.SerializeToString(), options,
                                       providers=["CPUExecutionProvider"])
    except Exception as exc:  # noqa: BLE001
        raise FrontendError(f"{model.source}: onnxruntime cannot run the float model: "
                            f"{str(exc).splitlines()[0]}") from None
    names = [o.name for o in session.get_outputs()]
    batch = session.get_inputs()[0].shape[0]
    repeat = batch if isinstance(batch, int) and batch > 1 else 1  # a fixed batch: copies
    ranges: dict[str, list[float]] = {}
    for sample in data:  # one at a time: exporters often fix the batch in Reshape shapes
        try:
            outputs = session.run(names, {model.input: np.repeat(sample[None], repeat, 0)})
        except Exception as exc:  # noqa: BLE001
            raise FrontendError(f"{model.source}: onnxruntime fails on a calibration input: "
                                f"{str(exc).splitlines()[0]}") from None
        for name, out in zip(names, outputs):
            lo, hi = float(np.min(out)), float(np.max(out))
            old = ranges.get(name)
            ranges[name] = [lo, hi] if old is None else [min(old[0], lo), max(old[1], hi)]
    ranges[model.input] = [float(data.min()), float(data.max())]
    return {k: (v[0], v[1]) for k, v in ranges.items()}
