"""The model zoo of the front-end tests: small float ONNX models covering every supported op and
attribute combination (built with onnx.helper, seeded)."""

from __future__ import annotations

import numpy as np

from tests.frontend.models import Net


def conv_same_stride():
    """Odd kernels with SAME_UPPER/SAME_LOWER padding, stride 2, non-square input."""
    n = Net((3, 9, 7))
    y = n.conv("x", 3, 5, 3, auto_pad="SAME_UPPER", strides=[2, 2])
    y = n.node("Relu", [y])
    y = n.conv(y, 5, 4, (5, 3), auto_pad="SAME_LOWER")
    return n, y


def conv_big_kernel():
    """An 11x11 kernel at stride 4 with explicit asymmetric pads, then VALID 1x1."""
    n = Net((2, 23, 19))
    y = n.conv("x", 2, 3, 11, strides=[4, 4], pads=[2, 1, 3, 0])
    y = n.conv(y, 3, 2, 1, auto_pad="VALID", bias=False)
    bias = n.const(np.array([0.5, -0.25], np.float32).reshape(1, 2, 1, 1))
    return n, n.node("Add", [y, bias])  # the bias as a separate Add of a broadcast constant


def depthwise():
    """Depthwise 3x3 (group = channels), Clip(0, 6), grouped 1x1 (2 groups), depthwise with
    channel multiplier 2 at stride 3."""
    n = Net((4, 6, 6))
    y = n.conv("x", 4, 4, 3, group=4, pads=[1, 1, 1, 1])
    y = n.node("Clip", [y, n.const(np.float32(0)), n.const(np.float32(6))])
    y = n.conv(y, 4, 6, 1, group=2)
    y = n.conv(y, 6, 12, 3, group=6, strides=[3, 3], auto_pad="SAME_UPPER")  # multiplier 2
    return n, y


def pools():
    """MaxPool with pads and stride, AveragePool with and without count_include_pad, ceil_mode,
    GlobalAveragePool."""
    n = Net((3, 10, 9))
    y = n.conv("x", 3, 4, 3)
    y = n.node("Relu", [y])
    y = n.node("MaxPool", [y], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])
    y = n.node("AveragePool", [y], kernel_shape=[2, 3], strides=[1, 2], pads=[1, 1, 0, 1],
               count_include_pad=1)
    y = n.node("AveragePool", [y], kernel_shape=[2, 2], strides=[2, 2], ceil_mode=1)
    y = n.node("GlobalAveragePool", [y])
    return n, y


def maxpool_ceil():
    """MaxPool with ceil_mode (extra bottom/right padding) and a 1-wide input."""
    n = Net((2, 7, 1))
    y = n.conv("x", 2, 3, (3, 1), pads=[1, 0, 1, 0])
    y = n.node("MaxPool", [y], kernel_shape=[2, 1], strides=[2, 1], ceil_mode=1)
    return n, y


def relu_after_pool():
    """Relu after a MaxPool: nothing to fuse it into, an identity layer applies it."""
    n = Net((2, 6, 6))
    y = n.conv("x", 2, 3, 3, pads=[1, 1, 1, 1])
    y = n.node("MaxPool", [y], kernel_shape=[2, 2], strides=[2, 2])
    return n, n.node("Relu", [y])


def nhwc_input():
    """An NHWC input transposed to NCHW first (as TensorFlow exporters write it)."""
    n = Net((5, 4, 2))
    y = n.node("Transpose", ["x"], perm=[0, 3, 1, 2])
    y = n.node("Relu", [n.conv(y, 2, 3, 3, pads=[1, 1, 1, 1])])
    return n, n.gemm(n.node("Flatten", [y]), 60, 4)


def residual():
    """A residual Add of two convolutions' outputs, Relu after it."""
    n = Net((3, 6, 5))
    a = n.conv("x", 3, 4, 3, pads=[1, 1, 1, 1])
    b = n.node("Relu", [n.conv(a, 4, 4, 3, pads=[1, 1, 1, 1])])
    y = n.node("Relu", [n.node("Add", [a, b])])
    return n, y


def flatten_gemm():
    """Conv, MaxPool, Flatten of NCHW, Gemm (transB) with Relu, Gemm."""
    n = Net((2, 6, 6))
    y = n.node("Relu", [n.conv("x", 2, 3, 3)])
    y = n.node("MaxPool", [y], kernel_shape=[2, 2], strides=[2, 2])
    y = n.node("Flatten", [y])
    y = n.node("Relu", [n.gemm(y, 12, 7)])
    y = n.gemm(y, 7, 4, trans_b=False)
    return n, y


def matmul_add():
    """Reshape (a constant shape, -1), MatMul, and the bias as a separate Add."""
    n = Net((3, 4, 4))
    y = n.conv("x", 3, 2, 3, pads=[1, 1, 1, 1])
    y = n.node("Reshape", [y, n.const(np.array([1, -1], dtype=np.int64))])
    w = n.rng.normal(size=(32, 6)).astype(np.float32) / 6
    y = n.node("MatMul", [y, n.const(w)])
    y = n.node("Add", [y, n.const(n.rng.normal(size=6).astype(np.float32))])
    return n, y


def transpose_flatten():
    """Transpose NCHW -> NHWC then Flatten: the HWC order, no weight permutation needed."""
    n = Net((2, 3, 3), batch=1)
    y = n.conv("x", 2, 3, 1)
    y = n.node("Transpose", [y], perm=[0, 2, 3, 1])
    y = n.node("Flatten", [y])
    y = n.gemm(y, 27, 5)
    return n, y


def squeeze_chain():
    """GlobalAveragePool, Squeeze and Unsqueeze around a Gemm input; Dropout, Identity."""
    n = Net((4, 5, 5))
    y = n.node("Relu", [n.conv("x", 4, 6, 3)])
    y = n.node("GlobalAveragePool", [y])
    y = n.node("Squeeze", [y, n.const(np.array([2, 3], dtype=np.int64))])
    y = n.node("Dropout", [y])
    y = n.node("Identity", [y])
    y = n.gemm(y, 6, 3)
    return n, y


def mlp():
    """A (batch, features) input: Gemm, Relu, MatMul with a bias Add, Relu, Gemm."""
    n = Net((12,))
    y = n.node("Relu", [n.gemm("x", 12, 9)])
    w = n.rng.normal(size=(9, 7)).astype(np.float32) / 3
    y = n.node("Add", [n.node("MatMul", [y, n.const(w)]), n.const(np.ones(7, np.float32))])
    y = n.node("Relu", [y])
    return n, n.gemm(y, 7, 1)


CASES = {f.__name__: f for f in (mlp, nhwc_input, relu_after_pool, conv_same_stride,
                                  conv_big_kernel, depthwise, pools, maxpool_ceil, residual,
                                  flatten_gemm, matmul_add, transpose_flatten, squeeze_chain)}


def batchnorm():
    """Conv, BatchNormalization (folded into it), Relu6 as Clip(0, 6)."""
    n = Net((3, 6, 6))
    y = n.conv("x", 3, 4, 3, pads=[1, 1, 1, 1], bias=False)
    r = n.rng
    params = [n.const(a.astype(np.float32)) for a in (r.uniform(0.5, 2, 4), r.normal(size=4),
                                                      r.normal(size=4) * 0.1,
                                                      r.uniform(0.5, 2, 4))]
    y = n.node("BatchNormalization", [y, *params], epsilon=1e-3)
    y = n.node("Clip", [y, n.const(np.float32(0)), n.const(np.float32(6))])
    return n, y


def folded_constants():
    """Weights made by constant subgraphs: a Transpose of an initializer, a Constant node
    reshaped, a Cast; the Gemm input reshaped through Shape/Gather/Concat (PyTorch's
    ``x.view(x.size(0), -1)``)."""
    n = Net((2, 4, 4))
    w = n.rng.normal(size=(3, 3, 2, 3)).astype(np.float32) / 4  # (kh, kw, cin, cout)
    wt = n.node("Transpose", [n.const(w)], perm=[3, 2, 0, 1])
    from onnx import helper, numpy_helper
    bias = numpy_helper.from_array(n.rng.normal(size=(1, 3)).astype(np.float64), "b")
    n.nodes.append(helper.make_node("Constant", [], ["bias64"], value=bias))
    b = n.node("Cast", [n.node("Reshape", ["bias64", n.const(np.array([3]))])], to=1)
    y = n.node("Relu", [n.node("Conv", ["x", wt, b], pads=[0, 0, 0, 0])])
    shape = n.node("Shape", [y])
    batch = n.node("Gather", [shape, n.const(np.array([0]))], axis=0)
    target = n.node("Concat", [batch, n.const(np.array([-1]))], axis=0)
    y = n.node("Reshape", [y, target])
    return n, n.gemm(y, 12, 4)


def classifier():
    """A small classifier with a Softmax at the end (graph.postprocess)."""
    n = Net((1, 8, 8))
    y = n.node("Relu", [n.conv("x", 1, 4, 3, strides=[2, 2], pads=[1, 1, 1, 1])])
    y = n.node("Flatten", [y])
    return n, n.node("Softmax", [n.gemm(y, 64, 10)], axis=1)


FLOAT_CASES = dict(CASES, **{f.__name__: f for f in (batchnorm, folded_constants, classifier)})
