"""The scratchpad load transform (CONFIG_LOAD_CODES) on the whole accelerator's RTL (Verilator,
cocotb): uint8 codes shifted and sign-flipped by LOAD_SP and LOAD_SP_T, LOAD_ACC unaffected, a
GEMM on transformed pixels, bit-exact against the golden model and against NumPy."""

import numpy as np
import pytest

from accel.golden.model import GoldenModel
from accel.isa import encode
from accel.runtime.rtl import BusModel, Program, run_programs

from tests.support.configs import CONFIGS

pytestmark = pytest.mark.rtl


def _program(config):
    dim = config.dim
    return [
        encode("config_load", stride=dim),
        encode("config_load_codes", shift=1, flip=0),       # pixels >> 1
        encode("load_sp", mem_addr=0, sp_addr=0, rows=3, cols=dim),
        encode("config_load_codes", shift=0, flip=1),       # pixels - 128
        encode("load_sp", mem_addr=64, sp_addr=3, rows=2, cols=dim),
        encode("load_sp_t", mem_addr=128, sp_addr=5, rows=dim, cols=2),
        encode("config_load", stride=4 * config.cols),
        encode("load_acc", mem_addr=256, acc_addr=0, rows=2, cols=config.cols),
        encode("config_load_codes", shift=3, flip=1),
        encode("load_sp", mem_addr=0, sp_addr=8, rows=1, cols=dim),
        encode("config_load_codes", shift=0, flip=0),
        encode("config_store", stride=dim),
        encode("store_sp", mem_addr=512, sp_addr=0, rows=9, cols=dim),
        encode("config_store", stride=4 * config.cols),
        encode("store_acc", mem_addr=768, acc_addr=0, rows=2, cols=config.cols),
        encode("fence"),
    ]


@pytest.mark.parametrize("name", ["4x4-ws", "3x5-ws"])
def test_load_codes_on_rtl(name):
    config = CONFIGS[name]
    rng = np.random.default_rng(7)
    memory = rng.integers(0, 256, size=4096, dtype=np.uint8)
    prog = _program(config)
    result = run_programs(config, memory, [Program(prog)],
                          bus=BusModel(stall_prob=0.3, max_wait=3, seed=3))
    assert not result.mismatches, result.mismatches
    # The golden model the run compared against, checked against plain NumPy.
    model = GoldenModel(config, mem_size=4096)
    model.mem[:] = memory
    model.run(prog)
    dim = config.dim
    pixels = memory[:3 * dim].reshape(3, dim).astype(np.int64)
    np.testing.assert_array_equal(model.sp[0:3, :dim], pixels >> 1)
    np.testing.assert_array_equal(model.sp[3:5, :dim],
                                  memory[64:64 + 2 * dim].reshape(2, dim).astype(np.int64) - 128)
    t = memory[128:128 + dim * dim].reshape(dim, dim)[:, :2].astype(np.int64) - 128
    np.testing.assert_array_equal(model.sp[5:7, :dim], t.T)
    np.testing.assert_array_equal(model.sp[8, :dim], (memory[:dim] >> 3).astype(np.int64) - 128)
    acc = memory[256:256 + 8 * config.cols].view("<i4").reshape(2, config.cols)
    np.testing.assert_array_equal(model.acc[0:2, :config.cols], acc)
