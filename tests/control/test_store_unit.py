"""StoreUnit against the golden model, with Python models of the DMA write channel and of the
scratchpad and accumulator read ports (1-cycle latency; random back-pressure and completion
delays; bus-error injection)."""

import random

import numpy as np
import pytest
from amaranth.sim import Simulator

from accel.config import AccelConfig
from accel.control.layouts import StoreKind
from accel.control.pooling import POOL_INIT
from accel.control.store_unit import StoreUnit
from accel.golden import GoldenModel
from accel.golden.arith import pool_last_row
from accel.isa import Activation, encode

MEM_SIZE = 4096
CONFIGS = {
    "4x4": AccelConfig(rows=4, cols=4, sp_kib=1, acc_kib=1, mem_addr_width=12),
    "3x5w6": AccelConfig(rows=3, cols=5, input_width=6, acc_width=32, sp_kib=1, acc_kib=1,
                         mem_addr_width=12),
}
_NAMES = {StoreKind.SP: "store_sp", StoreKind.ACC: "store_acc", StoreKind.ACT: "store_act",
          StoreKind.POOL: "store_pool"}
_TRANSFERS = [kind for kind in StoreKind if kind != StoreKind.CHANNELS]


def random_pool(rng: random.Random, cfg: AccelConfig) -> tuple[dict, int]:
    """Random pooling registers (decoded, as `PoolParams`) and the last row offset they read
    for some ``rows``; returns (pool, rows, last)."""
    while True:
        kh, kw, sh, sw = (rng.choice([1, 2, 3, rng.randint(1, 16)]) for _ in range(4))
        out_w = rng.choice([1, 2, 3, rng.randint(1, 12)])
        rows = rng.choice([1, out_w, rng.randint(1, 3 * out_w), rng.randint(1, 20)])
        in_pitch = rng.choice([(out_w - 1) * sw + kw + rng.randint(0, 2), rng.randint(0, 6)])
        geometry = dict(kh=kh, kw=kw, sh=sh, sw=sw, out_w=out_w, in_pitch=in_pitch)
        last = pool_last_row(rows, **geometry)
        if last < min(cfg.acc_rows, 200):
            break
    pool = dict(geometry, avg=rng.randint(0, 1),
                multiplier=rng.choice([1, rng.randint(0, 1 << 16), rng.randint(0, (1 << 31) - 1)]),
                shift=rng.choice([0, rng.randint(0, 20), rng.randint(0, 63)]),
                zero_point=rng.choice([0, rng.randint(-20, 20),
                                       rng.randint(-(1 << 15), (1 << 15) - 1)]))
    return pool, rows, last


def random_command(rng: random.Random, cfg: AccelConfig, kinds=None) -> dict:
    kind = rng.choice(kinds or list(StoreKind))
    pick = lambda hi: rng.choice([1, hi, rng.randint(1, min(hi, 6)), rng.randint(1, hi)])  # noqa
    pool = dict(POOL_INIT, avg=0, shift=0, zero_point=0)
    if kind == StoreKind.POOL:
        pool, rows, last = random_pool(rng, cfg)
        cols, eb, depth = pick(cfg.cols), cfg.in_bytes, cfg.acc_rows - last - 1 + rows
    elif kind == StoreKind.CHANNELS:      # two accumulator rows, no main memory
        rows, cols, eb, depth = 2, 1, 1, cfg.acc_rows
    elif kind == StoreKind.SP:
        rows, cols, eb, depth = pick(min(256, cfg.sp_rows)), pick(cfg.dim), cfg.in_bytes, \
            cfg.sp_rows
    else:
        rows, cols, depth = pick(min(256, cfg.acc_rows)), pick(cfg.cols), cfg.acc_rows
        eb = cfg.acc_bytes if kind == StoreKind.ACC else cfg.in_bytes
    row_bytes = cols * eb
    stride = rng.choice([0, row_bytes, rng.randint(1, row_bytes), rng.randint(0, 40)])
    while (rows - 1) * stride + row_bytes > MEM_SIZE:
        stride //= 2
    act = {"multiplier": rng.choice([1, rng.randint(0, (1 << 31) - 1), rng.randint(0, 300)]),
           "shift": rng.choice([0, rng.randint(0, 63), rng.randint(20, 40)]),
           "relu": rng.randint(0, 1), "zero_point": rng.randint(-(1 << 15), (1 << 15) - 1),
           "per_channel": int(rng.random() < 0.5)}
    if rng.random() < 0.5:
        act["zero_point"] = rng.randint(-3, 3)
    return {"kind": kind, "mem_addr": rng.randint(0, MEM_SIZE - (rows - 1) * stride - row_bytes),
            "stride": stride, "rows": rows, "cols": cols,
            "addr": rng.randint(0, depth - rows), "act": act, "pool": pool}


def golden_run(cfg, mem, sp, acc, cmds):
    gm = GoldenModel(cfg, mem_size=MEM_SIZE)
    gm.mem[:] = mem
    gm.sp[:], gm.acc[:] = sp, acc
    for c in cmds:
        a = c["act"]
        if c["kind"] == StoreKind.CHANNELS:
            gm.execute(encode("config_act_channels", acc_addr=c["addr"], act=a["relu"],
                              zero_point=a["zero_point"]))
            continue
        gm.execute(encode("config_store", stride=c["stride"]))
        if a.get("per_channel"):
            # the per-column registers of the last CHANNELS command (reset values before one)
            gm.act_per_channel = True
            gm.act_function, gm.act_zero_point = Activation(a["relu"]), a["zero_point"]
        else:
            gm.execute(encode("config_act", multiplier=a["multiplier"], shift=a["shift"],
                              act=a["relu"], zero_point=a["zero_point"]))
        if c["kind"] == StoreKind.POOL:
            p = c["pool"]
            gm.execute(encode("config_pool", mode=p["avg"], **{k: p[k] for k in (
                "kh", "kw", "sh", "sw", "in_pitch", "out_w")}))
            gm.execute(encode("config_pool_avg", multiplier=p["multiplier"], shift=p["shift"],
                              zero_point=p["zero_point"]))
        gm.execute(encode(_NAMES[c["kind"]], mem_addr=c["mem_addr"], rows=c["rows"],
                          cols=c["cols"], **{("sp_addr" if c["kind"] == StoreKind.SP
                                              else "acc_addr"): c["addr"]}))
    return gm


def _pack_row(values, width: int) -> int:
    mask = (1 << width) - 1
    return sum((int(v) & mask) << (i * width) for i, v in enumerate(values))


def simulate(cfg, mem, sp, acc, cmds, rng, *, p_cmd=0.7, p_data=0.7, p_done=0.8,
             max_delay=4, p_err=0.0, max_cycles=100_000):
    """Run ``cmds`` through a StoreUnit; update ``mem`` in place; return (dones, expected errs,
    stats)."""
    dut = StoreUnit(cfg)
    dones, exp_err, stats = [], [], {"first_row": None, "last_row": None, "rows": 0}
    sp_rows = [_pack_row(r, cfg.input_width) for r in sp]
    acc_rows = [_pack_row(r, cfg.acc_width) for r in acc]

    async def bench(ctx):
        cmd_i, wr_q, done_q = 0, [], []     # wr_q: [cmd, rows received, err]
        sp_req = acc_req = None
        cycle = 0
        while len(dones) < len(cmds):
            cycle += 1
            assert cycle < max_cycles, "store unit hung"
            # Read data of the reads issued in the previous cycle (held otherwise).
            if sp_req is not None:
                ctx.set(dut.sp_read.data.as_value(), sp_rows[sp_req])
            if acc_req is not None:
                ctx.set(dut.acc_read.data.as_value(), acc_rows[acc_req])
            if cmd_i < len(cmds):
                ctx.set(dut.cmd.valid, 1)
                ctx.set(dut.cmd.payload, cmds[cmd_i])
            else:
                ctx.set(dut.cmd.valid, 0)
            ctx.set(dut.dma_cmd.ready, rng.random() < p_cmd)
            ctx.set(dut.dma_data.ready, bool(wr_q) and rng.random() < p_data)
            if done_q and done_q[0][0] <= cycle:
                ctx.set(dut.dma_done.valid, 1)
                ctx.set(dut.dma_done.payload.err, done_q[0][1])
            else:
                ctx.set(dut.dma_done.valid, 0)
            ctx.set(dut.done.ready, rng.random() < p_done)
            # Sample.
            if ctx.get(dut.cmd.valid) and ctx.get(dut.cmd.ready):
                cmd_i += 1
            if ctx.get(dut.dma_cmd.valid) and ctx.get(dut.dma_cmd.ready):
                d = ctx.get(dut.dma_cmd.payload)
                wr_q.append([(d.addr, d.stride, d.rows, d.row_bytes), 0, 0])
            if ctx.get(dut.dma_data.valid) and ctx.get(dut.dma_data.ready):
                (addr, stride, rows, row_bytes), r, _ = wr_q[0]
                raw = ctx.get(dut.dma_data.payload.data.as_value()).to_bytes(dut.row_bytes,
                                                                             "little")
                start = addr + r * stride
                mem[start:start + row_bytes] = np.frombuffer(raw[:row_bytes], dtype=np.uint8)
                wr_q[0][2] |= rng.random() < p_err
                wr_q[0][1] += 1
                stats["first_row"] = stats["first_row"] or cycle
                stats["last_row"] = cycle
                stats["rows"] += 1
                if wr_q[0][1] == rows:
                    done_q.append((cycle + rng.randint(1, max_delay), int(wr_q[0][2])))
                    exp_err.append(int(wr_q[0][2]))
                    wr_q.pop(0)
            if ctx.get(dut.dma_done.valid) and ctx.get(dut.dma_done.ready):
                done_q.pop(0)
            if ctx.get(dut.done.valid) and ctx.get(dut.done.ready):
                done = ctx.get(dut.done.payload)
                dones.append((int(done.err), int(done.funct3)))
            sp_req = ctx.get(dut.sp_read.addr) if ctx.get(dut.sp_read.en) else None
            acc_req = ctx.get(dut.acc_read.addr) if ctx.get(dut.acc_read.en) else None
            await ctx.tick()

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
    acc = np.zeros((cfg.acc_rows, cfg.cols), dtype=np.int64)
    for r in range(cfg.acc_rows):
        bits = rng.choice([cfg.acc_width, 20, 12, 6])
        for c in range(cfg.cols):
            acc[r, c] = rng.randint(-(1 << (bits - 1)), (1 << (bits - 1)) - 1)
    return mem, sp, acc


@pytest.mark.slow
@pytest.mark.parametrize("name,seed", [("4x4", 1), ("4x4", 2), ("4x4", 5), ("3x5w6", 3),
                                       ("3x5w6", 4), ("3x5w6", 6)])
def test_store_random(name, seed):
    cfg = CONFIGS[name]
    rng = random.Random(seed)
    mem, sp, acc = random_state(rng, cfg)
    cmds = [random_command(rng, cfg) for _ in range(14)]
    gm = golden_run(cfg, mem, sp, acc, cmds)
    dones, exp_err, _ = simulate(cfg, mem, sp, acc, cmds, rng)
    assert dones == [(0, int(c["kind"].value)) for c in cmds]
    assert np.array_equal(mem, gm.mem)


def test_store_errors_pass_through():
    cfg = CONFIGS["3x5w6"]
    rng = random.Random(9)
    mem, sp, acc = random_state(rng, cfg)
    cmds = [random_command(rng, cfg) for _ in range(12)]
    for c in cmds:
        c["rows"] = min(c["rows"], 6)
    dones, exp_err, _ = simulate(cfg, mem, sp, acc, cmds, rng, p_err=0.2)
    errs = iter(exp_err)        # CHANNELS commands report no bus error
    assert dones == [(0 if c["kind"] == StoreKind.CHANNELS else next(errs), int(c["kind"].value))
                     for c in cmds]
    assert any(exp_err) and not all(exp_err)


@pytest.mark.parametrize("kind", _TRANSFERS)
def test_store_throughput(kind):
    """With an always-ready DMA the unit sends one row per cycle."""
    cfg = CONFIGS["4x4"]
    rng = random.Random(12)
    mem, sp, acc = random_state(rng, cfg)
    cmd = {"kind": kind, "mem_addr": 5, "stride": 17, "rows": 64, "cols": 4, "addr": 0,
           "act": {"multiplier": 3, "shift": 2, "relu": 1, "zero_point": -1},
           "pool": dict(POOL_INIT, avg=0, shift=0, zero_point=0)}
    gm = golden_run(cfg, mem, sp, acc, [cmd])
    dones, _, stats = simulate(cfg, mem, sp, acc, [cmd], rng, p_cmd=1, p_data=1, p_done=1)
    assert stats["last_row"] - stats["first_row"] + 1 == 64
    assert np.array_equal(mem, gm.mem)


@pytest.mark.slow
def test_load_then_store_through_dma():
    """LoadUnit and StoreUnit on the real DMA engine and a Wishbone memory model (random stalls
    and latency): loads, then stores, must match the golden model."""
    from amaranth import Module
    from amaranth.lib import wiring

    from accel.arch.microarch import dma_row_bytes
    from accel.control.load_unit import LoadUnit
    from accel.memory.dma import DMA
    from sim.wishbone_memory import WishboneMemory
    from tests.control.test_load_unit import golden_run as load_golden
    from tests.control.test_load_unit import random_command as random_load

    cfg = CONFIGS["3x5w6"]
    rng = random.Random(21)
    mem, sp, acc = random_state(rng, cfg)
    loads = [random_load(rng, cfg) for _ in range(6)]
    stores = [random_command(rng, cfg) for _ in range(6)]
    for c in loads + stores:
        c["rows"] = min(c["rows"], 24)
        c["cols"] = min(c["cols"], 40)
    gm = load_golden(cfg, mem, sp, acc, loads)
    gm = golden_run(cfg, gm.mem, gm.sp, gm.acc, stores)

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
    bus = WishboneMemory(dma.bus, size=MEM_SIZE, seed=3, stall_prob=0.3, max_latency=3,
                         init=bytes(mem))
    dones = []

    async def bench(ctx):
        queue = [(load, c) for c in loads] + [(store, c) for c in stores]
        landing, sp_req, acc_req, cycle, sent = [], None, None, 0, 0
        while len(dones) < len(queue):
            cycle += 1
            assert cycle < 50_000, f"hung after {len(dones)} commands"
            for u in (load, store):
                ctx.set(u.cmd.valid, 0)
                ctx.set(u.done.ready, 1)
            if sent == len(dones) < len(queue):     # one command at a time: no DMA races
                unit, cmd = queue[sent]
                ctx.set(unit.cmd.valid, 1)
                ctx.set(unit.cmd.payload, cmd)
                sent += ctx.get(unit.cmd.ready)
            if sp_req is not None:
                ctx.set(store.sp_read.data.as_value(), _pack_row(sp[sp_req], cfg.input_width))
            if acc_req is not None:
                ctx.set(store.acc_read.data.as_value(), _pack_row(acc[acc_req], cfg.acc_width))
            ctx.set(load.acc_write.busy, bool(landing))
            ctx.set(load.acc_write.ready, rng.random() < 0.7)
            for u in (load, store):
                if ctx.get(u.done.valid):
                    assert not ctx.get(u.done.payload.err)
                    dones.append(int(ctx.get(u.done.payload.funct3)))
            if ctx.get(load.sp_write.en):
                addr, mask = ctx.get(load.sp_write.addr), ctx.get(load.sp_write.mask)
                for i, v in enumerate(ctx.get(load.sp_write.data)):
                    if mask >> i & 1:
                        sp[addr, i] = v
            if ctx.get(load.acc_write.en) and ctx.get(load.acc_write.ready):
                landing.append((cycle + rng.randint(1, 3), ctx.get(load.acc_write.addr),
                                ctx.get(load.acc_write.mask),
                                list(ctx.get(load.acc_write.data))))
            while landing and landing[0][0] <= cycle:
                _, addr, mask, vals = landing.pop(0)
                for i, v in enumerate(vals):
                    if mask >> i & 1:
                        acc[addr, i] = v
            sp_req = ctx.get(store.sp_read.addr) if ctx.get(store.sp_read.en) else None
            acc_req = ctx.get(store.acc_read.addr) if ctx.get(store.acc_read.en) else None
            await ctx.tick()

    sim = Simulator(m)
    sim.add_clock(1e-8)
    sim.add_process(bus.process)
    sim.add_testbench(bench)
    sim.run()
    assert dones == [int(c["kind"].value) for c in loads + stores]
    assert np.array_equal(sp, gm.sp) and np.array_equal(acc, gm.acc)
    assert np.array_equal(np.frombuffer(bytes(bus.data), dtype=np.uint8), gm.mem)


@pytest.mark.parametrize("name", list(CONFIGS))
def test_per_channel_stores(name):
    """CHANNELS commands between per-channel and per-tensor ACT stores, DMA always ready and
    under random back-pressure: every store uses the registers of the CHANNELS before it."""
    cfg = CONFIGS[name]
    rng = random.Random(f"channels-{name}")
    mem, sp, acc = random_state(rng, cfg)
    for r in range(0, cfg.acc_rows, 2):            # plausible shifts in every other row
        acc[r + 1] = [rng.choice([0, 1, 7, rng.randint(0, 63), -rng.randint(1, 80)])
                      for _ in range(cfg.cols)]
    cmds = []
    for _ in range(10):
        kind = rng.choice([StoreKind.CHANNELS, StoreKind.ACT, StoreKind.ACT, StoreKind.ACC])
        c = random_command(rng, cfg)
        while c["kind"] != kind or c["rows"] > 8:
            c = random_command(rng, cfg)
        if kind == StoreKind.CHANNELS:
            c["addr"] = 2 * rng.randrange(cfg.acc_rows // 2)
        cmds.append(c)
    for ready in (1, 0.6):
        m = mem.copy()
        gm = golden_run(cfg, m, sp, acc, cmds)
        dones, _, _ = simulate(cfg, m, sp, acc, cmds, rng, p_cmd=ready, p_data=ready,
                               p_done=ready)
        assert dones == [(0, int(c["kind"].value)) for c in cmds]
        assert np.array_equal(m, gm.mem)


@pytest.mark.parametrize("avg", [0, 1], ids=["max", "avg"])
def test_pool_reads_one_row_per_cycle(avg):
    """With an always-ready DMA a 2x2 pooling store reads one accumulator row per cycle: one
    output row every four cycles."""
    cfg = CONFIGS["4x4"]
    rng = random.Random(13)
    mem, sp, acc = random_state(rng, cfg)
    pool = dict(kh=2, kw=2, sh=2, sw=2, out_w=3, in_pitch=7, avg=avg, multiplier=1 << 14,
                shift=16, zero_point=-2)
    cmd = {"kind": StoreKind.POOL, "mem_addr": 3, "stride": 5, "rows": 8, "cols": 3, "addr": 2,
           "act": {"multiplier": 5, "shift": 3, "relu": 0, "zero_point": 1}, "pool": pool}
    gm = golden_run(cfg, mem, sp, acc, [cmd])
    dones, _, stats = simulate(cfg, mem, sp, acc, [cmd], rng, p_cmd=1, p_data=1, p_done=1)
    assert stats["last_row"] - stats["first_row"] == 4 * (8 - 1)
    assert np.array_equal(mem, gm.mem)


@pytest.mark.slow
@pytest.mark.parametrize("name,seed", [("4x4", 41), ("3x5w6", 42)])
def test_pool_random(name, seed):
    """Random STORE_POOLs (max and average, any window) among the other stores, with random
    back-pressure, against the golden model."""
    cfg = CONFIGS[name]
    rng = random.Random(seed)
    mem, sp, acc = random_state(rng, cfg)
    cmds = [random_command(rng, cfg, kinds=[StoreKind.POOL] * 3 + [StoreKind.ACT])
            for _ in range(8)]
    gm = golden_run(cfg, mem, sp, acc, cmds)
    dones, _, _ = simulate(cfg, mem, sp, acc, cmds, rng)
    assert dones == [(0, int(c["kind"].value)) for c in cmds]
    assert np.array_equal(mem, gm.mem)
