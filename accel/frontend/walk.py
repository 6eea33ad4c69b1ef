"""The import walk: ONNX nodes in order, each name bound to what it stands for
(`accel.frontend.values`), constant subgraphs folded, layout-only ops tracked, graph nodes built
(`accel.frontend.emit`).

The op handlers live in `accel.frontend.ops` (the float ops of float and QDQ models),
`accel.frontend.qlinear` (QOperator ops) and here (constants, layout, Q/DQ, Identity).
"""

from __future__ import annotations

import numpy as np
from onnx.reference import ReferenceEvaluator

from accel.compiler.graph import Graph, GraphError
from accel.frontend import layout as lay
from accel.frontend.attrs import attributes
from accel.frontend.emit import GraphBuilder
from accel.frontend.errors import FrontendError, node_error
from accel.frontend.loader import Model
from accel.frontend.values import Const, FView, Input, Pending, Post, QConst, QValue

__all__ = ["LAYOUT_OPS", "Walker"]

LAYOUT_OPS = ("Flatten", "Reshape", "Transpose", "Squeeze", "Unsqueeze")
#: Ops folded when every input is constant (never the quantization ops: their integers matter).
NOT_FOLDED = {"DequantizeLinear"}
INT8_TYPES = {np.dtype(np.int8): 0, np.dtype(np.uint8): 128}


def _op_key(node) -> str:
    return node.op_type if node.domain in ("", "ai.onnx") else f"{node.domain}.{node.op_type}"


def _unsupported(node, handlers: dict) -> FrontendError:
    supported = ", ".join(sorted(handlers))
    return node_error(node, f"op is not supported here (supported: {supported})")


def check_ops(model, handlers: dict) -> None:
    """Refuse the first node the walk would refuse for its op type alone, before calibration
    spends time on the model: a node that reads a computed value (not only initializers and
    constant subgraphs, which are folded) and has no handler.

    Raises
    ------
    FrontendError
        One line naming the node, its op type and the supported set.
    """
    constant = set(model.constants)
    for node in model.proto.graph.node:
        key = _op_key(node)
        inputs = [n for n in node.input if n]
        if key == "Shape" or key not in NOT_FOLDED and node.domain in ("", "ai.onnx") and \
                all(n in constant for n in inputs):
            constant.update(node.output)  # shapes are static: the walk knows them
        elif key not in handlers:
            raise _unsupported(node, handlers)


class Walker:
    """One import of ``model``.

    Parameters
    ----------
    model : Model
    ranges : dict of str -> (low, high), optional
        Calibrated real ranges of float tensors (float models only).
    input_quant : (scale, zero_point), optional
        The int8 quantization of a float model's input.
    """

    def __init__(self, model: Model, ranges: dict | None = None,
                 input_quant: tuple[float, int] | None = None) -> None:
        self.model, self.form = model, model.form
        self.ranges = ranges or {}
        self.builder = GraphBuilder()
        self.env: dict[str, object] = {k: Const(v) for k, v in model.constants.items()}
        self.input_dtype = "int8"
        self.postprocess = None
        if model.form == "float":
            self.input_value = self.input_tensor(*input_quant)
            self.env[model.input] = FView(self.input_value)
        else:
            self.input_value = None
            self.env[model.input] = Input(model.input, model.input_shape, self.input_layout())

    def input_layout(self) -> np.ndarray:
        """The ONNX layout of the graph input (HWC): NCHW, NHWC or a vector."""
        shape = self.model.input_shape
        if self.model.input_layout == "NHWC":
            return np.arange(int(np.prod(shape))).reshape((1,) + shape)
        return lay.canonical(lay.graph_shape((1,) + shape))

    def input_tensor(self, scale: float, zero_point: int, layout=None) -> QValue:
        """The graph input tensor, seen through ``layout`` (default `input_layout`)."""
        shape = self.model.input_shape
        graph_shape = shape if self.model.input_layout == "NHWC" else \
            lay.graph_shape((1,) + shape)
        value = self.builder.tensor(self.model.input, graph_shape, scale, zero_point)
        return QValue(value.tensor, self.input_layout() if layout is None else layout)

    # -- lookups used by the handlers -----------------------------------------------------------

    def get(self, node, name: str):
        if name not in self.env:
            raise node_error(node, f"input {name!r} is not defined (an unused optional output "
                                   "of an earlier node?)")
        return self.env[name]

    def const(self, node, name: str, what: str) -> np.ndarray:
        value = self.get(node, name)
        if not isinstance(value, Const):
            raise node_error(node, f"{what} ({name!r}) must be a constant")
        return value.array

    def optional_const(self, node, index: int, what: str):
        if len(node.input) <= index or not node.input[index]:
            return None
        return self.const(node, node.input[index], what)

    def weight(self, node, name: str, what: str):
        value = self.get(node, name)
        if isinstance(value, Const):
            if not np.issubdtype(value.array.dtype, np.floating):
                raise node_error(node, f"{what} ({name!r}) must be float or dequantized")
            return value
        if isinstance(value, QConst):
            return value
        raise node_error(node, f"{what} ({name!r}) must be a constant")

    def fview(self, node, name: str) -> FView:
        """The real values of a quantized tensor named ``name`` (finalizing a float model's
        pending result with its calibrated range)."""
        value = self.get(node, name)
        if isinstance(value, Pending):
            value = FView(self.finalize(value))
            self.env[name] = value
        if isinstance(value, FView):
            return value
        if isinstance(value, QValue) and self.form == "qoperator":
            return FView(value)
        raise node_error(node, f"input {name!r} is not a quantized tensor here")

    def qvalue(self, node, name: str) -> QValue:
        value = self.get(node, name)
        if isinstance(value, QValue):
            return value
        raise node_error(node, f"input {name!r} must be a quantized tensor")

    def finalize(self, pending: Pending) -> QValue:
        """A float model's pending result, quantized over its calibrated range."""
        if self.form != "float":
            raise node_error(pending.node, f"output {pending.name!r} is not quantized "
                                           "(no QuantizeLinear follows)")
        if pending.name not in self.ranges:
            raise node_error(pending.node, f"no calibrated range for {pending.name!r} (its type "
                                           "is not inferred as float)")
        scale, zp = activation_quant(*self.ranges[pending.name])
        return self.builder.finalize(pending, scale, zp, pending.name)

    def quant_params(self, node, scale_name: str, zp_name: str | None) -> tuple[float, int]:
        """``(scale, int8 zero point)`` of a per-tensor quantization (uint8 shifted by -128)."""
        scale = np.asarray(self.const(node, scale_name, "the scale"), dtype=np.float64)
        if scale.size != 1:
            raise node_error(node, "activations need a per-tensor scale, not "
                                   f"{scale.size} values")
        if zp_name:
            zp = self.const(node, zp_name, "the zero point")
            if zp.dtype not in INT8_TYPES or zp.size != 1:
                raise node_error(node, f"zero point must be one int8 or uint8, not {zp.dtype} "
                                       f"with {zp.size} values")
            return float(scale.reshape(())), int(zp.reshape(())) - INT8_TYPES[zp.dtype]
        return float(scale.reshape(())), -128  # default zero point: uint8 0

    def same_quant(self, node, value: QValue, scale: float, zp: int) -> None:
        tensor = self.builder.tensors[value.tensor]
        if zp != tensor.zero_point or not np.isclose(scale, tensor.scale, rtol=1e-6, atol=0):
            raise node_error(node, f"quantization (scale {scale:g}, zero point {zp}) differs "
                                   f"from its input's ({tensor.scale:g}, {tensor.zero_point})")

    # -- the walk -------------------------------------------------------------------------------

    def run(self, handlers: dict, name: str, metadata: dict) -> Graph:
        for node in self.model.proto.graph.node:
            self.step(node, handlers)
        graph_output = self._output()
        try:
            return Graph(name, self.builder.tensors, tuple(self.builder.nodes),
                         self.input_value.tensor, graph_output.tensor, self.postprocess,
                         metadata)
        except GraphError as exc:
            raise FrontendError(f"{self.model.source}: {exc}") from None

    def step(self, node, handlers: dict) -> None:
        inputs = [n for n in node.input if n]
        key = node.op_type if node.domain in ("", "ai.onnx") else f"{node.domain}.{node.op_type}"
        if key in ("QuantizeLinear", "DequantizeLinear") and \
                isinstance(self.get(node, inputs[0]), Post):
            self.env[node.output[0]] = self.env[inputs[0]]
            return
        for name in inputs:
            if isinstance(self.get(node, name), Post):
                raise node_error(node, f"{self.env[name].kind} must be the last node")
        if key not in NOT_FOLDED and node.domain in ("", "ai.onnx") and \
                all(isinstance(self.env.get(n), Const) for n in inputs):
            self._fold(node)
            return
        if key == "Shape" and isinstance(self.get(node, inputs[0]), Pending):
            self.fview(node, inputs[0])
        if key == "Shape" and isinstance(self.get(node, inputs[0]), (QValue, FView, Input)):
            self.env[node.output[0]] = Const(np.array(self._layout(node, inputs[0]).shape))
            return
        handler = handlers.get(key)
        if handler is None:
            raise _unsupported(node, handlers)
        outputs = handler(self, node, attributes(node))
        for name, value in zip(node.output, outputs):
            if name:
                self.env[name] = value

    def _fold(self, node) -> None:
        feeds = {n: self.env[n].array for n in node.input if n}
        try:
            results = ReferenceEvaluator(node).run(None, feeds)
        except Exception as exc:  # noqa: BLE001 - any evaluation failure is the model's
            raise node_error(node, f"cannot fold the constant: {exc}") from None
        for name, value in zip(node.output, results):
            if name:
                self.env[name] = Const(np.asarray(value))

    def feeds_output(self, name: str) -> bool:
        """True when ``name`` reaches the model output through QuantizeLinear and
        DequantizeLinear nodes only."""
        while name != self.model.output:
            users = [n for n in self.model.proto.graph.node if name in n.input]
            if len(users) != 1 or users[0].op_type not in ("QuantizeLinear", "DequantizeLinear"):
                return False
            name = users[0].output[0]
        return True

    def _layout(self, node, name: str) -> np.ndarray:
        value = self.get(node, name)
        return value.value.layout if isinstance(value, FView) else value.layout

    def _output(self) -> QValue:
        name = self.model.output
        value = self.env.get(name)
        if isinstance(value, Post):
            value = value.source
        if isinstance(value, Pending) and self.form != "float" and value.op == "dense" \
                and not value.relu and value.clip is None:  # unquantized logits: the int32 sums
            value = self.builder.dense_int32(value, name)
        if isinstance(value, Pending):
            value = FView(self.finalize(value))
        if isinstance(value, FView):
            value = value.value
        if not isinstance(value, QValue):
            raise FrontendError(f"{self.model.source}: output {name!r} is not computed by "
                                "supported nodes")
        rank = value.layout.ndim
        if not lay.is_canonical(value.layout, rank) or rank not in (2, 4):
            raise FrontendError(f"{self.model.source}: output {name!r} has a layout other "
                                "than NCHW or (batch, features)")
        return value


def activation_quant(low: float, high: float) -> tuple[float, int]:
    """Asymmetric int8 ``(scale, zero_point)`` of the real range ``[low, high]`` widened to hold
    0 exactly; a non-negative range (a ReLU output) gets zero point -128, all 256 levels."""
    low, high = min(float(low), 0.0), max(float(high), 0.0)
    if high - low < 1e-8:
        high = low + 1e-8
    scale = (high - low) / 255.0
    zp = int(np.clip(np.rint(-128 - low / scale), -128, 127))
    return scale, zp


# -- handlers shared by every form ----------------------------------------------------------------

def _alias(w: Walker, node, attrs) -> list:
    return [w.get(node, node.input[0])]


def _relayout(w: Walker, node, attrs) -> list:
    value = w.get(node, node.input[0])
    if isinstance(value, Pending):
        value = w.fview(node, node.input[0])
    if isinstance(value, Input):  # the float input before its QuantizeLinear
        base = QValue("", value.layout)
    elif isinstance(value, (QValue, FView)):
        base = value if isinstance(value, QValue) else value.value
    else:
        raise node_error(node, f"input {node.input[0]!r} must be a tensor or a constant")
    op = node.op_type
    try:
        if op == "Flatten":
            new = lay.flatten(base.layout, int(attrs.get("axis", 1)))
        elif op == "Reshape":
            shape = attrs["shape"] if "shape" in attrs else w.const(node, node.input[1], "shape")
            new = lay.reshape(base.layout, shape, bool(attrs.get("allowzero", 0)))
        elif op == "Transpose":
            new = lay.transpose(base.layout, attrs.get("perm"))
        else:
            axes = attrs.get("axes")
            if axes is None and len(node.input) > 1 and node.input[1]:
                axes = w.const(node, node.input[1], "axes")
            new = lay.squeeze(base.layout, axes) if op == "Squeeze" else \
                lay.unsqueeze(base.layout, axes)
    except ValueError as exc:
        raise node_error(node, str(exc)) from None
    if isinstance(value, Input):
        return [Input(value.name, value.shape, new)]
    moved = QValue(base.tensor, new)
    return [moved if isinstance(value, QValue) else FView(moved)]


def _quantize(w: Walker, node, attrs) -> list:
    value = w.get(node, node.input[0])
    zp_name = node.input[2] if len(node.input) > 2 else None
    scale, zp = w.quant_params(node, node.input[1], zp_name)
    _check_int8_output(w, node, zp_name)
    if isinstance(value, Input):
        if w.input_value is not None:
            raise node_error(node, "the input is quantized twice")
        w.input_value = w.input_tensor(scale, zp)
        w.input_dtype = "uint8" if _is_uint8(w, node, zp_name) else "int8"
        return [QValue(w.input_value.tensor, value.layout)]  # after any layout ops
    if isinstance(value, Pending):
        return [w.builder.finalize(value, scale, zp, node.output[0])]
    if isinstance(value, FView):
        tensor = w.builder.tensors[value.value.tensor]
        if zp == tensor.zero_point and np.isclose(scale, tensor.scale, rtol=1e-6, atol=0):
            return [value.value]
        # a requantization (e.g. a Relu onnxruntime folded into a MaxPool's output range):
        # an identity layer into the new quantization, the data's layout unchanged
        identity = Pending("bias", node, (value.value,), node.output[0])
        out = w.builder.finalize(identity, scale, zp, node.output[0])
        return [QValue(out.tensor, value.value.layout)]
    raise node_error(node, f"cannot quantize {node.input[0]!r} here")


def _is_uint8(w: Walker, node, zp_name) -> bool:
    return not zp_name or w.const(node, zp_name, "zero point").dtype == np.uint8


def _check_int8_output(w: Walker, node, zp_name) -> None:
    if zp_name is None and "output_dtype" in attributes(node):
        raise node_error(node, "only int8 and uint8 quantization is supported")


def _dequantize(w: Walker, node, attrs) -> list:
    value = w.get(node, node.input[0])
    zp_name = node.input[2] if len(node.input) > 2 and node.input[2] else None
    if isinstance(value, Const):  # a quantized constant: weights, biases
        if attrs.get("block_size", 0):
            raise node_error(node, "blocked quantization is not supported")
        q = value.array
        scale = np.asarray(w.const(node, node.input[1], "the scale"), dtype=np.float64)
        zp = np.asarray(w.const(node, zp_name, "the zero point")) if zp_name else np.zeros(1)
        axis = int(attrs.get("axis", 1))
        axis = axis + q.ndim if axis < 0 else axis
        shape = [1] * q.ndim
        if scale.size > 1:
            shape[axis] = scale.size
        full = np.broadcast_to(scale.reshape(shape), q.shape)
        zfull = np.broadcast_to(zp.astype(np.float64).reshape(shape if zp.size > 1 else [1] *
                                                               q.ndim), q.shape)
        return [QConst(q.astype(np.int64), full, zfull)]
    if isinstance(value, QValue):
        scale, zp = w.quant_params(node, node.input[1], zp_name)
        w.same_quant(node, value, scale, zp)
        return [FView(value)]
    raise node_error(node, f"cannot dequantize {node.input[0]!r} here")


COMMON_HANDLERS = {"Identity": _alias, "Dropout": _alias, "QuantizeLinear": _quantize,
                   "DequantizeLinear": _dequantize, **{op: _relayout for op in LAYOUT_OPS}}
