"""The exact integer reference of a `Graph`: what every backend of a compiled graph must return.

Each node is computed as its docstring in `accel.compiler.graph` defines it, with the
activation unit's arithmetic from `accel.golden.arith` (``round_shift`` rounds half up,
``saturate`` clamps). Accumulators (`Conv2D`, `Dense`) are the accelerator's: int32, wrapping
modulo ``2**32`` (exact whenever the true sum fits int32, which a well-formed model's does).
Products are summed in float64 matrix products, exact because every partial sum stays far below
``2**53`` (an int8 difference times an int8 weight is below ``2**15``).
"""

from __future__ import annotations

import numpy as np

from accel.compiler.graph import (Add, AvgPool, Conv2D, Dense, Graph, MaxPool, Node, Requantize,
                                  Tensor, INT8)
from accel.golden.arith import activate_channels, round_shift, saturate, wrap

__all__ = ["run_reference", "run_reference_all", "conv2d", "dense", "maxpool", "avgpool", "add",
           "check_input"]

#: Accumulator width of the reference (the networks' accelerators have ``acc_width`` 32).
ACC_WIDTH = 32


def check_input(tensor: Tensor, x) -> np.ndarray:
    """``x`` as an int64 array of ``tensor``'s shape and int8 values.

    Raises
    ------
    ValueError
        If ``x`` is not an integer array of that shape with values in -128..127.
    """
    array = np.asarray(x)
    if not (np.issubdtype(array.dtype, np.integer) or array.dtype == np.bool_) \
            or array.shape != tensor.shape:
        raise ValueError(f"input {tensor.name!r} must be an integer array of shape "
                         f"{tensor.shape}, not {array.dtype} with shape {array.shape}")
    array = array.astype(np.int64)
    if array.size and (array.min() < INT8[0] or array.max() > INT8[1]):
        raise ValueError(f"input {tensor.name!r} values must be between {INT8[0]} and "
                         f"{INT8[1]}, not {array.min()}..{array.max()}")
    return array


def _matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Exact integer product of int64 matrices with |entries| < 2**16 (through float64)."""
    return np.rint(a.astype(np.float64) @ b.astype(np.float64)).astype(np.int64)


def _requantize(acc: np.ndarray, requant: Requantize) -> np.ndarray:
    channels = acc.shape[-1]
    requant = requant.channels(channels)
    flat = activate_channels(acc.reshape(-1, channels), multipliers=requant.multiplier,
                             shifts=requant.shift, relu=requant.relu,
                             zero_point=requant.zero_point, acc_width=ACC_WIDTH, out_width=8)
    return flat.reshape(acc.shape)


def _windows(x: np.ndarray, kernel: tuple[int, int], stride: tuple[int, int],
             out_hw: tuple[int, int]) -> np.ndarray:
    """``(oh, ow, c, kh, kw)`` windows of the (already padded) HWC array ``x``."""
    view = np.lib.stride_tricks.sliding_window_view(x, kernel, axis=(0, 1))
    return view[::stride[0], ::stride[1]][:out_hw[0], :out_hw[1]]


def conv2d(node: Conv2D, x: np.ndarray, tensor: Tensor) -> np.ndarray:
    """`Conv2D` of the int8 HWC array ``x`` (quantized as ``tensor``): int64 (oh, ow, cout)."""
    kh, kw, cin_g, cout = node.weight.shape
    oh, ow, _ = node.output_shape(x.shape)
    top, left, bottom, right = node.pads
    diff = np.asarray(x, dtype=np.int64) - tensor.zero_point  # padding reads as real 0
    padded = np.pad(diff, ((top, bottom), (left, right), (0, 0)))
    win = _windows(padded, (kh, kw), node.stride, (oh, ow))  # (oh, ow, cin, kh, kw)
    cout_g = cout // node.groups
    acc = np.empty((oh, ow, cout), dtype=np.int64)
    for g in range(node.groups):
        part = win[:, :, g * cin_g:(g + 1) * cin_g]  # (oh, ow, cin_g, kh, kw)
        patches = part.transpose(0, 1, 3, 4, 2).reshape(oh * ow, kh * kw * cin_g)
        weight = node.weight[..., g * cout_g:(g + 1) * cout_g].reshape(kh * kw * cin_g, cout_g)
        acc[..., g * cout_g:(g + 1) * cout_g] = _matmul(patches, weight).reshape(oh, ow, cout_g)
    acc = wrap(acc + node.bias, ACC_WIDTH)
    return _requantize(acc, node.requant)


def dense(node: Dense, x: np.ndarray, tensor: Tensor) -> np.ndarray:
    """`Dense` of ``x`` flattened in HWC order: int64 (n,), int8 values or raw int32 sums."""
    diff = np.asarray(x, dtype=np.int64).reshape(1, -1) - tensor.zero_point
    if diff.shape[1] != node.weight.shape[0]:
        raise ValueError(f"{node.name}: {node.weight.shape[0]} inputs, not {diff.shape[1]}")
    acc = wrap(_matmul(diff, node.weight)[0] + node.bias, ACC_WIDTH)
    return acc if node.requant is None else _requantize(acc, node.requant)


def maxpool(node: MaxPool, x: np.ndarray) -> np.ndarray:
    """`MaxPool`: padding is -128, which never wins (every window holds a real pixel)."""
    oh, ow, _ = node.output_shape(x.shape)
    top, left, bottom, right = node.pads
    padded = np.pad(np.asarray(x, dtype=np.int64), ((top, bottom), (left, right), (0, 0)),
                    constant_values=INT8[0])
    return _windows(padded, node.kernel, node.stride, (oh, ow)).max(axis=(3, 4))


def avgpool(node: AvgPool, x: np.ndarray, tensor: Tensor, out: Tensor) -> np.ndarray:
    """`AvgPool` with the divisor table; padded positions add nothing (and count only with
    ``count_include_pad``)."""
    oh, ow, _ = node.output_shape(x.shape)
    top, left, bottom, right = node.pads
    pad = ((top, bottom), (left, right), (0, 0))
    diff = np.pad(np.asarray(x, dtype=np.int64) - tensor.zero_point, pad)
    valid = np.pad(np.ones(x.shape[:2] + (1,), dtype=np.int64), pad)
    total = _windows(diff, node.kernel, node.stride, (oh, ow)).sum(axis=(3, 4))
    if node.count_include_pad:
        count = np.full((oh, ow, 1), node.kernel[0] * node.kernel[1], dtype=np.int64)
    else:
        count = _windows(valid, node.kernel, node.stride, (oh, ow)).sum(axis=(3, 4))
    result = np.empty(total.shape, dtype=np.int64)
    for n in np.unique(count):
        where = np.broadcast_to(count == n, total.shape)
        scaled = round_shift(total[where] * node.multiplier[n - 1], int(node.shift[n - 1]))
        result[where] = saturate(scaled + out.zero_point, 8)
    return result


def add(node: Add, a: np.ndarray, b: np.ndarray, ta: Tensor, tb: Tensor,
        out: Tensor) -> np.ndarray:
    """`Add`: both operands rescaled to the output, summed, rounded, ReLU, zero point."""
    if np.shape(a) != np.shape(b):
        raise ValueError(f"{node.name}: cannot add shapes {np.shape(a)} and {np.shape(b)}")
    total = (np.asarray(a, dtype=np.int64) - ta.zero_point) * node.multiplier_a \
        + (np.asarray(b, dtype=np.int64) - tb.zero_point) * node.multiplier_b
    y = round_shift(total, node.shift)
    if node.relu:
        y = np.maximum(y, 0)
    return saturate(y + out.zero_point, 8)


def _run_node(graph: Graph, node: Node, values: dict) -> np.ndarray:
    t = graph.tensors
    out = t[node.output]
    if isinstance(node, Conv2D):
        return conv2d(node, values[node.input], t[node.input])
    if isinstance(node, Dense):
        return dense(node, values[node.input], t[node.input])
    if isinstance(node, MaxPool):
        return maxpool(node, values[node.input])
    if isinstance(node, AvgPool):
        return avgpool(node, values[node.input], t[node.input], out)
    if isinstance(node, Add):
        return add(node, values[node.a], values[node.b], t[node.a], t[node.b], out)
    raise ValueError(f"unknown node type {type(node).__name__}")


def run_reference_all(graph: Graph, x) -> dict[str, np.ndarray]:
    """Every tensor of ``graph`` for the int8 input ``x``: name -> int64 array of its shape
    (the input included).

    Raises
    ------
    ValueError
        If ``x`` is not an integer array of the input's shape with int8 values.
    """
    values = {graph.input: check_input(graph.input_tensor, x)}
    for node in graph.nodes:
        result = _run_node(graph, node, values)
        assert result.shape == graph.tensors[node.output].shape, node.name
        values[node.output] = result
    return values


def run_reference(graph: Graph, x) -> np.ndarray:
    """The output tensor of ``graph`` for the int8 input ``x`` (int64 array of the output's
    shape: int8 values, or int32 sums for a final `Dense` without requantization)."""
    return run_reference_all(graph, x)[graph.output]
