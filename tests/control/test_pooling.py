"""The pooling datapath's parts against the golden model's arithmetic: `PoolWalk` addresses
equal `pool_rows`, `PoolReduce` folds windows into `pool_max` / the average's sum."""

import random

import numpy as np
from amaranth.sim import Simulator

from accel.control.pooling import POOL_INIT, PoolReduce, PoolWalk
from accel.golden.arith import pool_rows


def _walk(cases):
    dut = PoolWalk()
    got = []

    async def bench(ctx):
        for base, rows, geometry, stall in cases:
            ctx.set(dut.start, 1)
            ctx.set(dut.base, base)
            ctx.set(dut.rows, rows)
            ctx.set(dut.params, dict(POOL_INIT, **geometry))
            await ctx.tick()
            ctx.set(dut.start, 0)
            addrs = []
            while not ctx.get(dut.done):
                take = not stall or len(addrs) % 3 != 1 or random.random() < 0.5
                ctx.set(dut.next, take)
                if take:
                    addrs.append(ctx.get(dut.addr))
                await ctx.tick()
            ctx.set(dut.next, 0)
            got.append(addrs)

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()
    return got


def test_walk_visits_the_golden_rows_in_order():
    rng = random.Random(5)
    cases = []
    for _ in range(25):
        geometry = dict(kh=rng.choice([1, 2, 3, 16]), kw=rng.choice([1, 2, 3, 16]),
                        sh=rng.randint(1, 16), sw=rng.randint(1, 16), out_w=rng.randint(1, 6),
                        in_pitch=rng.randint(0, 300))
        cases.append((rng.randint(0, 3000), rng.choice([1, 2, rng.randint(1, 20)]), geometry,
                      rng.random() < 0.5))
    cases.append((7, 1, dict(kh=1, kw=1, sh=1, sw=1, out_w=256, in_pitch=0), False))  # 1-wide
    for (base, rows, geometry, _), addrs in zip(cases, _walk(cases)):
        want = (base + pool_rows(rows, **geometry).ravel()) % (1 << 16)
        assert addrs == want.tolist(), (base, rows, geometry)


def test_reduce_folds_windows():
    """Max and zero-point-corrected sums of windows of 1..9 rows, with gaps in the input and
    random back-pressure on the output."""
    rng = random.Random(8)
    lanes, width = 3, 8
    dut = PoolReduce(lanes=lanes, out_width=width)
    jobs = []                   # (window, avg, zero point, input rows, expected rows)
    for _ in range(12):
        window, avg, zp = rng.choice([1, 2, 4, 9]), rng.randint(0, 1), rng.randint(-300, 300)
        blocks = [np.array([[rng.randint(-128, 127) for _ in range(lanes)]
                            for _ in range(window)]) for _ in range(rng.randint(1, 4))]
        expect = [(b - zp).sum(axis=0) if avg else b.max(axis=0) for b in blocks]
        jobs.append((window, avg, zp, [row for b in blocks for row in b], expect))
    got = []

    async def bench(ctx):
        for window, avg, zp, rows, expect in jobs:
            ctx.set(dut.start, 1)
            ctx.set(dut.window, window)
            ctx.set(dut.avg, avg)
            ctx.set(dut.zero_point, zp)
            await ctx.tick()
            ctx.set(dut.start, 0)
            sent, out = 0, []
            while len(out) < len(expect):
                offer = sent < len(rows) and rng.random() < 0.8
                ctx.set(dut.i.valid, offer)
                if offer:
                    ctx.set(dut.i.payload, [int(v) for v in rows[sent]])
                ctx.set(dut.o.ready, rng.random() < 0.6)
                if offer and ctx.get(dut.i.ready):
                    sent += 1
                if ctx.get(dut.o.valid) and ctx.get(dut.o.ready):
                    out.append([ctx.get(dut.o.payload[n]) for n in range(lanes)])
                await ctx.tick()
            ctx.set(dut.i.valid, 0)
            ctx.set(dut.o.ready, 0)
            got.append(out)

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()
    for (window, avg, zp, _, expect), out in zip(jobs, got):
        assert out == [e.tolist() for e in expect], (window, avg, zp)
