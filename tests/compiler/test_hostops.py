"""Host operations on main memory: the native max pooling, and the general MaxPoolOp, AvgPoolOp
and AddOp against accel.compiler.reference."""

from dataclasses import fields

import numpy as np
import pytest

from accel.compiler.graph import Add, AvgPool, Graph, MaxPool as GraphMaxPool, Tensor
from accel.compiler.hostops import AddOp, AvgPoolOp, MaxPool, MaxPoolOp, host_op_from_dict
from accel.compiler.reference import add as reference_add, run_reference


@pytest.mark.parametrize("height,width,pitch,channels,size", [
    (26, 26, 28, 8, 2), (11, 11, 13, 16, 2), (5, 7, 7, 3, 3), (1, 1, 1, 1, 1), (3, 2, 9, 2, 2),
])
def test_maxpool_matches_numpy(height, width, pitch, channels, size):
    rng = np.random.default_rng(height * 100 + width)
    tensor = rng.integers(-128, 128, (height, pitch, channels)).astype(np.int8)
    mem = rng.integers(0, 256, 16384).astype(np.uint8)
    src, dst = 64, 8192
    flat = tensor.reshape(-1).view(np.uint8)
    used = ((height - 1) * pitch + width) * channels
    mem[src:src + used] = flat[:used]          # bytes past the last valid pixel stay random
    before = mem.copy()
    op = MaxPool(src, pitch, height, width, channels, size, dst)
    op.apply(mem)
    oh, ow = height // size, width // size
    valid = tensor[:oh * size, :ow * size].astype(np.int64)
    want = valid.reshape(oh, size, ow, size, channels).max(axis=(1, 3))
    got = mem[dst:dst + want.size].view(np.int8).reshape(want.shape)
    np.testing.assert_array_equal(got, want)
    untouched = np.ones(mem.size, bool)
    untouched[dst:dst + want.size] = False
    np.testing.assert_array_equal(mem[untouched], before[untouched])


def test_maxpool_round_trips_and_rejects_bad_input():
    op = MaxPool(0, 28, 26, 26, 8, 2, 8192)
    assert host_op_from_dict(op.to_dict()) == op
    with pytest.raises(ValueError, match="unknown host operation"):
        host_op_from_dict({"op": "conv"})
    with pytest.raises(ValueError, match="malformed maxpool"):
        host_op_from_dict({"op": "maxpool", "src": 0})
    with pytest.raises(ValueError, match="bad maxpool geometry"):
        MaxPool(0, 4, 2, 5, 1, 2, 100)          # pitch < width
    with pytest.raises(ValueError, match="beyond"):
        MaxPool(0, 28, 26, 26, 8, 2, 8192).apply(np.zeros(1024, np.uint8))


# The general host operations against accel.compiler.reference.


def _put(mem, addr, pitch, tensor):
    h, w, c = tensor.shape
    for y in range(h):
        row = addr + y * pitch * c
        mem[row:row + w * c] = tensor[y].astype(np.int8).reshape(-1).view(np.uint8)


def _get(mem, addr, pitch, shape):
    h, w, c = shape
    return np.stack([mem[addr + y * pitch * c:addr + (y * pitch + w) * c].view(np.int8)
                     .reshape(w, c) for y in range(h)]).astype(np.int64)


def _only_dst_changed(before, after, dst, pitch, shape):
    h, w, c = shape
    mask = np.ones(before.size, bool)
    for y in range(h):
        mask[dst + y * pitch * c:dst + (y * pitch + w) * c] = False
    np.testing.assert_array_equal(after[mask], before[mask])


@pytest.mark.parametrize("shape, kernel, stride, pads", [
    ((9, 9, 2), (3, 3), (3, 3), (0, 0, 0, 0)), ((7, 8, 3), (3, 3), (2, 2), (1, 1, 1, 1)),
    ((5, 6, 1), (2, 3), (1, 2), (0, 1, 1, 2)), ((1, 1, 4), (1, 1), (1, 1), (0, 0, 0, 0)),
])
def test_maxpool_op_matches_reference(shape, kernel, stride, pads):
    rng = np.random.default_rng(sum(shape) + sum(pads))
    node = GraphMaxPool("p", "x", "y", kernel, stride, pads)
    out_shape = node.output_shape(shape)
    tensors = {"x": Tensor("x", shape, 0.1, 3), "y": Tensor("y", out_shape, 0.1, 3)}
    x = rng.integers(-128, 128, shape)
    want = run_reference(Graph("g", tensors, (node,), "x", "y"), x)
    top, left, bottom, right = pads
    padded = np.pad(x, ((top, bottom), (left, right), (0, 0)), constant_values=-128)
    ph, pw, c = padded.shape
    mem = rng.integers(0, 256, 4096).astype(np.uint8)
    src, src_pitch, dst, dst_pitch = 64, pw + 1, 2048, out_shape[1] + 2
    _put(mem, src, src_pitch, padded)
    before = mem.copy()
    op = MaxPoolOp(src, src_pitch, ph, pw, c, *kernel, *stride, dst, dst_pitch)
    assert op.out_shape == out_shape
    op.apply(mem)
    np.testing.assert_array_equal(_get(mem, dst, dst_pitch, out_shape), want)
    _only_dst_changed(before, mem, dst, dst_pitch, out_shape)


@pytest.mark.parametrize("include", [0, 1])
@pytest.mark.parametrize("shape, kernel, stride, pads", [
    ((6, 6, 2), (3, 3), (1, 1), (1, 1, 1, 1)), ((5, 7, 3), (2, 2), (2, 2), (0, 0, 1, 1)),
    ((4, 5, 2), (4, 5), (1, 1), (0, 0, 0, 0)), ((7, 7, 1), (3, 3), (3, 2), (2, 1, 0, 2)),
])
def test_avgpool_op_matches_reference(shape, kernel, stride, pads, include):
    rng = np.random.default_rng(sum(shape) * 7 + include)
    mult, shift = AvgPool.factors(0.7, kernel[0] * kernel[1])
    node = AvgPool("a", "x", "y", kernel, stride, mult, shift, pads, bool(include))
    out_shape = node.output_shape(shape)
    tensors = {"x": Tensor("x", shape, 0.1, -5), "y": Tensor("y", out_shape, 0.1, 9)}
    x = rng.integers(-128, 128, shape)
    want = run_reference(Graph("g", tensors, (node,), "x", "y"), x)
    mem = rng.integers(0, 256, 4096).astype(np.uint8)
    src, src_pitch, table, dst, dst_pitch = 64, shape[1] + 2, 1024, 2048, out_shape[1] + 1
    _put(mem, src, src_pitch, x)
    data = AvgPoolOp.table_bytes(mult, shift)
    mem[table:table + data.size] = data
    before = mem.copy()
    op = AvgPoolOp(src, src_pitch, *shape, *kernel, *stride, *pads, include, -5, 9, table, dst,
                   dst_pitch)
    assert op.out_shape == out_shape
    op.apply(mem)
    np.testing.assert_array_equal(_get(mem, dst, dst_pitch, out_shape), want)
    _only_dst_changed(before, mem, dst, dst_pitch, out_shape)


@pytest.mark.parametrize("relu", [0, 1])
@pytest.mark.parametrize("shape", [(3, 4, 5), (1, 1, 7), (2, 9, 1)])
def test_add_op_matches_reference(shape, relu):
    rng = np.random.default_rng(shape[1] * 10 + relu)
    ma, mb, shift = Add.factors(0.1 / 0.15, 0.2 / 0.15)
    node = Add("add", "a", "b", "y", ma, mb, shift, bool(relu))
    tensors = {"a": Tensor("a", shape, 0.1, -3), "b": Tensor("b", shape, 0.2, 2),
               "y": Tensor("y", shape, 0.15, 1)}
    a, b = rng.integers(-128, 128, shape), rng.integers(-128, 128, shape)
    want = reference_add(node, a, b, tensors["a"], tensors["b"], tensors["y"])
    mem = rng.integers(0, 256, 4096).astype(np.uint8)
    h, w, c = shape
    _put(mem, 64, w + 1, a)
    _put(mem, 1024, w, b)
    before = mem.copy()
    op = AddOp(64, w + 1, 1024, w, h, w, c, -3, 2, ma, mb, shift, 1, relu, 2048, w + 3)
    op.apply(mem)
    np.testing.assert_array_equal(_get(mem, 2048, w + 3, shape), want)
    _only_dst_changed(before, mem, 2048, w + 3, shape)


def test_add_in_place_over_an_operand():
    mem = np.zeros(64, np.uint8)
    mem[0:4] = np.array([10, -20, 30, -40], np.int8).view(np.uint8)
    mem[8:12] = np.array([1, 2, 3, 4], np.int8).view(np.uint8)
    AddOp(0, 1, 8, 1, 1, 1, 4, 0, 0, 1 << 20, 1 << 20, 20, 0, 0, 0, 1).apply(mem)
    np.testing.assert_array_equal(mem[0:4].view(np.int8), [11, -18, 33, -36])


def test_words_and_dicts():
    ops = [MaxPoolOp(1, 2, 3, 2, 5, 2, 1, 1, 2, 100, 2),
           AvgPoolOp(1, 3, 3, 3, 2, 2, 2, 1, 1, 1, 0, 1, 0, True, -128, 127, 64, 200, 3),
           AddOp(0, 4, 64, 4, 2, 4, 3, -1, 5, 123, 456, 9, -7, 1, 128, 4)]
    for op in ops:
        words = op.words()
        assert len(words) == len(fields(op))
        assert all(0 <= v < 1 << 32 for v in words)
        assert host_op_from_dict(op.to_dict()) == op
    assert ops[1].count_include_pad == 1 and ops[1].words()[14] == 0xFFFFFF80
    assert ops[2].words()[7:9] == (0xFFFFFFFF, 5)
    assert len(ops[0].words()) == 11 and len(ops[1].words()) == 19 and len(ops[2].words()) == 16


@pytest.mark.parametrize("make, message", [
    (lambda: MaxPoolOp(0, 1, 3, 2, 1, 2, 2, 1, 1, 0, 1), "src_pitch 1 is smaller"),
    (lambda: MaxPoolOp(0, 2, 1, 2, 1, 2, 2, 1, 1, 0, 1), "does not fit"),
    (lambda: MaxPoolOp(0, 2, 2, 2, 1, 1, 1, 0, 1, 0, 2), "stride_h must be at least 1"),
    (lambda: MaxPoolOp(-1, 2, 2, 2, 1, 1, 1, 1, 1, 0, 2), "src must be between"),
    (lambda: MaxPoolOp(0.5, 2, 2, 2, 1, 1, 1, 1, 1, 0, 2), "must be an integer"),
    (lambda: AvgPoolOp(0, 3, 3, 3, 1, 2, 2, 1, 1, 2, 0, 0, 0, 0, 0, 0, 0, 0, 2), "pads"),
    (lambda: AvgPoolOp(0, 3, 3, 3, 1, 2, 2, 1, 1, 0, 0, 0, 0, 2, 0, 0, 0, 0, 2),
     "count_include_pad"),
    (lambda: AvgPoolOp(0, 3, 3, 3, 1, 2, 2, 1, 1, 0, 0, 0, 0, 0, 200, 0, 0, 0, 2),
     "in_zero_point"),
    (lambda: AddOp(0, 1, 0, 2, 1, 2, 1, 0, 0, 1, 1, 6, 0, 0, 0, 2), "a_pitch"),
    (lambda: AddOp(0, 2, 0, 2, 1, 2, 1, 0, 0, 1, 1, 64, 0, 0, 0, 2), "shift"),
])
def test_bad_general_ops(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_general_ops_stay_inside_memory():
    with pytest.raises(ValueError, match="beyond"):
        MaxPoolOp(60, 2, 2, 2, 2, 1, 1, 1, 1, 0, 2).apply(np.zeros(64, np.uint8))
    with pytest.raises(ValueError, match="table"):
        AvgPoolOp(0, 2, 2, 2, 1, 2, 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 60, 32, 1).apply(
            np.zeros(64, np.uint8))
