"""accel.compiler.dense_tiles: the transposed dense layer with a resident input column is
bit-exact with accel.compiler.reference (ragged k tiles, more outputs than one COMPUTE, raw and
requantized outputs) and moves each weight byte once."""

from __future__ import annotations

import numpy as np
import pytest

from accel.compiler.dense_tiles import tile_major
from accel.compiler.steps import AccelStep
from accel.config import AccelConfig
from accel.isa import decode
from tests.compiler.graph_builder import Builder
from tests.compiler.test_lower import check

CONFIGS = {
    "8x8": AccelConfig(rows=8, cols=8),
    "3x5": AccelConfig(rows=3, cols=5, sp_kib=8, acc_kib=16, sp_banks=1, acc_banks=1),
}


@pytest.mark.parametrize("name", sorted(CONFIGS))
@pytest.mark.parametrize("shape, n, requant", [
    ((1, 1, 13), 1, False),          # one output, a ragged last k tile
    ((3, 4, 5), 7, True),
    ((2, 2, 100), 300, True),        # more outputs than one COMPUTE
    ((5, 5, 16), 10, False),
])
def test_dense(name, shape, n, requant):
    b = Builder(sum(shape) + n, shape)
    b.dense(n, requant=requant)
    compiled, results = check(b, CONFIGS[name])
    names = [decode(c)[0].name for s in compiled.steps if isinstance(s, AccelStep)
             for c in s.commands]
    assert "load_sp_t" in names
    k = int(np.prod(shape))
    assert results[0].load_bytes <= k + -(-k // CONFIGS[name].rows) * CONFIGS[name].rows * n \
        + 4 * n


def test_tile_major():
    weight = np.arange(5 * 3).reshape(5, 3)
    tiles = tile_major(weight, 2).reshape(3, 3, 2)
    np.testing.assert_array_equal(tiles[0], weight[0:2].T)
    np.testing.assert_array_equal(tiles[2], np.stack([weight[4], [0, 0, 0]]).T)
