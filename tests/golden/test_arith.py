"""Exact integer arithmetic of the golden model against pure-Python references."""

import random

import numpy as np
import pytest

from accel.golden import activate, round_shift, saturate, wrap


def ref_wrap(v, width):
    v &= (1 << width) - 1
    return v - (1 << width) if v >> (width - 1) else v


def ref_round_shift(p, s):
    # floor((p + 2**(s-1)) / 2**s) with exact rationals, written independently of the model
    if s == 0:
        return p
    num = p + 2 ** (s - 1)
    den = 2 ** s
    q = num // den  # Python floor division is exact floor for ints
    assert q * den <= num < (q + 1) * den
    return q


def ref_activate(x, multiplier, shift, relu, zero_point, out_width):
    y = ref_round_shift(x * multiplier, shift)
    if relu:
        y = max(y, 0)
    y += zero_point
    lo, hi = -(1 << (out_width - 1)), (1 << (out_width - 1)) - 1
    return min(max(y, lo), hi)


def rand_signed(rng, width):
    return rng.randint(-(1 << (width - 1)), (1 << (width - 1)) - 1)


@pytest.mark.parametrize("width", [2, 4, 6, 8, 16, 32, 33, 48, 62, 63, 64])
def test_wrap(width):
    rng = random.Random(width)
    values = [rng.randint(-(1 << 63), (1 << 63) - 1) for _ in range(300)]
    values += [0, -1, 1, (1 << 63) - 1, -(1 << 63)]
    values += [k * (1 << (width - 1)) + d for k in (-2, -1, 1, 2) for d in (-1, 0, 1)
               if -(1 << 63) <= k * (1 << (width - 1)) + d < (1 << 63)]
    expect = [ref_wrap(v, width) for v in values]
    got = wrap(np.array(values, dtype=np.int64), width)
    assert got.dtype == np.int64
    assert got.tolist() == expect
    # object path (Python ints beyond 64 bits)
    big = [rng.randint(-(1 << 100), 1 << 100) for _ in range(100)] + values
    got = wrap(np.array(big, dtype=object), width)
    assert got.dtype == np.int64
    assert got.tolist() == [ref_wrap(v, width) for v in big]


def test_wrap_keeps_shape():
    a = np.arange(-12, 12, dtype=np.int64).reshape(4, 6) * 7
    assert wrap(a, 4).shape == (4, 6)
    assert wrap(a.astype(object), 4).shape == (4, 6)
    assert wrap(a.T, 5).tolist() == [[ref_wrap(int(v), 5) for v in row] for row in a.T]


@pytest.mark.parametrize("width", [2, 6, 8, 16, 32, 64])
def test_saturate(width):
    rng = random.Random(100 + width)
    lo, hi = -(1 << (width - 1)), (1 << (width - 1)) - 1
    values = [rng.randint(-(1 << 63), (1 << 63) - 1) for _ in range(200)]
    values += [lo - 1, lo, lo + 1, hi - 1, hi, hi + 1, 0]
    values = [v for v in values if -(1 << 63) <= v < (1 << 63)]
    got = saturate(np.array(values, dtype=np.int64), width)
    assert got.tolist() == [min(max(v, lo), hi) for v in values]


def test_round_shift_ties_and_edges():
    for s in range(1, 20):
        for k in range(-5, 6):
            for delta in (-(1 << (s - 1)), 1 << (s - 1)):
                p = k * (1 << s) + delta  # exactly half-way: rounds up
                got = int(round_shift(np.array([p], dtype=np.int64), s)[0])
                assert got == ref_round_shift(p, s)
                assert got == (p + (1 << (s - 1))) // (1 << s)
                # half-way values round towards +infinity
                assert got * (1 << s) - p == 1 << (s - 1)
    # -1.5 -> -1, -0.5 -> 0, 0.5 -> 1, 1.5 -> 2, -2.5 -> -2
    assert round_shift(np.array([-3, -1, 1, 3, -5], dtype=np.int64), 1).tolist() == \
        [-1, 0, 1, 2, -2]
    assert round_shift(np.array([-6, -7, -5], dtype=np.int64), 2).tolist() == [-1, -2, -1]


def test_round_shift_random():
    rng = random.Random(42)
    for s in [0, 1, 2, 7, 31, 32, 62, 63]:
        values = [rng.randint(-(1 << 63), (1 << 63) - 1) for _ in range(200)]
        values += [(1 << 63) - 1, -(1 << 63), 0, -1, 1]
        got = round_shift(np.array(values, dtype=np.int64), s)
        assert got.tolist() == [ref_round_shift(v, s) for v in values], s
        big = [rng.randint(-(1 << 95), 1 << 95) for _ in range(100)] + values
        got = round_shift(np.array(big, dtype=object), s)
        assert [int(v) for v in got] == [ref_round_shift(v, s) for v in big], s
    a = np.arange(12, dtype=np.int64).reshape(3, 4)
    assert round_shift(a, 0) is a or (round_shift(a, 0) == a).all()
    assert round_shift(np.array([(1 << 63) - 1], dtype=np.int64), 63).tolist() == [1]
    assert round_shift(np.array([-(1 << 63)], dtype=np.int64), 63).tolist() == [-1]


@pytest.mark.parametrize("acc_width", [16, 32, 33, 48, 64])
@pytest.mark.parametrize("out_width", [4, 8, 16])
def test_activate_random(acc_width, out_width):
    rng = random.Random(acc_width * 100 + out_width)
    for _ in range(40):
        multiplier = rng.choice([0, 1, (1 << 31) - 1, rng.randint(0, (1 << 31) - 1),
                                 rng.randint(0, 1 << 16)])
        shift = rng.choice([0, 1, 63, rng.randint(0, 63), rng.randint(0, 40)])
        relu = rng.random() < 0.5
        zero_point = rng.choice([0, -32768, 32767, rng.randint(-32768, 32767),
                                 rng.randint(-20, 20)])
        acc = [rand_signed(rng, acc_width) for _ in range(24)]
        acc += [-(1 << (acc_width - 1)), (1 << (acc_width - 1)) - 1, 0, -1, 1]
        arr = np.array(acc, dtype=np.int64).reshape(29, 1)
        got = activate(arr, multiplier=multiplier, shift=shift, relu=relu,
                       zero_point=zero_point, acc_width=acc_width, out_width=out_width)
        assert got.shape == arr.shape and got.dtype == np.int64
        want = [ref_activate(x, multiplier, shift, relu, zero_point, out_width) for x in acc]
        assert got.ravel().tolist() == want, (multiplier, shift, relu, zero_point)


def test_activate_examples():
    def act(values, **kw):
        base = dict(multiplier=1, shift=0, relu=False, zero_point=0, acc_width=32, out_width=8)
        return activate(np.array(values, dtype=np.int64), **(base | kw)).tolist()
    assert act([-1000, -129, -128, 0, 127, 128, 1000]) == [-128, -128, -128, 0, 127, 127, 127]
    assert act([-5, 5], relu=True) == [0, 5]
    assert act([-5, 5], relu=True, zero_point=-3) == [-3, 2]  # ReLU before the zero point
    assert act([3, 5, -3, -5], multiplier=1, shift=1) == [2, 3, -1, -2]
    assert act([100], multiplier=3, shift=2, zero_point=10) == [85]
