"""accel.soc.decoder.Decoder in the Amaranth simulator, with memory models as slaves."""

import random

import pytest
from amaranth.sim import Simulator

from accel.config import AccelConfig
from accel.soc.decoder import Decoder
from accel.soc.memory_map import Region, memory_map
from sim.wishbone_memory import WishboneMemory
from tests.soc import assert_rejected
from tests.support.wishbone_master import Request, burst


@pytest.mark.slow
@pytest.mark.parametrize("stall_prob,max_latency", [(0.0, 1), (0.4, 4)])
def test_routes_by_memory_map_and_errors_unmapped(stall_prob, max_latency):
    config = AccelConfig(rows=2, cols=2, sp_kib=1, acc_kib=1, soc_sram_kib=4)
    regions = [r for r in memory_map(config) if r.name != "accel"]     # accel left unmapped
    dut = Decoder(regions=regions, addr_width=30)
    rng = random.Random(11)
    mems = {}
    for index, r in enumerate(regions):
        mems[r.name] = WishboneMemory(dut.slave(r.name), size=r.size, seed=index,
                                      stall_prob=stall_prob, max_latency=max_latency,
                                      init=rng.randbytes(r.size))
    initial = {name: bytes(mem.data) for name, mem in mems.items()}
    accel_base = next(r.base for r in memory_map(config) if r.name == "accel")

    def pick():
        choice = rng.random()
        if choice < 0.1:
            return None, accel_base + 4 * rng.randrange(8)
        if choice < 0.15:
            return None, 0x2000_0000 + 4 * rng.randrange(8)
        r = rng.choice(regions)
        return r, r.base + 4 * rng.randrange(min(r.size, 64) // 4)

    requests, expected = [], []
    shadow = {name: bytearray(data) for name, data in initial.items()}
    for _ in range(300):
        r, addr = pick()
        we = rng.random() < 0.5
        req = Request(adr=addr // 4, we=we, dat_w=rng.getrandbits(32), sel=0xF)
        requests.append(req)
        if r is None:
            expected.append((True, None))
            continue
        offset = addr - r.base
        if we:
            shadow[r.name][offset:offset + 4] = req.dat_w.to_bytes(4, "little")
            expected.append((False, None))
        else:
            expected.append((False, int.from_bytes(shadow[r.name][offset:offset + 4], "little")))
    got = []

    async def bench(ctx):
        for start in range(0, len(requests), 25):                  # several bus cycles
            got.extend(await burst(ctx, dut.bus, requests[start:start + 25], rng=rng,
                                   idle_prob=0.2))

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    for mem in mems.values():
        sim.add_process(mem.process)
    sim.add_testbench(bench)
    sim.run()
    assert len(got) == len(requests)
    for index, (response, (err, data)) in enumerate(zip(got, expected)):
        assert response.err == err, index
        if data is not None:
            assert response.dat_r == data, index
    for name, mem in mems.items():
        assert bytes(mem.data) == bytes(shadow[name]), name


def test_streams_into_one_slave_without_bubbles():
    """Back-to-back requests to the same zero-latency slave are never stalled by the decoder."""
    regions = [Region("a", 0, 64, ""), Region("b", 64, 64, "")]
    dut = Decoder(regions=regions, addr_width=8)
    mems = [WishboneMemory(dut.slave(n), size=64, seed=1) for n in "ab"]
    stalls = []

    async def bench(ctx):
        ctx.set(dut.bus.cyc, 1)
        for adr in [0, 1, 2, 3, 16, 17]:
            ctx.set(dut.bus.stb, 1)
            ctx.set(dut.bus.adr, adr)
            while True:
                _, _, stall = await ctx.tick().sample(dut.bus.stall)
                stalls.append(stall)
                if not stall:
                    break
        ctx.set(dut.bus.stb, 0)
        await ctx.tick().repeat(3)
        ctx.set(dut.bus.cyc, 0)

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    for mem in mems:
        sim.add_process(mem.process)
    sim.add_testbench(bench)
    sim.run()
    # four accepted at once, then exactly one stall while "a" drains before switching to "b"
    assert stalls == [0, 0, 0, 0, 1, 0, 0]


@pytest.mark.parametrize("regions", [
    [Region("a", 0, 48, "")],
    [Region("a", 16, 32, "")],
    [Region("a", 0, 64, ""), Region("b", 32, 32, "")],
    [Region("a", 0, 1 << 12, "")],
])
def test_bad_regions(regions):
    assert_rejected(lambda: Decoder(regions=regions, addr_width=8))
