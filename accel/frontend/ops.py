"""The float ops of float and QDQ models: each makes a `Pending` result (or folds into one).

A Conv/Gemm/MatMul reads a quantized input (`Walker.fview`) and constant weights: real ones in a
float model (quantized when the result is), a DequantizeLinear of integers in a QDQ model.
Relu, Clip, BatchNormalization and a bias Add of a constant fold into the pending result;
MaxPool keeps its input's quantization; Softmax/ArgMax at the end become graph.postprocess.
"""

from __future__ import annotations

import numpy as np

from accel.frontend import layout as lay
from accel.frontend.attrs import geometry
from accel.frontend.errors import node_error
from accel.frontend.values import Const, FView, Pending, Post, QConst, QValue, replace

__all__ = ["FLOAT_HANDLERS", "conv_params", "dense_rows", "per_channel", "avgpool_params"]


def _spatial(w, node, value: QValue) -> tuple[int, int, int]:
    if not lay.is_canonical(value.layout, 4):
        raise node_error(node, "needs an NCHW tensor (a layout op before it changed the order)")
    return w.builder.tensors[value.tensor].shape


def _weight_parts(w, node, value, graph_axes) -> tuple[np.ndarray, np.ndarray | None]:
    """A constant weight transposed to graph layout: (real or int values, per-output scale)."""
    if isinstance(value, Const):
        return np.asarray(value.array, dtype=np.float64).transpose(graph_axes), None
    if np.any(value.zero_point != 0):
        raise node_error(node, "a weight zero point other than 0 is not supported")
    q, scale = value.q.transpose(graph_axes), value.scale.transpose(graph_axes)
    per_out = scale.reshape(-1, scale.shape[-1])
    if not np.allclose(per_out, per_out[0], rtol=1e-7):
        raise node_error(node, "weight scales must be per tensor or per output channel")
    if q.min(initial=0) < -128 or q.max(initial=0) > 127:
        raise node_error(node, "weights must be 8-bit")
    return q, per_out[0].copy()


def _bias_parts(w, node, index: int, count: int):
    if len(node.input) <= index or not node.input[index]:
        return None, None
    value = w.get(node, node.input[index])
    if isinstance(value, QConst) and value.q.size in (1, count):
        if np.any(value.zero_point != 0):
            return np.broadcast_to(value.real().reshape(-1), (count,)).copy(), None
        return (np.broadcast_to(value.q.reshape(-1), (count,)).copy(),
                np.broadcast_to(value.scale.reshape(-1), (count,)).copy())
    if isinstance(value, Const) and value.array.size in (1, count):
        return np.broadcast_to(np.asarray(value.array, float).reshape(-1), (count,)).copy(), None
    raise node_error(node, f"bias {node.input[index]!r} must be a constant of {count} values")


def conv_params(w, node, attrs, shape, weight_shape) -> dict:
    """Stride, pads and groups of a Conv over a graph tensor of ``shape`` (h, w, c)."""
    cout, cin_g, kh, kw = weight_shape
    groups = int(attrs.get("group", 1))
    if groups < 1 or shape[2] != cin_g * groups or cout % groups:
        raise node_error(node, f"a weight of shape {list(weight_shape)} with group {groups} "
                               f"does not fit {shape[2]} input channels")
    geo = geometry(node, attrs, shape[:2], (kh, kw), pooling=False)
    return {"stride": geo.stride, "pads": geo.pads, "groups": groups}


def _conv(w, node, attrs):
    x = w.fview(node, node.input[0]).value
    shape = _spatial(w, node, x)
    raw = w.weight(node, node.input[1], "the weight")
    weight_shape = (raw.array if isinstance(raw, Const) else raw.q).shape
    if len(weight_shape) != 4:
        raise node_error(node, f"only 2-D convolutions are supported (weight of rank "
                               f"{len(weight_shape)})")
    params = conv_params(w, node, attrs, shape, weight_shape)
    weight, wscale = _weight_parts(w, node, raw, (2, 3, 1, 0))
    bias, bscale = _bias_parts(w, node, 2, weight_shape[0])
    return [Pending("conv", node, (x,), node.output[0], weight, wscale, bias, bscale, params)]


def dense_rows(w, node, x: QValue) -> np.ndarray:
    """Graph rows of the ONNX features of ``x``: its layout as a (1, k) or (k,) vector."""
    layout = x.layout
    if layout.ndim == 2 and layout.shape[0] == 1:
        layout = layout[0]
    size = w.builder.tensors[x.tensor].size
    if layout.ndim != 1 or not np.array_equal(np.sort(layout), np.arange(size)):
        raise node_error(node, f"needs a (1, features) input, not shape {list(x.layout.shape)}")
    return layout


def _dense(w, node, x_name: str, b_name: str, trans_a: bool, trans_b: bool, bias_index: int):
    x = w.fview(node, x_name).value
    if trans_a:
        x = QValue(x.tensor, x.layout.T)
    rows = dense_rows(w, node, x)
    raw = w.weight(node, b_name, "the weight")
    arr = raw.array if isinstance(raw, Const) else raw.q
    if arr.ndim != 2:
        raise node_error(node, f"the weight must be a matrix, not shape {list(arr.shape)}")
    axes = (1, 0) if trans_b else (0, 1)
    weight, wscale = _weight_parts(w, node, raw, axes)
    if weight.shape[0] != rows.size:
        raise node_error(node, f"a weight of {weight.shape[0]} rows for {rows.size} features")
    graph_weight = np.empty_like(weight)
    graph_weight[rows] = weight  # ONNX feature k is row rows[k] of the graph tensor
    bias, bscale = _bias_parts(w, node, bias_index, weight.shape[1])
    return [Pending("dense", node, (x,), node.output[0], graph_weight, wscale, bias, bscale)]


def _gemm(w, node, attrs):
    if float(attrs.get("alpha", 1.0)) != 1.0 or float(attrs.get("beta", 1.0)) != 1.0:
        raise node_error(node, "alpha and beta must be 1")
    return _dense(w, node, node.input[0], node.input[1], bool(attrs.get("transA", 0)),
                  bool(attrs.get("transB", 0)), 2)


def _matmul(w, node, attrs):
    return _dense(w, node, node.input[0], node.input[1], False, False, 99)


def per_channel(const: np.ndarray, count: int, spatial: bool) -> np.ndarray | None:
    """A broadcast constant as one value per channel (``count`` of them), or None if it is
    not one: a scalar, ``(c,)`` or ``(1, c)`` for a vector, ``(c, 1, 1)`` or ``(1, c, 1, 1)``
    for an NCHW tensor."""
    arr = np.asarray(const, dtype=np.float64)
    if arr.size == 1:
        return np.full(count, float(arr.reshape(())))
    axis = -3 if spatial else -1
    if arr.ndim >= -axis and arr.shape[axis] == count and arr.size == count:
        return arr.reshape(-1)
    return None


def _add(w, node, attrs):
    values = [w.get(node, n) for n in node.input]
    consts = [isinstance(v, (Const, QConst)) for v in values]
    if consts == [False, False]:
        a, b = (w.fview(node, n).value for n in node.input)
        if w.builder.tensors[a.tensor].shape != w.builder.tensors[b.tensor].shape or \
                not np.array_equal(a.layout, b.layout):
            raise node_error(node, "adds two tensors of different shapes or layouts (only "
                                   "equal shapes, no broadcast)")
        return [Pending("add", node, (a, b), node.output[0])]
    if all(consts):
        raise node_error(node, "adds two constants")  # folded before; only QConst get here
    other = values[consts.index(False)]
    const = values[consts.index(True)]
    real = const.real() if isinstance(const, QConst) else const.array
    if isinstance(other, Pending) and other.op in ("conv", "dense") and not other.relu and \
            other.clip is None and other.weight_scale is None:  # fold into a float layer's bias
        per = per_channel(real, other.weight.shape[-1], other.op == "conv")
        if per is not None:
            bias = per if other.bias is None else other.bias + per
            return [replace(other, bias=bias, name=node.output[0])]
    x = w.fview(node, node.input[consts.index(False)]).value
    shape = w.builder.tensors[x.tensor].shape
    per = per_channel(real, shape[-1], len(shape) == 3)
    if per is None or not (lay.is_canonical(x.layout, 4) or lay.is_canonical(x.layout, 2)):
        raise node_error(node, "adds a constant that is not one value per channel")
    return [Pending("bias", node, (x,), node.output[0], bias=per)]


def _activation_source(w, node) -> Pending:
    """The pending result a Relu/Clip fuses into; after anything else (a MaxPool, the input),
    an identity layer (`Pending` ``"bias"`` with no bias) that applies it."""
    value = w.get(node, node.input[0])
    if isinstance(value, Pending):
        return value
    x = w.fview(node, node.input[0]).value
    if not (lay.is_canonical(x.layout, 4) or lay.is_canonical(x.layout, 2)):
        raise node_error(node, "needs an NCHW or (batch, features) tensor")
    return Pending("bias", node, (x,), node.output[0])


def _relu(w, node, attrs):
    value = _activation_source(w, node)
    return [replace(value, relu=True, name=node.output[0])]


def _clip(w, node, attrs):
    value = _activation_source(w, node)
    if "min" in attrs or "max" in attrs:
        low, high = attrs.get("min", -np.inf), attrs.get("max", np.inf)
    else:
        low = w.optional_const(node, 1, "the minimum")
        high = w.optional_const(node, 2, "the maximum")
        low = -np.inf if low is None else float(low)
        high = np.inf if high is None else float(high)
    if value.clip is not None:
        low, high = max(low, value.clip[0]), min(high, value.clip[1])
    return [replace(value, clip=(float(low), float(high)), name=node.output[0],
                    clip_node=node)]


def _batchnorm(w, node, attrs):
    value = w.get(node, node.input[0])
    if not (isinstance(value, Pending) and value.op == "conv" and not value.relu
            and value.clip is None):
        raise node_error(node, "must directly follow a Conv (it is folded into it; fold it "
                               "before quantizing, e.g. onnxruntime quant_pre_process)")
    gamma, beta, mean, var = (np.asarray(w.const(node, n, "a parameter"), dtype=np.float64)
                              for n in node.input[1:5])
    factor = gamma / np.sqrt(var + float(attrs.get("epsilon", 1e-5)))
    bias = np.zeros_like(mean) if value.bias is None else value.bias * (
        1.0 if value.bias_scale is None else value.bias_scale)
    if value.weight_scale is None:  # real weights: scale them
        weight, wscale = value.weight * factor, None
    else:  # integer weights: the factor moves into the per-channel scale (its sign into them)
        weight = value.weight * np.where(factor < 0, -1, 1)
        wscale = value.weight_scale * np.abs(factor)
    return [replace(value, weight=weight, weight_scale=wscale, bias=(bias - mean) * factor + beta,
                    bias_scale=None, name=node.output[0])] + [None] * (len(node.output) - 1)


def _maxpool(w, node, attrs):
    if len(node.output) > 1 and node.output[1]:
        raise node_error(node, "the Indices output is not supported")
    x = w.fview(node, node.input[0]).value
    shape = _spatial(w, node, x)
    kernel = tuple(int(k) for k in attrs["kernel_shape"])
    geo = geometry(node, attrs, shape[:2], kernel, pooling=True)
    return [FView(w.builder.maxpool(node, x, geo, node.output[0]))]


def avgpool_params(w, node, attrs, x: QValue, global_pool: bool) -> dict:
    shape = _spatial(w, node, x)
    if global_pool:
        attrs = {}
        kernel = shape[:2]
    else:
        kernel = tuple(int(k) for k in attrs["kernel_shape"])
    geo = geometry(node, attrs, shape[:2], kernel, pooling=True)
    include = bool(attrs.get("count_include_pad", 0))
    if include and geo.extra:
        raise node_error(node, "ceil_mode with count_include_pad is not supported")
    return {"geometry": geo, "count_include_pad": include}


def _avgpool(w, node, attrs):
    x = w.fview(node, node.input[0]).value
    params = avgpool_params(w, node, attrs, x, node.op_type == "GlobalAveragePool")
    return [Pending("avgpool", node, (x,), node.output[0], params=params)]


def _post(w, node, attrs):
    axis = int(attrs.get("axis", -1 if node.op_type == "Softmax" else 0))
    value = w.get(node, node.input[0])
    base = value if isinstance(value, (Pending, QValue)) else value.value \
        if isinstance(value, FView) else None
    if base is None:
        raise node_error(node, "needs a computed input")
    if axis not in (-1, 1):
        raise node_error(node, f"axis {axis} is not the feature axis (1 or -1)")
    if not w.feeds_output(node.output[0]):
        raise node_error(node, "must be the last node")
    w.postprocess = node.op_type.lower()
    return [Post(w.postprocess, value)]


FLOAT_HANDLERS = {
    "Conv": _conv, "Gemm": _gemm, "MatMul": _matmul, "Add": _add, "Relu": _relu,
    "Clip": _clip, "BatchNormalization": _batchnorm, "MaxPool": _maxpool,
    "AveragePool": _avgpool, "GlobalAveragePool": _avgpool, "Softmax": _post, "ArgMax": _post,
}
