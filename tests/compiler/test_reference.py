"""accel.compiler.reference against plain loop formulations of the IR's docstrings."""

from __future__ import annotations

import numpy as np
import pytest

from accel.compiler.graph import (Add, AvgPool, Conv2D, Dense, Graph, MaxPool, Requantize,
                                  Tensor)
from accel.compiler.reference import run_reference, run_reference_all


def _rs(p: int, s: int) -> int:
    return p if s == 0 else (p >> s) + ((p >> (s - 1)) & 1)


def _sat(v: int) -> int:
    return min(max(v, -128), 127)


def _wrap32(v: int) -> int:
    return ((v + (1 << 31)) & 0xFFFFFFFF) - (1 << 31)


def _act(acc: int, m: int, s: int, relu: bool, zp: int) -> int:
    y = _rs(_wrap32(acc) * m, s)
    return _sat((max(y, 0) if relu else y) + zp)


def loop_conv(x, zp, node: Conv2D):
    h, w, cin = x.shape
    kh, kw, cin_g, cout = node.weight.shape
    top, left, bottom, right = node.pads
    sh, sw = node.stride
    oh = (h + top + bottom - kh) // sh + 1
    ow = (w + left + right - kw) // sw + 1
    cout_g = cout // node.groups
    rq = node.requant
    out = np.zeros((oh, ow, cout), dtype=np.int64)
    for y in range(oh):
        for xx in range(ow):
            for o in range(cout):
                g = o // cout_g
                acc = int(node.bias[o])
                for i in range(kh):
                    for j in range(kw):
                        yy, xi = y * sh + i - top, xx * sw + j - left
                        for c in range(cin_g):
                            v = int(x[yy, xi, g * cin_g + c]) if 0 <= yy < h and 0 <= xi < w \
                                else zp
                            acc += (v - zp) * int(node.weight[i, j, c, o])
                out[y, xx, o] = _act(acc, int(rq.multiplier[o]), int(rq.shift[o]), rq.relu,
                                     rq.zero_point)
    return out


def _requant(rng, n, per_channel=True, relu=None, zp=None):
    factors = rng.uniform(0.002, 0.02, n if per_channel else 1)
    return Requantize.from_scales(factors, int(rng.integers(-20, 20)) if zp is None else zp,
                                  bool(rng.integers(2)) if relu is None else relu)


def _conv_graph(rng, shape, cout, kernel, stride=(1, 1), pads=(0, 0, 0, 0), groups=1,
                per_channel=True):
    cin = shape[2]
    weight = rng.integers(-128, 128, (*kernel, cin // groups, cout))
    bias = rng.integers(-3000, 3000, cout)
    rq = _requant(rng, cout, per_channel)
    node = Conv2D("conv", "x", "y", weight, bias, rq, stride, pads, groups)
    xt = Tensor("x", shape, 0.05, int(rng.integers(-10, 10)))
    yt = Tensor("y", node.output_shape(shape), 0.1, rq.zero_point)
    return Graph("g", {"x": xt, "y": yt}, (node,), "x", "y"), node


CONV_CASES = [
    ((5, 5, 3), 4, (3, 3), (1, 1), (0, 0, 0, 0), 1),
    ((7, 6, 2), 3, (3, 3), (2, 2), (1, 1, 1, 1), 1),
    ((8, 8, 1), 2, (5, 5), (1, 1), (2, 2, 2, 2), 1),
    ((6, 9, 4), 4, (3, 3), (1, 1), (1, 1, 1, 1), 4),       # depthwise
    ((6, 7, 4), 6, (3, 2), (2, 3), (0, 1, 1, 0), 2),       # grouped, asymmetric pads/stride
    ((4, 4, 3), 5, (1, 1), (3, 3), (0, 0, 0, 0), 1),
    ((9, 9, 2), 2, (7, 7), (2, 2), (3, 2, 3, 4), 1),
    ((1, 1, 1), 1, (1, 1), (1, 1), (0, 0, 0, 0), 1),
    ((6, 6, 3), 2, (4, 4), (2, 2), (1, 1, 2, 2), 1),       # SAME with an even kernel
]


@pytest.mark.parametrize("shape, cout, kernel, stride, pads, groups", CONV_CASES)
def test_conv_matches_loops(shape, cout, kernel, stride, pads, groups):
    rng = np.random.default_rng(hash((shape, cout, kernel, stride, pads)) % 2**32)
    graph, node = _conv_graph(rng, shape, cout, kernel, stride, pads, groups)
    x = rng.integers(-128, 128, shape)
    got = run_reference(graph, x)
    assert got.dtype == np.int64 and got.shape == graph.output_tensor.shape
    np.testing.assert_array_equal(got, loop_conv(x, graph.input_tensor.zero_point, node))


def test_conv_accumulators_match_float_convolution():
    """With multiplier 2**30 shift 30 and no saturation, the output is the float convolution."""
    rng = np.random.default_rng(5)
    x = rng.integers(-3, 4, (6, 5, 2))
    weight = rng.integers(-3, 4, (3, 3, 2, 2))
    node = Conv2D("c", "x", "y", weight, np.zeros(2, int), Requantize([1 << 30], [30]),
                  (1, 1), (1, 1, 1, 1))
    graph = Graph("g", {"x": Tensor("x", (6, 5, 2), 1.0, 1), "y": Tensor("y", (6, 5, 2), 1.0)},
                  (node,), "x", "y")
    xf = np.pad(x - 1.0, ((1, 1), (1, 1), (0, 0)))
    expect = np.zeros((6, 5, 2))
    for i in range(3):
        for j in range(3):
            expect += xf[i:i + 6, j:j + 5] @ weight[i, j].astype(float)
    np.testing.assert_array_equal(run_reference(graph, x), np.clip(expect, -128, 127))


@pytest.mark.parametrize("requant", [True, False])
def test_dense_flattens_hwc(requant):
    rng = np.random.default_rng(7)
    x = rng.integers(-128, 128, (2, 3, 4))
    weight = rng.integers(-128, 128, (24, 5))
    bias = rng.integers(-5000, 5000, 5)
    rq = _requant(rng, 5) if requant else None
    node = Dense("d", "x", "y", weight, bias, rq)
    tensors = {"x": Tensor("x", (2, 3, 4), 0.1, 3),
               "y": Tensor("y", (5,), 1.0, rq.zero_point if rq else 0,
                           "int8" if requant else "int32")}
    got = run_reference(Graph("g", tensors, (node,), "x", "y"), x)
    flat = [int(v) for v in x.reshape(-1)]
    for o in range(5):
        acc = int(bias[o]) + sum((flat[k] - 3) * int(weight[k, o]) for k in range(24))
        want = _act(acc, int(rq.multiplier[o]), int(rq.shift[o]), rq.relu, rq.zero_point) \
            if rq else _wrap32(acc)
        assert got[o] == want


def test_dense_raw_wraps_like_an_int32_accumulator():
    node = Dense("d", "x", "y", np.full((1, 1), 127), np.array([(1 << 31) - 1]), None)
    tensors = {"x": Tensor("x", (1,), 1.0, -128), "y": Tensor("y", (1,), 1.0, 0, "int32")}
    got = run_reference(Graph("g", tensors, (node,), "x", "y"), np.array([127]))
    assert got[0] == _wrap32((1 << 31) - 1 + 255 * 127)


def _pool_graph(node, shape, zp_in=0, zp_out=0):
    out = node.output_shape(shape)
    tensors = {"x": Tensor("x", shape, 0.1, zp_in), "y": Tensor("y", out, 0.1, zp_out)}
    return Graph("g", tensors, (node,), "x", "y")


@pytest.mark.parametrize("shape, kernel, stride, pads", [
    ((9, 9, 2), (3, 3), (3, 3), (0, 0, 0, 0)),
    ((7, 8, 3), (3, 3), (2, 2), (1, 1, 1, 1)),
    ((5, 6, 1), (2, 3), (1, 2), (0, 1, 1, 2)),
    ((4, 4, 2), (2, 2), (2, 2), (0, 0, 0, 0)),
])
def test_maxpool_padding_never_wins(shape, kernel, stride, pads):
    rng = np.random.default_rng(11)
    node = MaxPool("p", "x", "y", kernel, stride, pads)
    zp = 5
    graph = _pool_graph(node, shape, zp, zp)
    x = rng.integers(-128, -100, shape)  # all below any zero-ish padding value
    got = run_reference(graph, x)
    top, left = pads[0], pads[1]
    for y in range(got.shape[0]):
        for xx in range(got.shape[1]):
            y0, x0 = y * stride[0] - top, xx * stride[1] - left
            window = x[max(y0, 0):y0 + kernel[0], max(x0, 0):x0 + kernel[1]]
            np.testing.assert_array_equal(got[y, xx], window.max(axis=(0, 1)))


@pytest.mark.parametrize("include", [False, True])
@pytest.mark.parametrize("shape, kernel, stride, pads", [
    ((6, 6, 2), (3, 3), (1, 1), (1, 1, 1, 1)),
    ((5, 7, 3), (2, 2), (2, 2), (0, 0, 1, 1)),
    ((4, 5, 2), (4, 5), (1, 1), (0, 0, 0, 0)),     # global
    ((7, 7, 1), (3, 3), (3, 2), (2, 1, 0, 2)),
])
def test_avgpool_matches_loops(shape, kernel, stride, pads, include):
    rng = np.random.default_rng(13)
    window = kernel[0] * kernel[1]
    mult, shift = AvgPool.factors(0.8, window)
    node = AvgPool("a", "x", "y", kernel, stride, mult, shift, pads, include)
    graph = _pool_graph(node, shape, -7, 4)
    x = rng.integers(-128, 128, shape)
    got = run_reference(graph, x)
    top, left = pads[0], pads[1]
    h, w, c = shape
    for y in range(got.shape[0]):
        for xx in range(got.shape[1]):
            for ch in range(c):
                total, count = 0, 0
                for i in range(kernel[0]):
                    for j in range(kernel[1]):
                        yy, xi = y * stride[0] + i - top, xx * stride[1] + j - left
                        if 0 <= yy < h and 0 <= xi < w:
                            total += int(x[yy, xi, ch]) + 7
                            count += 1
                n = window if include else count
                want = _sat(_rs(total * int(mult[n - 1]), int(shift[n - 1])) + 4)
                assert got[y, xx, ch] == want
                # and it is the float average, to within one output step
                avg = 0.8 * total / n + 4
                assert abs(want - min(max(avg, -128), 127)) <= 0.5 + 1e-9


@pytest.mark.parametrize("relu", [False, True])
def test_residual_add(relu):
    rng = np.random.default_rng(17)
    shape = (3, 4, 5)
    wa = rng.integers(-128, 128, (3, 3, 5, 5))
    conv = Conv2D("c", "x", "h", wa, np.zeros(5, int), _requant(rng, 5, zp=2), pads=(1, 1, 1, 1))
    ma, mb, s = Add.factors(0.1 / 0.15, 0.2 / 0.15)
    node = Add("add", "x", "h", "y", ma, mb, s, relu)
    tensors = {"x": Tensor("x", shape, 0.1, -3), "h": Tensor("h", shape, 0.2, 2),
               "y": Tensor("y", shape, 0.15, 1)}
    graph = Graph("g", tensors, (conv, node), "x", "y")
    x = rng.integers(-128, 128, shape)
    values = run_reference_all(graph, x)
    assert set(values) == {"x", "h", "y"}
    np.testing.assert_array_equal(values["x"], x)
    h = values["h"]
    for idx in np.ndindex(shape):
        v = _rs((int(x[idx]) + 3) * ma + (int(h[idx]) - 2) * mb, s)
        assert values["y"][idx] == _sat((max(v, 0) if relu else v) + 1)
    real = 0.1 * (x + 3) + 0.2 * (h - 2)
    real = np.maximum(real, 0) if relu else real
    np.testing.assert_allclose(values["y"], np.clip(np.round(real / 0.15) + 1, -128, 127),
                               atol=1)


def test_chain_of_every_op():
    rng = np.random.default_rng(19)
    graph, _ = _conv_graph(rng, (8, 8, 3), 4, (3, 3), (1, 1), (1, 1, 1, 1))
    t = dict(graph.tensors)
    nodes = list(graph.nodes)
    pool = MaxPool("mp", "y", "p", (2, 2), (2, 2))
    t["p"] = Tensor("p", (4, 4, 4), t["y"].scale, t["y"].zero_point)
    mult, shift = AvgPool.factors(1.0, 16)
    gap = AvgPool("gap", "p", "g", (4, 4), (1, 1), mult, shift)
    t["g"] = Tensor("g", (1, 1, 4), t["y"].scale, 0)
    head = Dense("fc", "g", "logits", rng.integers(-128, 128, (4, 3)), np.zeros(3, int), None)
    t["logits"] = Tensor("logits", (3,), 1.0, 0, "int32")
    full = Graph("g", t, (*nodes, pool, gap, head), "x", "logits")
    x = rng.integers(-128, 128, (8, 8, 3))
    values = run_reference_all(full, x)
    g = values["g"].reshape(-1)
    np.testing.assert_array_equal(values["logits"], g @ head.weight)
    assert values["logits"].shape == (3,)


@pytest.mark.parametrize("x, message", [
    (np.zeros((2, 2, 1), dtype=np.int64), "shape"),
    (np.zeros((2, 2, 2), dtype=np.float32), "integer"),
    (np.full((2, 2, 2), 128), "between -128 and 127"),
    (np.full((2, 2, 2), -129), "between -128 and 127"),
])
def test_bad_input(x, message):
    rng = np.random.default_rng(1)
    graph, _ = _conv_graph(rng, (2, 2, 2), 1, (1, 1))
    with pytest.raises(ValueError, match=message):
        run_reference(graph, x)
