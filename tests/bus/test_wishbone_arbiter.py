"""wishbone.Arbiter and the test-support Wishbone memory model, in the Amaranth simulator."""

from __future__ import annotations

import itertools
import random

import pytest
from amaranth.hdl import ClockDomain, Module
from amaranth.sim import Simulator

from accel.bus import wishbone
from sim.wishbone_memory import ProtocolError, WishboneMemory
from tests.support.wishbone_master import Request, burst


def simulate(dut, mem, benches):
    top = Module()                     # a 1-master arbiter has no clocked logic of its own
    top.domains.sync = ClockDomain()
    top.submodules.dut = dut
    sim = Simulator(top)
    sim.add_clock(1e-8)
    sim.add_process(mem.process)
    for bench in benches:
        sim.add_testbench(bench)
    sim.run()


@pytest.mark.parametrize("stall_prob,max_latency", [(0.0, 1), (0.5, 6)])
def test_memory_model_through_single_master(stall_prob, max_latency):
    """Writes with byte enables, read-back, error range; the 1-master arbiter is a pass-through."""
    dut = wishbone.Arbiter(n_masters=1, addr_width=8, data_width=32)
    mem = WishboneMemory(dut.bus, size=1024, seed=3, stall_prob=stall_prob,
                         max_latency=max_latency)
    old = bytes(mem.data)
    mem.err_ranges.append((64, 68))                      # word 16
    rng = random.Random(7)
    writes = [Request(adr=a, we=True, dat_w=rng.getrandbits(32), sel=rng.getrandbits(4))
              for a in range(10, 20)]
    results = {}

    async def bench(ctx):
        port = dut.masters[0]
        results["w"] = await burst(ctx, port, writes, rng=rng, idle_prob=0.3)
        results["r"] = await burst(ctx, port, [Request(adr=a) for a in range(10, 20)])

    simulate(dut, mem, [bench])
    expect = bytearray(old)
    for req in writes:
        if req.adr == 16:
            continue
        for lane in range(4):
            if req.sel >> lane & 1:
                expect[4 * req.adr + lane] = req.dat_w >> (8 * lane) & 0xFF
    assert mem.data == expect
    assert [r.err for r in results["w"]] == [a == 16 for a in range(10, 20)]
    assert [r.err for r in results["r"]] == [a == 16 for a in range(10, 20)]
    for a, r in zip(range(10, 20), results["r"]):
        if a != 16:
            assert r.dat_r == int.from_bytes(expect[4 * a:4 * a + 4], "little")
    assert [(w.addr, w.sel) for w in mem.writes] == [(4 * r.adr, r.sel) for r in writes]
    assert mem.requests == 20


def test_memory_model_detects_early_cyc_drop():
    dut = wishbone.Arbiter(n_masters=1, addr_width=8, data_width=32)
    mem = WishboneMemory(dut.bus, size=1024, min_latency=3, max_latency=3)

    async def bench(ctx):
        port = dut.masters[0]
        ctx.set(port.cyc, 1)
        ctx.set(port.stb, 1)
        await ctx.tick()
        ctx.set(port.cyc, 0)
        ctx.set(port.stb, 0)
        for _ in range(3):
            await ctx.tick()

    with pytest.raises(ProtocolError, match="cyc dropped"):
        simulate(dut, mem, [bench])


@pytest.mark.parametrize("seed", [1, 2])
def test_arbiter_three_masters(seed):
    """Random bursts from three masters to their own regions all complete correctly."""
    dut = wishbone.Arbiter(n_masters=3, addr_width=8, data_width=32)
    mem = WishboneMemory(dut.bus, size=1024, seed=seed, stall_prob=0.3, max_latency=4)
    old = bytes(mem.data)
    failures = []

    def master(index):
        async def bench(ctx):
            rng = random.Random(seed * 10 + index)
            port = dut.masters[index]
            shadow = {}
            for _ in range(6):
                base = 64 * index + rng.randrange(0, 56)
                n = rng.randint(1, 8)
                if rng.random() < 0.5:
                    reqs = [Request(adr=base + k, we=True, dat_w=rng.getrandbits(32))
                            for k in range(n)]
                    for req, resp in zip(reqs, await burst(ctx, port, reqs, rng=rng,
                                                           idle_prob=0.2)):
                        shadow[req.adr] = req.dat_w
                        assert not resp.err
                else:
                    reqs = [Request(adr=base + k) for k in range(n)]
                    for req, resp in zip(reqs, await burst(ctx, port, reqs, rng=rng)):
                        want = shadow.get(req.adr,
                                          int.from_bytes(old[4 * req.adr:4 * req.adr + 4],
                                                         "little"))
                        if resp.dat_r != want:
                            failures.append((index, req.adr, resp.dat_r, want))
                for _ in range(rng.randint(0, 3)):
                    await ctx.tick()
        return bench

    simulate(dut, mem, [master(i) for i in range(3)])
    assert not failures


def test_arbiter_round_robin():
    """Masters that always want the bus get it in turn, one whole bus cycle each."""
    dut = wishbone.Arbiter(n_masters=3, addr_width=8, data_width=32)
    mem = WishboneMemory(dut.bus, size=1024, seed=5, stall_prob=0.2, max_latency=3)

    def master(index):
        async def bench(ctx):
            for k in range(4):
                reqs = [Request(adr=64 * index + 4 * k + j, we=True, dat_w=index)
                        for j in range(3)]
                await burst(ctx, dut.masters[index], reqs)
        return bench

    simulate(dut, mem, [master(i) for i in range(3)])
    owners = [w.addr // 256 for w in mem.writes]
    groups = [(owner, len(list(run))) for owner, run in itertools.groupby(owners)]
    assert groups == [(i % 3, 3) for i in range(12)]
