"""ExecUnit under the Amaranth simulator: random computes against the golden model's semantics."""

import numpy as np
import pytest
from amaranth.sim import Simulator

from accel.config import AccelConfig
from accel.control.exec_unit import ExecUnit
from accel.golden import wrap


def _commands(cfg, rng, count):
    """Random legal computes plus the reload flag the dispatcher would attach."""
    m_max, k_max, n_max = cfg.tile_limits
    m_max = min(m_max, 12)
    k_max = min(k_max, 12)
    commands, previous = [], None
    for index in range(count):
        if previous is None or rng.random() < 0.5:
            k, n = int(rng.integers(1, k_max + 1)), int(rng.integers(1, n_max + 1))
            b_addr = int(rng.integers(0, cfg.sp_rows - k))
            weights = (b_addr, k, n)
        else:
            weights = previous
        m = int(rng.integers(1, m_max + 1))
        a_rows = m if cfg.dataflow == "ws" else weights[1]
        a_addr = int(rng.integers(0, cfg.sp_rows - a_rows))
        c_addr = int(rng.integers(0, 24 - m)) if rng.random() < 0.7 else 0  # collisions
        commands.append(dict(a_addr=a_addr, m=m, c_addr=c_addr,
                             accumulate=int(rng.random() < 0.5), b_addr=weights[0],
                             k=weights[1], n=weights[2], reload=int(weights != previous)))
        previous = weights
    return commands


def _reference(cfg, sp, acc, commands):
    acc = acc.copy()
    for c in commands:
        b = sp[c["b_addr"]:c["b_addr"] + c["k"], :c["n"]]
        if cfg.dataflow == "ws":
            a = sp[c["a_addr"]:c["a_addr"] + c["m"], :c["k"]]
        else:
            a = sp[c["a_addr"]:c["a_addr"] + c["k"], :c["m"]].T
        rows = slice(c["c_addr"], c["c_addr"] + c["m"])
        base = acc[rows, :c["n"]] if c["accumulate"] else 0
        acc[rows, :c["n"]] = wrap(base + a @ b, cfg.acc_width)
    return acc


@pytest.mark.slow
@pytest.mark.parametrize("rows, cols, dataflow", [
    (4, 4, "ws"), (3, 5, "ws"), (5, 2, "ws"), (1, 1, "ws"),
    (4, 4, "os"), (3, 5, "os"), (5, 2, "os"), (1, 3, "os"),
])
def test_exec_unit_matches_reference(rows, cols, dataflow):
    cfg = AccelConfig(rows=rows, cols=cols, dataflow=dataflow, sp_kib=1, acc_kib=4,
                      sp_banks=1, acc_banks=1, acc_width=24)
    rng = np.random.default_rng(rows * 100 + cols * 10 + (dataflow == "os"))
    sp = rng.integers(-128, 128, (cfg.sp_rows, cfg.dim))
    acc0 = rng.integers(-(1 << 23), 1 << 23, (cfg.acc_rows, cfg.cols))
    commands = _commands(cfg, rng, 14)
    expected = _reference(cfg, sp, acc0, commands)
    acc = acc0.copy()
    dut = ExecUnit(cfg, write_latency=3)
    done_count = [0]

    async def drive(ctx):
        for command in commands:
            ctx.set(dut.cmd.payload, command)
            ctx.set(dut.cmd.valid, 1)
            await ctx.tick().until(dut.cmd.ready)
            ctx.set(dut.cmd.valid, 0)
            for _ in range(int(rng.integers(0, 3))):
                await ctx.tick()

    def sp_port(port):
        async def process(ctx):
            async for _, _, en, addr in ctx.tick().sample(port.en, port.addr):
                if en:
                    ctx.set(port.data, [int(v) for v in sp[addr]])
        return process

    async def acc_port(ctx):
        port = dut.acc_write
        sample = (port.en, port.ready, port.addr, port.data, port.mask, port.accumulate)
        ctx.set(port.ready, 1)
        async for _, _, en, ready, addr, data, mask, accumulate in ctx.tick().sample(*sample):
            if en and ready:
                values = [int(data[j]) for j in range(cfg.cols)]
                for j in range(cfg.cols):
                    if mask >> j & 1:
                        old = acc[addr, j] if accumulate else 0
                        acc[addr, j] = wrap(np.array([old + values[j]]), cfg.acc_width)[0]
            ctx.set(port.ready, int(rng.random() < 0.8))

    async def done(ctx):
        async for _, _, valid in ctx.tick().sample(dut.done.valid):
            if valid:
                done_count[0] += 1

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(drive)
    sim.add_process(sp_port(dut.sp_a))
    sim.add_process(sp_port(dut.sp_b))
    sim.add_process(acc_port)
    sim.add_process(done)
    total_rows = sum(c["m"] + c["k"] for c in commands)
    sim.run_until(1e-8 * (40 * total_rows + 2000))
    assert done_count[0] == len(commands)
    np.testing.assert_array_equal(acc, expected)
