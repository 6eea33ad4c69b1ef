"""Fused pooling (CONFIG_POOL, CONFIG_POOL_AVG, STORE_POOL) on the whole accelerator's RTL
(Verilator, cocotb), bit-exact against the golden model and plain NumPy pooling: max and
average, overlapping and non-overlapping windows, a ragged last pooled row, per-tensor and
per-channel activation, and the pooling registers changing between stores (program order)."""

import numpy as np
import pytest

from accel.compiler.tiler import ChannelRequant
from accel.golden.arith import activate
from accel.isa import encode
from accel.runtime.rtl import BusModel, Program, run_programs

from tests.support.configs import CONFIGS

pytestmark = pytest.mark.rtl


def _numpy_max_pool(image, k, s):
    """Plain 2-D max pooling of (h, w, c) with a k x k window and stride s (no padding)."""
    out_h, out_w = (image.shape[0] - k) // s + 1, (image.shape[1] - k) // s + 1
    return np.array([[image[y * s:y * s + k, x * s:x * s + k].max(axis=(0, 1))
                      for x in range(out_w)] for y in range(out_h)])


@pytest.mark.parametrize("name", ["4x4-ws", "3x5-ws"])
def test_store_pool_on_rtl(name):
    config = CONFIGS[name]
    cols = config.cols
    rng = np.random.default_rng([cols, 17])
    memory = rng.integers(0, 256, size=4096, dtype=np.uint8)
    h, w = 5, 6                                   # one 5 x 6 image of cols channels
    image = rng.integers(-20000, 20000, size=(h * w, cols)).astype("<i4")
    memory[0:image.nbytes] = np.frombuffer(image.tobytes(), dtype=np.uint8)
    table = ChannelRequant.table_bytes(rng.integers(1 << 20, 1 << 24, size=cols),
                                       rng.integers(20, 30, size=cols))
    memory[512:512 + len(table)] = np.frombuffer(table, dtype=np.uint8)
    top = config.acc_rows - 2
    prog = [
        encode("config_load", stride=4 * cols),
        encode("load_acc", mem_addr=0, acc_addr=2, rows=h * w, cols=cols),
        encode("config_act", multiplier=3 << 14, shift=20, act=1, zero_point=-3),
        encode("config_pool", kh=2, kw=2, sh=2, sw=2, mode=0, in_pitch=w, out_w=3),
        encode("config_store", stride=cols),
        encode("store_pool", mem_addr=1024, acc_addr=2, rows=6, cols=cols),   # 2x2/2 max
        encode("config_pool", kh=3, kw=3, sh=2, sw=2, mode=1, in_pitch=w, out_w=2),
        encode("config_pool_avg", multiplier=7282, shift=16, zero_point=4),    # ~ 1/9
        encode("store_pool", mem_addr=1100, acc_addr=2, rows=3, cols=cols),   # ragged, avg
        encode("config_pool", kh=1, kw=w, sh=1, sw=1, mode=1, in_pitch=w, out_w=1),
        encode("config_store", stride=cols + 1),
        encode("store_pool", mem_addr=1200, acc_addr=2, rows=h, cols=cols - 1),  # row means
        encode("config_load", stride=4 * cols),
        encode("load_acc", mem_addr=512, acc_addr=top, rows=2, cols=cols),
        encode("config_act_channels", acc_addr=top, act=0, zero_point=1),
        encode("config_pool", kh=3, kw=2, sh=1, sw=1, mode=0, in_pitch=w, out_w=5),
        encode("store_pool", mem_addr=1300, acc_addr=2, rows=9, cols=cols),   # overlapping
        encode("load_acc", mem_addr=2048, acc_addr=2, rows=4, cols=cols),     # WAR on the rows
        encode("fence"),
    ]
    result = run_programs(config, memory, [Program(prog)], return_memory=True,
                          bus=BusModel(stall_prob=0.2, max_wait=2, seed=3))
    assert not result.mismatches, result.mismatches
    # The first store against plain NumPy pooling of the activated image.
    act = activate(image.astype(np.int64), multiplier=3 << 14, shift=20, relu=True,
                   zero_point=-3, acc_width=32, out_width=8).reshape(h, w, cols)
    want = _numpy_max_pool(act, 2, 2).reshape(-1, cols)
    got = result.memory[1024:1024 + 6 * cols].view(np.int8).reshape(6, cols)
    np.testing.assert_array_equal(got, want)


def test_store_pool_errors_on_rtl():
    """STORE_POOL failing with each cause it can meet (a reserved pooling mode, SHAPE,
    ACC_RANGE for the last window's last row, MEM_RANGE, MEM_WINDOW, and a bus error whose
    STATUS names funct3 6), each read through STATUS and cleared, then a legal STORE_POOL: all
    as the golden model (with the bus error window) says."""
    from accel.isa import Command, ErrorCause
    from accel.verify.fuzz.reference import BusFaultModel

    config = CONFIGS["4x4-ws"]
    acc = config.acc_rows
    geometry = dict(kh=2, kw=3, sh=2, sw=1, mode=1, in_pitch=5, out_w=2)
    last = (1 * 2 + 1) * 5 + 1 * 1 + 2       # rows 3: oy_last 1, ox_last 1
    bus_error = (2048, 2304)
    cases = {
        ErrorCause.ILLEGAL_INSTRUCTION: ([], Command(0x12, 4, rs1=3 << 16, rs2=1)),
        ErrorCause.SHAPE: ([], encode("store_pool", mem_addr=0, acc_addr=acc, rows=1, cols=5)),
        ErrorCause.ACC_RANGE: ([encode("config_pool", **geometry)],
                               encode("store_pool", mem_addr=0, acc_addr=acc - last, rows=3,
                                      cols=4)),
        ErrorCause.MEM_RANGE: ([encode("config_store", stride=4)],
                               encode("store_pool", mem_addr=0xFFFF_FFF8, acc_addr=0, rows=3,
                                      cols=4)),
        ErrorCause.MEM_WINDOW: ([encode("config_window", base=4096, last=8191)],
                                encode("store_pool", mem_addr=0, acc_addr=0, rows=1, cols=4)),
        ErrorCause.BUS_ERROR: ([encode("config_pool", **geometry),
                                encode("config_store", stride=4)],
                               encode("store_pool", mem_addr=bus_error[0], acc_addr=0, rows=3,
                                      cols=4)),
    }
    legal = [encode("config_window", base=0, last=8191),
             encode("config_pool", kh=2, kw=2, sh=2, sw=2, mode=0, in_pitch=4, out_w=2),
             encode("config_store", stride=4),
             encode("store_pool", mem_addr=4096, acc_addr=0, rows=4, cols=4), encode("fence")]
    programs = []
    for cause, (before, failing) in cases.items():
        wait = [encode("fence")] if cause == ErrorCause.BUS_ERROR else []
        programs.append(Program([*before, failing, *wait, encode("status"),
                                 encode("clear_error"), encode("status"), *legal]))
    rng = np.random.default_rng(4)
    memory = rng.integers(0, 256, 8192).astype(np.uint8)
    result = run_programs(config, memory, programs, isolate=True, reference=BusFaultModel,
                          bus=BusModel(stall_prob=0.2, max_wait=2, error_windows=(bus_error,),
                                       seed=4))
    assert not result.mismatches, result.mismatches
    for (cause, (before, failing)), responses in zip(cases.items(), result.responses):
        at = len(before) + 1 + (cause == ErrorCause.BUS_ERROR)
        status = responses[at]
        assert (status >> 8) & 0xFF == cause, (cause, hex(status))
        assert (status >> 23) & 7 == failing.funct3 and (status >> 16) & 0x7F == 0x12
        assert responses[at + 2] & ~1 == 0
