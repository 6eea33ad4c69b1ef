"""`PoolExtent` (the dispatcher's last-row computation for STORE_POOL) against
`accel.golden.arith.pool_last_row`, and its latency contract `POOL_CHECK_CYCLES`."""

import random

from amaranth.sim import Simulator

from accel.arch.microarch import POOL_CHECK_CYCLES
from accel.control.dispatch_pool import PoolExtent
from accel.control.pooling import POOL_INIT
from accel.golden.arith import pool_last_row


def test_extent_matches_golden_last_row():
    rng = random.Random(3)
    cases = [(0xFFFF, 256, dict(kh=16, kw=16, sh=16, sw=16, out_w=1, in_pitch=0xFFFF)),
             (0, 256, dict(kh=16, kw=16, sh=16, sw=16, out_w=256, in_pitch=0xFFFF)),
             (5, 1, dict(kh=1, kw=1, sh=1, sw=1, out_w=1, in_pitch=1)),
             (9, 7, dict(kh=2, kw=2, sh=2, sw=2, out_w=3, in_pitch=6))]     # ragged
    for _ in range(40):
        cases.append((rng.randrange(1 << 16), rng.randint(1, 256),
                      dict(kh=rng.randint(1, 16), kw=rng.randint(1, 16), sh=rng.randint(1, 16),
                           sw=rng.randint(1, 16), out_w=rng.choice([1, 2, 7, rng.randint(1, 256)]),
                           in_pitch=rng.randrange(1 << 16))))
    dut = PoolExtent()
    got = []

    async def bench(ctx):
        for acc_addr, rows, geometry in cases:
            ctx.set(dut.acc_addr, acc_addr)
            ctx.set(dut.rows, rows)
            ctx.set(dut.params, dict(POOL_INIT, **geometry))
            ctx.set(dut.run, 1)
            waited = 0
            while not ctx.get(dut.valid):
                await ctx.tick()
                waited += 1
            got.append((ctx.get(dut.last), waited))
            ctx.set(dut.run, 0)
            ctx.set(dut.clear, 1)
            await ctx.tick()
            ctx.set(dut.clear, 0)
            assert not ctx.get(dut.valid)

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()
    for (acc_addr, rows, geometry), (last, waited) in zip(cases, got):
        assert last == acc_addr + pool_last_row(rows, **geometry), (acc_addr, rows, geometry)
        assert waited == POOL_CHECK_CYCLES
