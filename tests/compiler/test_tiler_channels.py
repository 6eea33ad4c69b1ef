"""`emit_gemm` with a `ChannelRequant`: per-column requantization through the reserved
accumulator rows, checked on the golden model against NumPy (`activate` per column)."""

import random

import numpy as np
import pytest

from accel.compiler.tiler import (APart, ChannelRequant, Gemm, ProgramBuilder, Requant,
                                  emit_gemm)
from accel.config import AccelConfig
from accel.golden import GoldenModel
from accel.golden.arith import activate, activate_channels
from accel.isa import decode

CONFIGS = {
    "4x4ws": AccelConfig(rows=4, cols=4, sp_kib=1, acc_kib=1, sp_banks=1, acc_banks=1),
    "2x3os": AccelConfig(rows=2, cols=3, dataflow="os", sp_kib=1, acc_kib=1, sp_banks=1,
                         acc_banks=1),
    "1x1ws": AccelConfig(rows=1, cols=1, sp_kib=1, acc_kib=1, sp_banks=1, acc_banks=1),
    "3x2os": AccelConfig(rows=3, cols=2, dataflow="os", sp_kib=1, acc_kib=1, sp_banks=1,
                         acc_banks=1),
}


def _case(rng, m, k, n, base=0, bias=True):
    """Operands, table and Gemm of a random per-channel GEMM laid out from ``base``."""
    a = rng.integers(-128, 128, size=(m, k))
    b = rng.integers(-128, 128, size=(k, n))
    bias_v = rng.integers(-5000, 5000, size=n) if bias else None
    mult = rng.integers(1 << 20, 1 << 31, size=n)
    shift = rng.integers(25, 40, size=n)
    a_addr = base
    b_addr = a_addr + m * k
    bias_addr = b_addr + k * n
    p_addr = bias_addr + 4 * n
    c_addr = p_addr + 8 * n
    requant = ChannelRequant(p_addr, n, zero_point=int(rng.integers(-20, 20)),
                             relu=bool(rng.integers(0, 2)))
    gemm = Gemm(m, n, (APart(a_addr, k, k),), b_addr, n, c_addr, n,
                bias_addr if bias else None, requant)
    mem = {a_addr: a.astype("<i1").tobytes(), b_addr: b.astype("<i1").tobytes(),
           p_addr: ChannelRequant.table_bytes(mult, shift)}
    if bias:
        mem[bias_addr] = bias_v.astype("<i4").tobytes()
    acc = a @ b + (bias_v if bias else 0)
    want = activate_channels(acc, multipliers=mult, shifts=shift, relu=requant.relu,
                             zero_point=requant.zero_point, acc_width=32, out_width=8)
    return gemm, mem, want, c_addr + m * n


def _run(config, program, mem, size):
    model = GoldenModel(config, mem_size=size)
    for addr, raw in mem.items():
        model.mem[addr:addr + len(raw)] = np.frombuffer(raw, dtype=np.uint8)
    model.run(program)
    return model


def _read(model, gemm):
    size = gemm.m * gemm.n
    return model.mem[gemm.c_addr:gemm.c_addr + size].view(np.int8).reshape(gemm.m, gemm.n)


@pytest.mark.parametrize("name", list(CONFIGS))
@pytest.mark.parametrize("m,k,n", [(1, 1, 1), (5, 3, 7), (9, 6, 2), (17, 4, 5)])
def test_channel_requant_matches_numpy(name, m, k, n):
    config = CONFIGS[name]
    rng = np.random.default_rng([m, k, n, len(name)])
    gemm, mem, want, end = _case(rng, m, k, n)
    builder = ProgramBuilder()
    emit_gemm(config, builder, gemm)
    model = _run(config, builder.program, mem, end + 64)
    assert np.array_equal(_read(model, gemm), want)
    # one table slice per column tile, each loaded once
    names = [c.instruction.name for c in builder.program]
    tiles = -(-n // config.cols)
    assert names.count("config_act_channels") == tiles
    assert "config_act" not in names


def test_reserved_rows_are_never_results():
    """A tight accumulator: results use rows [0, acc_rows - 2) only."""
    config = CONFIGS["2x3os"]
    rng = np.random.default_rng(4)
    gemm, mem, want, end = _case(rng, 40, 5, 6)
    builder = ProgramBuilder()
    emit_gemm(config, builder, gemm)
    top = config.acc_rows - 2
    for cmd in builder.program:
        ins, ops = decode(cmd)
        if ins.name in ("compute", "compute_acc", "store_act"):
            first = ops.get("c_addr", ops.get("acc_addr"))
            assert first + ops.get("m", ops.get("rows")) <= top
    assert np.array_equal(_read(_run(config, builder.program, mem, end + 64), gemm), want)


def test_mode_switches_between_gemms():
    """Per-channel, per-tensor, then the first per-channel GEMM again in one program."""
    config = CONFIGS["4x4ws"]
    rng = np.random.default_rng(8)
    g1, mem1, want1, end1 = _case(rng, 6, 5, 6)
    a2 = rng.integers(-128, 128, size=(3, 2))
    b2 = rng.integers(-128, 128, size=(2, 3))
    a2_addr, b2_addr, c2_addr = end1, end1 + 6, end1 + 12
    requant = Requant(multiplier=3, shift=2, zero_point=1, relu=False)
    g2 = Gemm(3, 3, (APart(a2_addr, 2, 2),), b2_addr, 3, c2_addr, 3, requant=requant)
    mem = dict(mem1)
    mem[a2_addr], mem[b2_addr] = a2.astype("<i1").tobytes(), b2.astype("<i1").tobytes()
    g3 = Gemm(g1.m, g1.n, g1.a_parts, g1.b_addr, g1.b_stride, c2_addr + 16, g1.c_stride,
              g1.bias_addr, g1.requant)
    builder = ProgramBuilder()
    for gemm in (g1, g2, g3):
        emit_gemm(config, builder, gemm)
    model = _run(config, builder.program, mem, c2_addr + 16 + 36 + 64)
    assert np.array_equal(_read(model, g1), want1)
    assert np.array_equal(_read(model, g3), want1)
    want2 = activate(a2 @ b2, multiplier=3, shift=2, relu=False, zero_point=1, acc_width=32,
                     out_width=8)
    assert np.array_equal(_read(model, g2), want2)
    names = [c.instruction.name for c in builder.program]
    assert names.count("config_act") == 1
    # g1: two column tiles; g3 reloads both (the per-tensor GEMM came between)
    assert names.count("config_act_channels") == 4


def test_same_slice_is_not_reloaded():
    config = CONFIGS["4x4ws"]
    rng = np.random.default_rng(12)
    gemm, mem, want, end = _case(rng, 3, 2, 3, bias=False)
    again = Gemm(gemm.m, gemm.n, gemm.a_parts, gemm.b_addr, gemm.b_stride, end, gemm.c_stride,
                 requant=gemm.requant)
    builder = ProgramBuilder()
    emit_gemm(config, builder, gemm)
    emit_gemm(config, builder, again)
    names = [c.instruction.name for c in builder.program]
    assert names.count("config_act_channels") == 1 and names.count("load_acc") == 1
    model = _run(config, builder.program, mem, end + 64)
    assert np.array_equal(_read(model, gemm), want)
    assert np.array_equal(_read(model, again), want)


def test_bad_channel_requants_are_rejected():
    part = (APart(0, 4, 4),)
    with pytest.raises(ValueError, match="per-row bias"):
        Gemm(4, 1, part, 0, 1, 0, 1, 0, ChannelRequant(0, 1), bias_per_row=True)
    with pytest.raises(ValueError, match="channels"):
        Gemm(4, 3, part, 0, 3, 0, 3, None, ChannelRequant(0, 2))
    for bad in (dict(params_addr=-1, channels=1), dict(params_addr=0, channels=0),
                dict(params_addr=0, channels=1, zero_point=1 << 15),
                dict(params_addr=True, channels=1)):
        with pytest.raises(ValueError):
            ChannelRequant(**bad)
    wide = AccelConfig(rows=2, cols=2, acc_width=48, sp_kib=1, acc_kib=1, sp_banks=1,
                       acc_banks=1)
    with pytest.raises(ValueError, match="acc_width 32"):
        emit_gemm(wide, ProgramBuilder(), Gemm(2, 2, part, 0, 2, 64, 2, None,
                                               ChannelRequant(128, 2)))
    config = CONFIGS["4x4ws"]
    with pytest.raises(ValueError, match="outside"):
        emit_gemm(config, ProgramBuilder(), Gemm(2, 2, part, 0, 2, 64, 2, None,
                                                 ChannelRequant(config.mem_size_limit - 8, 2)))
    with pytest.raises(ValueError, match="same positive length"):
        ChannelRequant.table_bytes([1, 2], [3])
    with pytest.raises(ValueError, match="multipliers"):
        ChannelRequant.table_bytes([1 << 31], [3])
    with pytest.raises(ValueError, match="shifts"):
        ChannelRequant.table_bytes([1], [64])


def test_random_gemms_seeded():
    rng_py = random.Random(77)
    for trial in range(12):
        name = rng_py.choice(list(CONFIGS))
        config = CONFIGS[name]
        m, k, n = rng_py.randint(1, 20), rng_py.randint(1, 9), rng_py.randint(1, 9)
        rng = np.random.default_rng(trial)
        gemm, mem, want, end = _case(rng, m, k, n, base=rng_py.randrange(0, 64),
                                     bias=rng_py.random() < 0.5)
        builder = ProgramBuilder()
        emit_gemm(config, builder, gemm)
        model = _run(config, builder.program, mem, end + 64)
        assert np.array_equal(_read(model, gemm), want), (trial, name, m, k, n)
