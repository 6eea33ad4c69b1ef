"""Bring your own model, from Python: ``accel.compile(model, config)`` and ``.run(x, backend)``.

`load_model` reads any model accelgen knows — an ONNX file or `onnx.ModelProto` (float, QDQ or
QOperator; `accel.frontend.onnx.load_onnx`), an accelgen graph file
(`accel.compiler.graph_file`), a native network file or the names of the committed networks
(``cnn``, ``mlp``) — as a `Graph`. `compile_model` compiles it for one configuration into a
`CompiledModel`, which runs inputs on the golden model, the accelerator's RTL or the whole SoC
(identical outputs on all three, each checked against the golden model as it runs) and
describes itself layer by layer.

Inputs to `CompiledModel.run`: uint8 arrays are image pixels (mapped by the model's pixel
table: mean/std normalization, `accel.compiler.pixels`); float arrays are the model's own input
values, in its layout (NCHW for ONNX image models, with or without the batch dimension),
quantized by the graph's input tensor. Outputs are dequantized to float in the model's layout
(softmax/argmax applied when the model ends with one), with the raw integers beside them.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from accel.compiler.graph import Graph
from accel.config import AccelConfig

__all__ = ["BACKENDS", "CompiledModel", "ModelRun", "load_model", "compile_model"]

BACKENDS = ("golden", "rtl", "soc")
#: Names of the committed networks that `load_model` accepts instead of a file.
NATIVE_NAMES = ("cnn", "mlp")


def load_model(source, *, calibration=None, mean: float | None = None,
               std: float | None = None) -> Graph:
    """The `Graph` of ``source``.

    Parameters
    ----------
    source : Graph, QuantizedNetwork, onnx.ModelProto, path, or "cnn" / "mlp"
        A ``.onnx`` file (or any file that is not an ``.npz``) is read as ONNX; an ``.npz`` is
        an accelgen graph file or a native network file.
    calibration, mean, std
        ONNX models only (see `accel.frontend.onnx.load_onnx`); mean and std default to 0
        and 1.

    Raises
    ------
    ValueError
        One line naming the file: missing, malformed, unsupported, or options that do not
        apply to it.
    """
    from accel.nn.network import QuantizedNetwork
    from accel.nn.to_graph import network_to_graph

    onnx_options = calibration is not None or mean is not None or std is not None
    if isinstance(source, Graph):
        graph = source
    elif isinstance(source, QuantizedNetwork):
        graph = network_to_graph(source)
    elif type(source).__name__ == "ModelProto":
        return _onnx(source, calibration, mean, std)
    elif isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if not path.exists() and str(source) in NATIVE_NAMES:
            from accel.nn.model_file import load_default
            graph = network_to_graph(load_default(str(source)))
        elif not path.exists():
            raise ValueError(f"no model {str(source)!r}: no such file (give an .onnx file, an "
                             f"accelgen .npz model file, or one of {', '.join(NATIVE_NAMES)})")
        elif path.suffix.lower() != ".npz":
            return _onnx(path, calibration, mean, std)
        else:
            graph = _npz(path)
    else:
        raise ValueError(f"cannot load a model from a {type(source).__name__}")
    if onnx_options:
        raise ValueError(f"{graph.name}: --calibration, --mean and --std apply to ONNX models "
                         "only (this one is already an accelgen model)")
    return graph


def _onnx(source, calibration, mean, std) -> Graph:
    from accel.frontend.onnx import load_onnx

    return load_onnx(source, calibration=calibration, mean=0.0 if mean is None else mean,
                     std=1.0 if std is None else std)


def _npz(path: Path) -> Graph:
    from accel.compiler.graph_file import is_graph_file, load_graph
    from accel.nn.model_file import load
    from accel.nn.to_graph import network_to_graph

    if is_graph_file(path):
        return load_graph(path)
    return network_to_graph(load(path))


@dataclass(frozen=True)
class ModelRun:
    """What `CompiledModel.run` returns for a batch of inputs.

    Members
    -------
    outputs : ndarray of float
        ``(n, ...)``: dequantized outputs in the model's layout, after its softmax/argmax.
    raw : ndarray of int
        ``(n, ...)``: the integer outputs (int8, or int32 accumulators), in the graph's layout.
    cycles : list of int or None
        Per input, on the rtl (accelerator alone) and soc (whole inference) backends.
    backend : str
    """

    outputs: np.ndarray
    raw: np.ndarray
    cycles: list[int] | None
    backend: str


@dataclass(frozen=True, eq=False)
class CompiledModel:
    """A graph compiled for one configuration (see the module docstring).

    Members
    -------
    graph : Graph
    config : AccelConfig
    compiled : accel.compiler.lower.CompiledGraph
    """

    graph: Graph
    config: AccelConfig
    compiled: object

    def info(self, predict: bool = True) -> list[dict]:
        """Per-layer rows: name, op, shape, MACs, accelerator MACs, where it runs and the cycle
        model's cycles (`accel.compiler.lower.CompiledGraph.table`)."""
        return self.compiled.table(predict=predict)

    def quantize(self, x) -> np.ndarray:
        """The int8 input tensors ``(n, h, w, c)`` (or ``(n, features)``) of a batch of inputs
        (see the module docstring for what ``x`` may be).

        Raises
        ------
        ValueError
            An input of the wrong shape or type.
        """
        from accel.compiler.pixels import quantize_pixels

        x = np.asarray(x)
        tensor = self.graph.input_tensor
        shape = tensor.shape
        if x.dtype == np.uint8:
            q = quantize_pixels(self.graph, x)
            return q.reshape((-1,) + shape)
        if not (np.issubdtype(x.dtype, np.floating) or np.issubdtype(x.dtype, np.integer)):
            raise ValueError(f"inputs must be uint8 pixels or numbers, not {x.dtype}")
        if self.graph.metadata.get("input_layout") == "NCHW" and len(shape) == 3:
            chw = (shape[2], shape[0], shape[1])
            if x.shape[-3:] == chw:
                x = np.moveaxis(x.reshape((-1,) + chw), 1, 3)
        if x.shape[-len(shape):] != shape:
            raise ValueError(f"{self.graph.name} takes inputs of shape {shape} (HWC) or its "
                             f"ONNX layout, not {x.shape}")
        return tensor.quantize(x.astype(np.float64)).reshape((-1,) + shape)

    def _as_pixels(self) -> tuple[Graph, object]:
        """A view of the model whose "pixels" are int8 inputs plus 128 (`accel.compiler.pixels`
        kind ``int8``): quantized inputs take every backend's pixel path unchanged."""
        metadata = dict(self.graph.metadata, pixels={"kind": "int8"})
        graph = dataclasses.replace(self.graph, metadata=metadata)
        return graph, dataclasses.replace(self.compiled, graph=graph)

    def run(self, x, backend: str = "golden", *, simulator: str = "verilator",
            progress: Callable[[int], None] | None = None) -> ModelRun:
        """Run a batch of inputs on ``backend`` ("golden", "rtl" or "soc").

        Raises
        ------
        ValueError
            Bad inputs or an unknown backend.
        RuntimeError
            A simulator failure, or hardware output that differs from the golden model's.
        """
        if backend not in BACKENDS:
            raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, not {backend!r}")
        q = self.quantize(x)
        images = [(v.astype(np.int64) + 128).astype(np.uint8) for v in q]
        graph, compiled = self._as_pixels()
        if backend == "golden":
            from accel.runtime.target import as_target, run_golden
            results = run_golden(as_target(compiled), images, progress=progress)
        elif backend == "rtl":
            from accel.runtime.network_rtl import run_rtl
            results = run_rtl(compiled, images, simulator=simulator, progress=progress)
        else:
            from accel.runtime.network_soc import run_soc
            results = run_soc(graph, self.config, images, simulator=simulator,
                              progress=progress)
        out = self.graph.output_tensor
        raw = np.stack([np.asarray(r.logits) for r in results]).reshape((-1,) + out.shape) \
            if results else np.zeros((0,) + out.shape, dtype=np.int64)
        cycles = None if backend == "golden" else [int(r.cycles) for r in results]
        return ModelRun(self.dequantize(raw), raw, cycles, backend)

    def dequantize(self, raw: np.ndarray) -> np.ndarray:
        """Float outputs of raw integer outputs ``(n, ...)``, in the model's layout, after its
        softmax or argmax."""
        out = self.graph.output_tensor
        values = out.dequantize(raw)
        if self.graph.metadata.get("output_layout") == "NCHW" and values.ndim == 4:
            values = np.moveaxis(values, 3, 1)
        if self.graph.postprocess == "softmax":
            flat = values.reshape(len(values), -1)
            flat = np.exp(flat - flat.max(axis=1, keepdims=True))
            values = (flat / flat.sum(axis=1, keepdims=True)).reshape(values.shape)
        elif self.graph.postprocess == "argmax":
            values = values.reshape(len(values), -1).argmax(axis=1).astype(np.float64)
        return values


def compile_model(model, config: AccelConfig | None = None, *, calibration=None,
                  mean: float | None = None, std: float | None = None,
                  base: int = 0) -> CompiledModel:
    """Load ``model`` (`load_model`) and compile it for ``config`` (default `AccelConfig()`).

    Raises
    ------
    ValueError
        The model does not load, or does not fit the configuration (one line).
    """
    from accel.compiler.lower import compile_graph

    graph = load_model(model, calibration=calibration, mean=mean, std=std)
    config = AccelConfig() if config is None else config
    # plain int8 input loads: `CompiledModel.run` feeds every backend quantized inputs through
    # an int8 pixel view of this same compilation (`_as_pixels`)
    return CompiledModel(graph, config, compile_graph(graph, config, base=base,
                                                      pixel_codes=False))
