"""Host operations on main memory (max pooling with a row pitch)."""

import numpy as np
import pytest

from accel.compiler.hostops import MaxPool, host_op_from_dict


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
