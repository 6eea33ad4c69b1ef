"""Per-channel requantization on the whole accelerator's RTL (Verilator, cocotb): a tiled GEMM
with a `ChannelRequant` (load_acc of the multiplier/shift table, config_act_channels, store_act),
bit-exact against the golden model and NumPy (`activate` per column), on square and non-square
arrays in both dataflows, with a per-tensor GEMM between per-channel ones."""

import numpy as np
import pytest

from accel.compiler.tiler import (APart, ChannelRequant, Gemm, ProgramBuilder, Requant,
                                  emit_gemm)
from accel.config import AccelConfig
from accel.golden.arith import activate, activate_channels
from accel.isa import encode
from accel.runtime.rtl import BusModel, Program, run_programs

from tests.support.configs import CONFIGS

pytestmark = pytest.mark.rtl


def _config(rows, cols, dataflow):
    return AccelConfig(rows=rows, cols=cols, dataflow=dataflow, sp_kib=1, acc_kib=1,
                       mem_addr_width=14)


def _per_channel_gemm(rng, m, k, n, base):
    a = rng.integers(-128, 128, size=(m, k))
    b = rng.integers(-128, 128, size=(k, n))
    bias = rng.integers(-3000, 3000, size=n)
    mult = rng.integers(1 << 24, 1 << 31, size=n)
    shift = rng.integers(28, 40, size=n)
    a_addr, b_addr = base, base + m * k
    bias_addr = b_addr + k * n
    p_addr = bias_addr + 4 * n
    c_addr = p_addr + 8 * n
    requant = ChannelRequant(p_addr, n, zero_point=int(rng.integers(-10, 10)), relu=True)
    gemm = Gemm(m, n, (APart(a_addr, k, k),), b_addr, n, c_addr, n, bias_addr, requant)
    pokes = {a_addr: a.astype("<i1").tobytes(), b_addr: b.astype("<i1").tobytes(),
             bias_addr: bias.astype("<i4").tobytes(),
             p_addr: ChannelRequant.table_bytes(mult, shift)}
    want = activate_channels(a @ b + bias, multipliers=mult, shifts=shift, relu=True,
                             zero_point=requant.zero_point, acc_width=32, out_width=8)
    return gemm, pokes, want, c_addr + m * n


#: The differential test's builds where their accumulator is 32 bits wide (shared, cached), and a
#: non-square output-stationary array of its own.
CHANNEL_CONFIGS = {"4x4-ws": CONFIGS["4x4-ws"], "4x4-os": CONFIGS["4x4-os"],
                   "3x5-ws": CONFIGS["3x5-ws"], "2x3-os": _config(2, 3, "os")}


@pytest.mark.parametrize("name", list(CHANNEL_CONFIGS))
def test_channel_requant_gemm_on_rtl(name):
    config = CHANNEL_CONFIGS[name]
    rows, cols = config.rows, config.cols
    rng = np.random.default_rng([rows, cols, len(config.dataflow.value)])
    g1, pokes1, want1, end1 = _per_channel_gemm(rng, 7, 6, 2 * cols + 1, 0)
    # a per-tensor GEMM in between, then a second per-channel one
    a2 = rng.integers(-128, 128, size=(3, 5))
    b2 = rng.integers(-128, 128, size=(5, cols))
    a2_addr, b2_addr = end1, end1 + 15
    c2_addr = b2_addr + 5 * cols
    g2 = Gemm(3, cols, (APart(a2_addr, 5, 5),), b2_addr, cols, c2_addr, cols,
              requant=Requant(multiplier=5, shift=3, zero_point=2))
    want2 = activate(a2 @ b2, multiplier=5, shift=3, relu=False, zero_point=2, acc_width=32,
                     out_width=8)
    g3, pokes3, want3, end3 = _per_channel_gemm(rng, 5, 3, cols + 2, c2_addr + 3 * cols)
    builder = ProgramBuilder()
    for gemm in (g1, g2, g3):
        emit_gemm(config, builder, gemm)
    builder.op("fence")
    names = [c.instruction.name for c in builder.program]
    assert names.count("config_act_channels") >= 4 and names.count("config_act") == 1

    memory = np.zeros(4096, dtype=np.uint8)
    assert end3 <= memory.size
    for addr, raw in {**pokes1, a2_addr: a2.astype("<i1").tobytes(),
                      b2_addr: b2.astype("<i1").tobytes(), **pokes3}.items():
        memory[addr:addr + len(raw)] = np.frombuffer(raw, dtype=np.uint8)
    result = run_programs(config, memory, [Program(builder.program)], return_memory=True,
                          bus=BusModel(stall_prob=0.2, max_wait=2, seed=5))
    assert not result.mismatches, result.mismatches
    out = result.memory
    for gemm, want in ((g1, want1), (g2, want2), (g3, want3)):
        got = out[gemm.c_addr:gemm.c_addr + gemm.m * gemm.n].view(np.int8)
        np.testing.assert_array_equal(got.reshape(gemm.m, gemm.n), want)


def test_channels_race_with_stores_on_rtl():
    """config_act_channels between back-to-back store_acts over the same rows, a load_acc
    overwriting the parameter rows right after (WAR), and a compute writing them (RAW): the
    golden model's sequential result."""
    config = CONFIGS["3x5-ws"]
    rng = np.random.default_rng(11)
    memory = rng.integers(0, 256, size=4096, dtype=np.uint8)
    table = ChannelRequant.table_bytes([3, 1 << 30, 7], [1, 31, 0])
    table2 = ChannelRequant.table_bytes([9, 2, 1 << 29], [2, 0, 30])
    memory[1024:1024 + 24] = np.frombuffer(table, dtype=np.uint8)
    memory[1100:1100 + 24] = np.frombuffer(table2, dtype=np.uint8)
    top = config.acc_rows - 2
    prog = [encode("config_load", stride=12), encode("config_store", stride=3),
            encode("load_acc", mem_addr=1024, acc_addr=top, rows=2, cols=3),
            encode("load_acc", mem_addr=0, acc_addr=0, rows=4, cols=3),
            encode("config_act_channels", acc_addr=top, act=1, zero_point=-1),
            encode("store_act", mem_addr=2000, acc_addr=0, rows=4, cols=3),
            encode("load_acc", mem_addr=1100, acc_addr=top, rows=2, cols=3),
            encode("config_act_channels", acc_addr=top, act=0, zero_point=3),
            encode("store_act", mem_addr=2100, acc_addr=0, rows=4, cols=3),
            encode("config_act", multiplier=1, shift=0, act=0, zero_point=0),
            encode("store_act", mem_addr=2200, acc_addr=0, rows=4, cols=2),
            encode("load_sp", mem_addr=300, sp_addr=0, rows=4, cols=2),
            encode("preload", b_addr=0, k=2, n=3),
            encode("compute", a_addr=2, m=2, c_addr=top),
            encode("config_act_channels", acc_addr=top, act=1, zero_point=0),
            encode("store_act", mem_addr=2300, acc_addr=0, rows=4, cols=3),
            encode("fence")]
    result = run_programs(config, memory, [Program(prog)],
                          bus=BusModel(stall_prob=0.3, max_wait=3, seed=2))
    assert not result.mismatches, result.mismatches
