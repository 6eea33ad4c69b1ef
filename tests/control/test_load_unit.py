"""LoadUnit against the golden model, with Python models of the DMA read channel, the
scratchpad write port and the accumulator write port (random back-pressure, landing delays and
bus-error injection)."""

import random

import numpy as np
import pytest
from amaranth.sim import Simulator

from accel.config import AccelConfig
from accel.control.layouts import LoadKind
from accel.control.load_unit import LoadUnit
from accel.golden import GoldenModel
from accel.isa import encode

MEM_SIZE = 4096
CONFIGS = {
    "4x4": AccelConfig(rows=4, cols=4, sp_kib=1, acc_kib=1, mem_addr_width=12),
    "3x5w6": AccelConfig(rows=3, cols=5, input_width=6, acc_width=32, sp_kib=1, acc_kib=1,
                         mem_addr_width=12),
}
_NAMES = {LoadKind.SP: "load_sp", LoadKind.SP_T: "load_sp_t", LoadKind.ACC: "load_acc"}


def _lanes(value: int, width: int, count: int) -> list[int]:
    mask, half = (1 << width) - 1, 1 << (width - 1)
    return [(((value >> (i * width)) & mask) ^ half) - half for i in range(count)]


def random_command(rng: random.Random, cfg: AccelConfig) -> dict:
    kind = rng.choice(list(LoadKind))
    pick = lambda hi: rng.choice([1, hi, rng.randint(1, min(hi, 6)), rng.randint(1, hi)])  # noqa
    if kind == LoadKind.SP:
        rows, cols, eb = pick(min(256, cfg.sp_rows)), pick(cfg.dim), cfg.in_bytes
        addr = rng.randint(0, cfg.sp_rows - rows)
    elif kind == LoadKind.SP_T:
        rows, cols, eb = pick(cfg.dim), pick(128), cfg.in_bytes
        cols = min(rng.choice([cols, 256]) if rng.random() < 0.2 else cols, cfg.sp_rows)
        addr = rng.randint(0, cfg.sp_rows - cols)
    else:
        rows, cols, eb = pick(min(256, cfg.acc_rows)), pick(cfg.cols), cfg.acc_bytes
        addr = rng.randint(0, cfg.acc_rows - rows)
    row_bytes = cols * eb
    stride = rng.choice([0, row_bytes, rng.randint(1, row_bytes), rng.randint(0, 40)])
    while (rows - 1) * stride + row_bytes > MEM_SIZE:
        stride //= 2
    mem_addr = rng.randint(0, MEM_SIZE - (rows - 1) * stride - row_bytes)
    return {"kind": kind, "mem_addr": mem_addr, "stride": stride, "rows": rows, "cols": cols,
            "addr": addr}


def golden_run(cfg, mem, sp, acc, cmds):
    gm = GoldenModel(cfg, mem_size=MEM_SIZE)
    gm.mem[:] = mem
    gm.sp[:], gm.acc[:] = sp, acc
    for c in cmds:
        gm.execute(encode("config_load", stride=c["stride"]))
        gm.execute(encode(_NAMES[c["kind"]], mem_addr=c["mem_addr"], rows=c["rows"],
                          cols=c["cols"], **{("acc_addr" if c["kind"] == LoadKind.ACC
                                              else "sp_addr"): c["addr"]}))
    return gm


def simulate(cfg, mem, sp, acc, cmds, rng, *, p_cmd=0.7, p_data=0.7, p_ready=0.7,
             p_done=0.8, max_land=3, p_err=0.0, max_cycles=200_000):
    """Run ``cmds`` through a LoadUnit; update ``sp``/``acc`` in place; return
    (dones, expected errs, stats)."""
    dut = LoadUnit(cfg)
    rb = dut.row_bytes
    nbits = 8 * rb
    writes_per_cmd = [c["rows"] * (c["cols"] if c["kind"] == LoadKind.SP_T else 1)
                      for c in cmds]
    dones, exp_err, stats = [], [], {"first_row": None, "last_row": None, "cycles": 0}

    async def bench(ctx):
        cmd_i, row_q, landing = 0, [], []
        presenting = done_shown = False
        writes = 0
        cycle = 0
        while len(dones) < len(cmds):
            cycle += 1
            assert cycle < max_cycles, "load unit hung"
            # Drive inputs.
            if cmd_i < len(cmds):
                ctx.set(dut.cmd.valid, 1)
                ctx.set(dut.cmd.payload, cmds[cmd_i])
            else:
                ctx.set(dut.cmd.valid, 0)
            ctx.set(dut.dma_cmd.ready, rng.random() < p_cmd)
            if row_q and (presenting or rng.random() < p_data):
                presenting = True
                data, last, err = row_q[0]
                ctx.set(dut.dma_data.valid, 1)
                ctx.set(dut.dma_data.payload.as_value(),
                        data | (last << nbits) | (err << (nbits + 1)))
            else:
                ctx.set(dut.dma_data.valid, 0)
            ctx.set(dut.done.ready, rng.random() < p_done)
            ctx.set(dut.acc_write.busy, bool(landing))
            ctx.set(dut.acc_write.ready, rng.random() < p_ready)
            # Sample handshakes and ports.
            if ctx.get(dut.cmd.valid) and ctx.get(dut.cmd.ready):
                cmd_i += 1
            if ctx.get(dut.dma_cmd.valid) and ctx.get(dut.dma_cmd.ready):
                d = ctx.get(dut.dma_cmd.payload)
                errs = []
                for r in range(d.rows):
                    start = d.addr + r * d.stride
                    raw = bytes(mem[start:start + d.row_bytes])
                    err = int(rng.random() < p_err)
                    errs.append(err)
                    row_q.append((int.from_bytes(raw, "little"), int(r == d.rows - 1), err))
                exp_err.append(any(errs))
            if ctx.get(dut.dma_data.valid) and ctx.get(dut.dma_data.ready):
                row_q.pop(0)
                presenting = False
                stats["first_row"] = stats["first_row"] or cycle
                stats["last_row"] = cycle
            if ctx.get(dut.sp_write.en):
                addr, mask = ctx.get(dut.sp_write.addr), ctx.get(dut.sp_write.mask)
                vals = _lanes(ctx.get(dut.sp_write.data.as_value()), cfg.input_width, cfg.dim)
                for i in range(cfg.dim):
                    if mask >> i & 1:
                        sp[addr, i] = vals[i]
                writes += 1
            if ctx.get(dut.acc_write.en) and ctx.get(dut.acc_write.ready):
                assert not ctx.get(dut.acc_write.accumulate)
                landing.append((cycle + rng.randint(1, max_land), ctx.get(dut.acc_write.addr),
                                ctx.get(dut.acc_write.mask),
                                _lanes(ctx.get(dut.acc_write.data.as_value()), cfg.acc_width,
                                       cfg.cols)))
                writes += 1
            if ctx.get(dut.done.valid) and not done_shown:
                # The first cycle of this done beat: all of its command's writes, and none of
                # the next command's, are performed (landed, for the accumulator).
                k = len(dones)
                assert writes == sum(writes_per_cmd[:k + 1]), f"done after {writes} writes"
                if cmds[k]["kind"] == LoadKind.ACC:
                    assert not landing, "done before the accumulator writes landed"
            done_shown = ctx.get(dut.done.valid)
            if ctx.get(dut.done.valid) and ctx.get(dut.done.ready):
                done = ctx.get(dut.done.payload)
                dones.append((int(done.err), int(done.funct3)))
                done_shown = False
            while landing and landing[0][0] <= cycle:
                _, addr, mask, vals = landing.pop(0)
                for i in range(cfg.cols):
                    if mask >> i & 1:
                        acc[addr, i] = vals[i]
            await ctx.tick()
        stats["cycles"] = cycle

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()
    return dones, exp_err, stats


def random_state(rng, cfg):
    mem = np.frombuffer(rng.randbytes(MEM_SIZE), dtype=np.uint8).copy()
    lo, hi = -(1 << (cfg.input_width - 1)), (1 << (cfg.input_width - 1)) - 1
    sp = np.array([[rng.randint(lo, hi) for _ in range(cfg.dim)] for _ in range(cfg.sp_rows)],
                  dtype=np.int64)
    alo, ahi = -(1 << (cfg.acc_width - 1)), (1 << (cfg.acc_width - 1)) - 1
    acc = np.array([[rng.randint(alo, ahi) for _ in range(cfg.cols)]
                    for _ in range(cfg.acc_rows)], dtype=np.int64)
    return mem, sp, acc


@pytest.mark.slow
@pytest.mark.parametrize("name,seed", [("4x4", 1), ("4x4", 2), ("4x4", 5), ("3x5w6", 3),
                                       ("3x5w6", 4), ("3x5w6", 6)])
def test_load_random(name, seed):
    cfg = CONFIGS[name]
    rng = random.Random(seed)
    mem, sp, acc = random_state(rng, cfg)
    cmds = [random_command(rng, cfg) for _ in range(14)]
    gm = golden_run(cfg, mem, sp, acc, cmds)
    dones, exp_err, _ = simulate(cfg, mem, sp, acc, cmds, rng)
    assert dones == [(0, int(c["kind"].value)) for c in cmds]
    assert not any(exp_err)
    assert np.array_equal(sp, gm.sp)
    assert np.array_equal(acc, gm.acc)


@pytest.mark.slow
def test_load_errors_reported():
    cfg = CONFIGS["4x4"]
    rng = random.Random(7)
    mem, sp, acc = random_state(rng, cfg)
    cmds = [random_command(rng, cfg) for _ in range(10)]
    for c in cmds:
        c["rows"] = min(c["rows"], 8)
        c["cols"] = min(c["cols"], 8)
    dones, exp_err, _ = simulate(cfg, mem, sp, acc, cmds, rng, p_err=0.15)
    assert [e for e, _ in dones] == [int(e) for e in exp_err]
    assert any(exp_err) and not all(exp_err)
    # Rows with err carry correct bytes in this model, so the result is still the golden one.
    mem2, sp2, acc2 = random_state(random.Random(7), cfg)
    gm = golden_run(cfg, mem2, sp2, acc2, cmds)
    assert np.array_equal(sp, gm.sp) and np.array_equal(acc, gm.acc)


@pytest.mark.parametrize("kind", [LoadKind.SP, LoadKind.ACC])
def test_load_throughput(kind):
    """Without back-pressure a SP or ACC load moves one row per cycle."""
    cfg = CONFIGS["4x4"]
    rng = random.Random(11)
    mem, sp, acc = random_state(rng, cfg)
    cmds = [{"kind": kind, "mem_addr": 3, "stride": 16, "rows": 64, "cols": 4, "addr": 0}] * 2
    gm = golden_run(cfg, mem, sp, acc, cmds)
    dones, _, stats = simulate(cfg, mem, sp, acc, cmds, rng, p_cmd=1, p_data=1, p_ready=1,
                               p_done=1, max_land=1)
    assert len(dones) == 2
    assert stats["last_row"] - stats["first_row"] + 1 <= 2 * 64 + 8
    assert np.array_equal(sp, gm.sp) and np.array_equal(acc, gm.acc)


@pytest.mark.slow
def test_units_connect_to_dma():
    """The units' DMA-side members match the DMA engine's channels (sized by dma_row_bytes)."""
    from amaranth import Module
    from amaranth.back import rtlil
    from amaranth.lib import wiring

    from accel.arch.microarch import dma_row_bytes
    from accel.control.store_unit import StoreUnit
    from accel.memory.dma import DMA

    cfg = CONFIGS["3x5w6"]
    m = Module()
    m.submodules.dma = dma = DMA(addr_width=cfg.mem_addr_width, data_width=cfg.bus_width,
                                 max_row_bytes=dma_row_bytes(cfg))
    m.submodules.load = load = LoadUnit(cfg)
    m.submodules.store = store = StoreUnit(cfg)
    wiring.connect(m, load.dma_cmd, dma.rd_cmd)
    wiring.connect(m, dma.rd_data, load.dma_data)
    wiring.connect(m, store.dma_cmd, dma.wr_cmd)
    wiring.connect(m, store.dma_data, dma.wr_data)
    wiring.connect(m, dma.wr_done, store.dma_done)
    rtlil.convert(m, ports=[])
