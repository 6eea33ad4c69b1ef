"""`choose_schedule` and the programs `emit_gemm` builds from it: traffic, residency, and exact
results on the golden model for every arrangement the chooser can pick."""

import random

import numpy as np
import pytest

from accel.compiler.gemm import APart, Gemm, Requant
from accel.compiler.schedule import choose_schedule
from accel.compiler.tiler import ProgramBuilder, emit_gemm, plan_matmul
from accel.config import AccelConfig
from accel.golden import GoldenModel
from accel.golden.arith import activate
from accel.isa import decode

EIGHT = AccelConfig(rows=8, cols=8, bus_width=32)


def _loaded(program, config):
    total = 0
    for cmd in program:
        ins, ops = decode(cmd)
        if ins.name in ("load_sp", "load_sp_t"):
            total += ops["rows"] * ops["cols"] * config.in_bytes
    return total


@pytest.mark.parametrize("shape", [(128, 128, 128), (64, 64, 64), (100, 70, 37), (300, 20, 9)])
def test_operands_are_read_once_when_they_fit(shape):
    m, k, n = shape
    plan = plan_matmul(EIGHT, m, k, n)
    assert _loaded(plan.program, EIGHT) == m * k + k * n


def test_a_tight_scratchpad_streams_one_operand():
    """4x4 with 1 KiB of scratchpad (256 rows) cannot hold A or B of 64^3: one of them is
    streamed, and the traffic is still below both operands reloaded for every tile."""
    config = AccelConfig(rows=4, cols=4, sp_kib=1, acc_kib=1, sp_banks=1, acc_banks=1)
    m = k = n = 64
    loaded = _loaded(plan_matmul(config, m, k, n).program, config)
    assert m * k + k * n < loaded < m * k * (n // 4) + k * n * 1


def test_aliased_output_keeps_program_order():
    """C over A's bytes: the schedule streams both operands and stores each tile before the
    next tile's loads (the sequential semantics)."""
    config = AccelConfig(rows=4, cols=4, sp_kib=1, acc_kib=1, sp_banks=1, acc_banks=1)
    gemm = Gemm(8, 8, (APart(0, 8, 8),), 256, 8, 0, 32)
    sched = choose_schedule(config, gemm, config.acc_rows)
    assert (sched.order, sched.a_mode, sched.b_mode, sched.defer_stores) == \
        ("nm", "stream", "stream", False)


CONFIGS = [
    AccelConfig(rows=4, cols=4, sp_kib=1, acc_kib=1, sp_banks=1, acc_banks=1),
    AccelConfig(rows=3, cols=5, dataflow="os", sp_kib=1, acc_kib=1, sp_banks=1, acc_banks=1),
    AccelConfig(rows=2, cols=7, sp_kib=1, acc_kib=1, sp_banks=1, acc_banks=1),
    AccelConfig(rows=4, cols=4, dataflow="os", sp_kib=2, acc_kib=1, sp_banks=1, acc_banks=1),
    AccelConfig(rows=1, cols=1, sp_kib=1, acc_kib=1, sp_banks=1, acc_banks=1),
]


def test_random_gemms_match_numpy():
    """Seeded shapes from 1-wide to beyond the scratchpad, raw and requantized, with and without
    bias, over several parts, on tight memories (every arrangement gets chosen somewhere)."""
    rng_py = random.Random(1717)
    seen = set()
    for trial in range(20):
        config = CONFIGS[trial % len(CONFIGS)]
        m, n = rng_py.choice([1, 3, 17, 40, 130]), rng_py.choice([1, 2, 5, 9, 33])
        ks = [rng_py.choice([1, 3, 8, 21, 70]) for _ in range(rng_py.randint(1, 2))]
        k = sum(ks)
        rng = np.random.default_rng(trial)
        a = rng.integers(-128, 128, (m, k))
        b = rng.integers(-128, 128, (k, n))
        bias = rng.integers(-1000, 1000, n) if trial % 3 else None
        requant = Requant(multiplier=1 << 20, shift=24, zero_point=3, relu=True) \
            if trial % 2 else None
        a_addr, b_addr = 0, m * k
        bias_addr = b_addr + k * n
        c_addr = bias_addr + 4 * n
        out = 1 if requant else 4
        mem = np.zeros(c_addr + m * n * out + 64, np.uint8)
        mem[:m * k] = a.astype(np.int8).ravel().view(np.uint8)
        mem[b_addr:b_addr + k * n] = b.astype(np.int8).ravel().view(np.uint8)
        if bias is not None:
            mem[bias_addr:bias_addr + 4 * n] = bias.astype("<i4").view(np.uint8)
        parts, col = [], 0
        for width in ks:
            parts.append(APart(a_addr + col, k, width))
            col += width
        gemm = Gemm(m, n, parts, b_addr, n, c_addr, n * out,
                    bias_addr if bias is not None else None, requant)
        sched = choose_schedule(config, gemm, config.acc_rows)
        seen.add((sched.order, sched.a_mode, sched.b_mode))
        builder = ProgramBuilder()
        emit_gemm(config, builder, gemm)
        builder.op("fence")
        model = GoldenModel(config, mem_size=mem.size)
        model.mem[:] = mem
        model.run(builder.program)
        want = a @ b + (bias if bias is not None else 0)
        if requant:
            want = activate(want, multiplier=1 << 20, shift=24, relu=True, zero_point=3,
                            acc_width=32, out_width=8)
            got = model.mem[c_addr:c_addr + m * n].view(np.int8)
        else:
            got = model.mem[c_addr:c_addr + 4 * m * n].view("<i4")
        assert np.array_equal(got.reshape(m, n), want), (trial, config, m, ks, n)
    assert len(seen) >= 3, seen
