"""The QOperator ops (QLinearConv, QLinearMatMul, com.microsoft QGemm, QLinearAdd,
QLinearAveragePool, QLinearGlobalAveragePool, QLinearSoftmax) and MaxPool of a quantized
tensor: each input's and output's quantization is given, so each builds its graph node at once.
"""

from __future__ import annotations

import numpy as np

from accel.frontend import ops
from accel.frontend.errors import node_error
from accel.frontend.values import Const, FView, Pending, Post, QConst, QValue

__all__ = ["QOPERATOR_HANDLERS"]


def _input(w, node, index: int) -> QValue:
    """Input ``index`` (followed by its scale and zero point), checked against its tensor."""
    value = w.qvalue(node, node.input[index])
    scale, zp = w.quant_params(node, node.input[index + 1], node.input[index + 2])
    w.same_quant(node, value, scale, zp)
    return value


def _weight(w, node, index: int) -> QConst:
    q = w.const(node, node.input[index], "the weight")
    scale = np.asarray(w.const(node, node.input[index + 1], "the weight scale"), np.float64)
    zp = np.asarray(w.const(node, node.input[index + 2], "the weight zero point"))
    if q.dtype not in (np.int8, np.uint8) or np.any(zp != 0) or q.dtype == np.uint8:
        raise node_error(node, "weights must be int8 with zero point 0 (a weight zero point "
                               "other than 0 is not supported)")
    return q, scale


def _finish(w, node, pending: Pending, index: int) -> list:
    scale, zp = w.quant_params(node, node.input[index], node.input[index + 1]
                               if len(node.input) > index + 1 else None)
    return [w.builder.finalize(pending, scale, zp, node.output[0])]


def _qlinearconv(w, node, attrs):
    x = _input(w, node, 0)
    q, scale = _weight(w, node, 3)
    if q.ndim != 4:
        raise node_error(node, "only 2-D convolutions are supported")
    params = ops.conv_params(w, node, attrs, w.builder.tensors[x.tensor].shape, q.shape)
    cout = q.shape[0]
    wscale = np.broadcast_to(scale.reshape(-1), (cout,)).copy()
    x_scale = w.builder.tensors[x.tensor].scale
    bias = w.optional_const(node, 8, "the bias")
    bias = None if bias is None else np.asarray(bias, np.int64).reshape(-1)
    pending = Pending("conv", node, (x,), node.output[0], q.transpose(2, 3, 1, 0).astype(int),
                      wscale, bias, None if bias is None else x_scale * wscale, params)
    return _finish(w, node, pending, 6)


def _dense(w, node, x: QValue, q: np.ndarray, scale: np.ndarray, bias, trans_b: bool):
    rows = ops.dense_rows(w, node, x)
    weight = (q.T if trans_b else q).astype(np.int64)
    if weight.shape[0] != rows.size:
        raise node_error(node, f"a weight of {weight.shape[0]} rows for {rows.size} features")
    graph_weight = np.empty_like(weight)
    graph_weight[rows] = weight
    n = weight.shape[1]
    wscale = np.broadcast_to(scale.reshape(-1), (n,)).copy()
    x_scale = w.builder.tensors[x.tensor].scale
    bias_scale = None if bias is None else x_scale * wscale
    return Pending("dense", node, (x,), node.output[0], graph_weight, wscale, bias, bias_scale)


def _qlinearmatmul(w, node, attrs):
    x = _input(w, node, 0)
    q, scale = _weight(w, node, 3)
    if q.ndim != 2:
        raise node_error(node, "the weight must be a matrix")
    return _finish(w, node, _dense(w, node, x, q, scale, None, False), 6)


def _qgemm(w, node, attrs):
    if float(attrs.get("alpha", 1.0)) != 1.0:
        raise node_error(node, "alpha must be 1")
    x = _input(w, node, 0)
    if attrs.get("transA", 0):
        x = QValue(x.tensor, x.layout.T)
    q, scale = _weight(w, node, 3)
    bias = w.optional_const(node, 6, "the bias")
    if bias is not None:
        bias = np.broadcast_to(np.asarray(bias, np.int64).reshape(-1),
                               ((q.shape[0] if attrs.get("transB", 0) else q.shape[1]),)).copy()
    pending = _dense(w, node, x, q, scale, bias, bool(attrs.get("transB", 0)))
    if len(node.input) <= 7 or not node.input[7]:
        return [FView(w.builder.dense_int32(pending, node.output[0]))]
    return _finish(w, node, pending, 7)


def _qlinearadd(w, node, attrs):
    a = w.get(node, node.input[0])
    b = w.get(node, node.input[3])
    if isinstance(a, QValue) and isinstance(b, QValue):
        x, y = _input(w, node, 0), _input(w, node, 3)
        if w.builder.tensors[x.tensor].shape != w.builder.tensors[y.tensor].shape or \
                not np.array_equal(x.layout, y.layout):
            raise node_error(node, "adds tensors of different shapes (no broadcast)")
        return _finish(w, node, Pending("add", node, (x, y), node.output[0]), 6)
    index = 3 if isinstance(a, QValue) else 0
    other = 0 if index == 3 else 3
    x = _input(w, node, other)
    if not isinstance(w.get(node, node.input[index]), Const):
        raise node_error(node, "adds something that is neither a tensor nor a constant")
    q = w.const(node, node.input[index], "the constant")
    scale = np.asarray(w.const(node, node.input[index + 1], "scale"), np.float64)
    zp = np.asarray(w.const(node, node.input[index + 2], "zero point"), np.float64)
    real = scale * (q.astype(np.float64) - zp)
    shape = w.builder.tensors[x.tensor].shape
    per = ops.per_channel(real, shape[-1], len(shape) == 3)
    if per is None:
        raise node_error(node, "adds a constant that is not one value per channel")
    return _finish(w, node, Pending("bias", node, (x,), node.output[0], bias=per), 6)


def _qlinearavgpool(w, node, attrs):
    if attrs.get("channels_last", 0):
        raise node_error(node, "channels_last is not supported")
    x = _input(w, node, 0)
    params = ops.avgpool_params(w, node, attrs, x, node.op_type == "QLinearGlobalAveragePool")
    return _finish(w, node, Pending("avgpool", node, (x,), node.output[0], params=params), 3)


def _maxpool(w, node, attrs):
    w.qvalue(node, node.input[0])
    (result,) = ops.FLOAT_HANDLERS["MaxPool"](w, node, attrs)
    return [result.value]


def _qsoftmax(w, node, attrs):
    if not w.feeds_output(node.output[0]):
        raise node_error(node, "must be the last node")
    w.postprocess = "softmax"
    return [Post("softmax", w.qvalue(node, node.input[0]))]


QOPERATOR_HANDLERS = {
    "QLinearConv": _qlinearconv, "QLinearMatMul": _qlinearmatmul,
    "com.microsoft.QGemm": _qgemm, "com.microsoft.QLinearAdd": _qlinearadd,
    "com.microsoft.QLinearAveragePool": _qlinearavgpool,
    "com.microsoft.QLinearGlobalAveragePool": _qlinearavgpool,
    "com.microsoft.QLinearSoftmax": _qsoftmax,
    "MaxPool": _maxpool, "Softmax": ops.FLOAT_HANDLERS["Softmax"],
    "Relu": ops.FLOAT_HANDLERS["Relu"], "Clip": ops.FLOAT_HANDLERS["Clip"],
    "ArgMax": ops.FLOAT_HANDLERS["ArgMax"],
}
