"""Reading an ONNX model: parse, check, infer shapes, find its opset, form and input.

Every failure is a one-line `FrontendError` raised before anything is imported.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import onnx
from onnx import numpy_helper

from accel.frontend.errors import FrontendError

__all__ = ["OPSETS", "QOPERATOR_OPS", "Model", "read_model"]

#: Default-domain opsets the front end reads.
OPSETS = range(7, 22)
#: Ops that make a model a QOperator model.
QOPERATOR_OPS = {"QLinearConv", "QLinearMatMul", "QGemm", "QLinearAdd", "QLinearAveragePool",
                 "QLinearGlobalAveragePool", "QLinearSoftmax"}


@dataclass(frozen=True)
class Model:
    """A checked model.

    Members
    -------
    proto : onnx.ModelProto
        With inferred shapes.
    source : str
        The file name (or the graph name of an in-memory model).
    opset : int
    form : str
        ``"float"``, ``"qdq"`` or ``"qoperator"``.
    input : str
        The one float input, NCHW ``(batch, c, h, w)`` or ``(batch, features)``.
    input_shape : tuple of int
        Without the batch axis.
    input_layout : str
        ``"NCHW"``, ``"NHWC"`` (the input goes through a Transpose to NCHW first, as
        TensorFlow exporters write it) or ``"NC"``.
    output : str
    constants : dict of str -> ndarray
        The initializers.
    """

    proto: onnx.ModelProto
    source: str
    opset: int
    form: str
    input: str
    input_shape: tuple
    output: str
    constants: dict
    input_layout: str = "NCHW"


def _parse(model) -> tuple[onnx.ModelProto, str]:
    if isinstance(model, onnx.ModelProto):
        return model, model.graph.name or "model"
    if not isinstance(model, (str, os.PathLike)):
        raise FrontendError(f"model must be a path or an onnx.ModelProto, not "
                            f"{type(model).__name__}")
    path = os.fspath(model)
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as exc:
        raise FrontendError(f"{path}: cannot read the model ({exc.strerror or exc})") from None
    proto = onnx.ModelProto()
    try:
        proto.ParseFromString(data)
    except Exception:  # noqa: BLE001 - protobuf raises DecodeError or RuntimeWarning-like errors
        raise FrontendError(f"{path}: not an ONNX model (the protobuf does not parse)") from None
    if not proto.graph.node:
        raise FrontendError(f"{path}: not an ONNX model (no graph nodes)")
    return proto, os.path.basename(path)


def _first_line(exc: Exception) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__


def read_model(model) -> Model:
    """Parse and check ``model`` (a path or a ModelProto).

    Raises
    ------
    FrontendError
        An unreadable or malformed file, a model the ONNX checker rejects, an opset outside
        7..21, not exactly one input and one output, an input that is not float NCHW (rank 4) or
        (batch, features), or dimensions other than the batch that are not fixed.
    """
    proto, source = _parse(model)
    try:
        onnx.checker.check_model(proto)
    except Exception as exc:  # noqa: BLE001 - ValidationError and friends
        raise FrontendError(f"{source}: the ONNX checker rejects the model: "
                            f"{_first_line(exc)}") from None
    opset = next((o.version for o in proto.opset_import if o.domain in ("", "ai.onnx")), None)
    if opset is None or opset not in OPSETS:
        raise FrontendError(f"{source}: opset {opset} is not supported (only "
                            f"{OPSETS.start}..{OPSETS.stop - 1})")
    try:
        proto = onnx.shape_inference.infer_shapes(proto)
    except Exception as exc:  # noqa: BLE001
        raise FrontendError(f"{source}: shape inference fails: {_first_line(exc)}") from None
    graph = proto.graph
    constants = {init.name: numpy_helper.to_array(init) for init in graph.initializer}
    inputs = [i for i in graph.input if i.name not in constants]
    if len(inputs) != 1 or len(graph.output) != 1:
        raise FrontendError(f"{source}: the model must have one input and one output, not "
                            f"{len(inputs)} and {len(graph.output)}")
    info = inputs[0]
    if info.type.tensor_type.elem_type != onnx.TensorProto.FLOAT:
        raise FrontendError(f"{source}: input {info.name!r} must be float32")
    dims = info.type.tensor_type.shape.dim
    if len(dims) not in (2, 4):
        raise FrontendError(f"{source}: input {info.name!r} has rank {len(dims)}; it must be "
                            "NCHW (rank 4) or (batch, features) (rank 2)")
    if dims[0].HasField("dim_value") and dims[0].dim_value < 1:
        raise FrontendError(f"{source}: input {info.name!r} has an empty batch")
    shape = []
    for dim in dims[1:]:
        if not dim.HasField("dim_value") or dim.dim_value < 1:
            raise FrontendError(f"{source}: input {info.name!r} has dynamic shapes "
                                f"({_dims(dims)}); only the batch may be symbolic")
        shape.append(int(dim.dim_value))
    ops = {node.op_type for node in graph.node}
    form = "qoperator" if ops & QOPERATOR_OPS else \
        "qdq" if ops & {"QuantizeLinear", "DequantizeLinear"} else "float"
    return Model(proto, source, int(opset), form, info.name, tuple(shape), graph.output[0].name,
                 {k: np.asarray(v) for k, v in constants.items()},
                 _input_layout(graph, info.name, len(dims)))


def _input_layout(graph, name: str, rank: int) -> str:
    """``"NHWC"`` when every path from the input (through QuantizeLinear, DequantizeLinear and
    Identity) reaches a Transpose to NCHW first; else ``"NCHW"`` (``"NC"`` for rank 2)."""
    if rank == 2:
        return "NC"
    frontier, seen = [name], set()
    transposes = 0
    while frontier:
        current = frontier.pop()
        for node in graph.node:
            key = node.name or node.output[0]
            if current not in node.input or key in seen:
                continue
            seen.add(key)
            perm = next((list(a.ints) for a in node.attribute if a.name == "perm"), None)
            if node.op_type == "Transpose" and perm == [0, 3, 1, 2]:
                transposes += 1
            elif node.op_type in ("QuantizeLinear", "DequantizeLinear", "Identity"):
                frontier.append(node.output[0])
            else:
                return "NCHW"
    return "NHWC" if transposes else "NCHW"


def _dims(dims) -> str:
    return "x".join(d.dim_param or str(d.dim_value) if (d.dim_param or d.HasField("dim_value"))
                    else "?" for d in dims)
