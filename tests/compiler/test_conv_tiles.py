"""accel.compiler.conv_tiles through compile_graph: convolutions from resident row-im2col regions
and pools fused into the store are bit-exact with accel.compiler.reference (max and average,
stride below the kernel, ragged bands, channel chunks, per-channel requantization, large biases,
scratchpads too small to keep the input resident)."""

from __future__ import annotations

import numpy as np
import pytest

from accel.compiler.conv_tiles import bias_digits, const_row
from accel.compiler.graph import Conv2D
from accel.compiler.steps import AccelStep, HostStep
from accel.config import AccelConfig
from accel.isa import decode
from tests.compiler.graph_builder import Builder
from tests.compiler.test_lower import check

WS = {
    "8x8": AccelConfig(rows=8, cols=8),
    "3x5": AccelConfig(rows=3, cols=5, sp_kib=2, acc_kib=2, sp_banks=1, acc_banks=1),
    "2x2": AccelConfig(rows=2, cols=2, sp_kib=2, acc_kib=1, sp_banks=1, acc_banks=1),
}


def _names(compiled) -> list[str]:
    return [decode(c)[0].name for s in compiled.steps if isinstance(s, AccelStep)
            for c in s.commands]


@pytest.mark.parametrize("name", sorted(WS))
@pytest.mark.parametrize("avg", [False, True])
@pytest.mark.parametrize("pool_kernel, pool_stride", [
    ((2, 2), (2, 2)),
    ((3, 3), (2, 2)),        # stride < kernel: overlapping windows and bands
    ((3, 2), (1, 3)),        # ragged: the last conv rows and columns are never pooled
    ((1, 1), (1, 1)),
])
def test_fused_pool(name, avg, pool_kernel, pool_stride):
    b = Builder(len(name) * 7 + sum(pool_kernel) * 3 + avg, (13, 11, 3), zero_point=5)
    b.conv(6, (3, 3), (1, 1), (1, 1, 1, 1), relu=True)
    if avg:
        b.avgpool(pool_kernel, pool_stride)
    else:
        b.maxpool(pool_kernel, pool_stride)
    b.dense(4, requant=False)
    compiled, _ = check(b, WS[name])
    assert not any(isinstance(s, HostStep) for s in compiled.steps)
    assert "store_pool" in _names(compiled)
    rows = compiled.table(predict=False)
    assert rows[2]["where"] == "accel" and "fused" in rows[2]["note"]


@pytest.mark.parametrize("name", sorted(WS))
@pytest.mark.parametrize("cin, kernel, stride, per_channel", [
    (1, (3, 3), (1, 1), False),
    (4, (3, 3), (2, 1), True),     # vertical stride: GEMM rows skip the odd input rows
    (11, (2, 3), (1, 1), True),    # more channels than the array has rows: channel chunks
    (2, (1, 5), (3, 1), False),
])
def test_conv_regions(name, cin, kernel, stride, per_channel):
    b = Builder(cin * 31 + sum(kernel), (9, 10, cin), zero_point=-7)
    b.conv(9, kernel, stride, (0, 1, 1, 1), per_channel=per_channel)
    b.maxpool((2, 2), (2, 2))
    check(b, WS[name])


def test_pool_not_fused_when_padded_or_shared_or_after_a_pool():
    b = Builder(3, (8, 8, 2))
    first = b.conv(3, (3, 3), (1, 1), (1, 1, 1, 1))
    b.maxpool((2, 2), (2, 2), (1, 1, 0, 0))                 # padded: host
    b.maxpool((2, 2), (1, 1))                               # after a pool: host
    b.conv(3, (1, 1), src=first)
    b.add(b.last, first)                                    # first has two readers
    compiled, _ = check(b, WS["8x8"])
    rows = compiled.table(predict=False)
    notes = {r["name"]: (r["where"], r["note"]) for r in rows}
    assert [n for n, (w, _) in notes.items() if w == "host"][:2] == \
        [rows[2]["name"], rows[3]["name"]]
    assert "padded" in rows[2]["note"] and "not after a conv" in rows[3]["note"]


def test_large_bias_falls_back_to_load_acc():
    b = Builder(4, (6, 6, 2))
    name = b.conv(3, (3, 3))
    node = b.nodes[-1]
    b.nodes[-1] = Conv2D(node.name, node.input, node.output, node.weight,
                         np.array([1 << 20, -(1 << 21), 5]), node.requant)
    b.maxpool((2, 2), (2, 2), src=name)
    compiled, _ = check(b, WS["8x8"])
    assert "load_acc" in _names(compiled) and "store_pool" in _names(compiled)


@pytest.mark.parametrize("tk", [1, 2, 3, 8])
def test_bias_digits(tk):
    rng = np.random.default_rng(tk)
    limit = 127 * 127 * (tk - 1) + 63
    bias = rng.integers(-limit, limit + 1, 20)
    bias[:2] = (limit, -limit)
    digits = bias_digits(bias, tk)
    assert digits.shape[0] <= tk and digits.dtype == np.int8
    np.testing.assert_array_equal(const_row(tk)[:digits.shape[0]].astype(np.int64)
                                  @ digits.astype(np.int64), bias)
    assert bias_digits(np.array([limit + 200]), tk) is None
    assert bias_digits(np.zeros(3, dtype=np.int64), tk).shape == (0, 3)


def test_input_too_big_to_stay_resident():
    """512 scratchpad rows for a 30x21 input: each band loads its own rows (two slots)."""
    config = AccelConfig(rows=2, cols=2, sp_kib=1, acc_kib=2, sp_banks=1, acc_banks=1)
    b = Builder(3, (30, 21, 1))
    b.conv(3, (3, 3))
    b.avgpool((3, 3), (2, 2))
    compiled, _ = check(b, config)
    assert [r["where"] for r in compiled.table(predict=False)] == ["accel", "accel"]
    assert _names(compiled).count("load_sp") > 4
