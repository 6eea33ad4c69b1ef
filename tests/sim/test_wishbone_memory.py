"""`sim.wishbone_memory.WishboneMemory` under Amaranth's simulator, driven by a scripted master:
byte lanes, latency, error ranges, the past-end policy, the request log and the protocol checks.
(Its cocotb side runs in every accelerator bench: tests/sim/test_accel_*.py.)"""

import numpy as np
import pytest
from amaranth.hdl import ClockDomain, Module, Signal
from amaranth.sim import Simulator

from accel.bus import wishbone
from sim.wishbone_memory import ProtocolError, WishboneMemory, Write


def _bus():
    return wishbone.Signature(addr_width=8, data_width=32, granularity=8,
                              features={"err", "stall"}).create()


def _simulate(mem, bench):
    m = Module()
    m.domains.sync = ClockDomain()
    tick = Signal()
    m.d.sync += tick.eq(~tick)
    sim = Simulator(m)
    sim.add_clock(1e-6)
    sim.add_process(mem.process)
    sim.add_testbench(bench)
    sim.run()


async def _access(ctx, bus, *, we=0, adr=0, dat_w=0, sel=0xF):
    """One request (held while stalled); returns (ack, err, dat_r, cycles from acceptance)."""
    ctx.set(bus.cyc, 1)
    ctx.set(bus.stb, 1)
    ctx.set(bus.we, we)
    ctx.set(bus.adr, adr)
    ctx.set(bus.dat_w, dat_w)
    ctx.set(bus.sel, sel)
    while True:
        stalled = ctx.get(bus.stall)
        await ctx.tick()
        if not stalled:
            break
    ctx.set(bus.stb, 0)
    cycles = 1
    while not (ctx.get(bus.ack) or ctx.get(bus.err)):
        await ctx.tick()
        cycles += 1
    answer = (ctx.get(bus.ack), ctx.get(bus.err), ctx.get(bus.dat_r), cycles)
    await ctx.tick()
    ctx.set(bus.cyc, 0)
    return answer


def test_byte_lanes_latency_and_in_place_memory():
    bus = _bus()
    backing = np.zeros(64, dtype=np.uint8)
    mem = WishboneMemory(bus, memory=backing, seed=1, stall_prob=0.5, min_latency=3,
                         max_latency=3, record=True)
    got = []

    async def bench(ctx):
        got.append(await _access(ctx, bus, we=1, adr=2, dat_w=0x44332211, sel=0b0101))
        got.append(await _access(ctx, bus, adr=2))

    _simulate(mem, bench)
    assert got[0][:2] == (1, 0) and got[0][3] == 3
    assert got[1] == (1, 0, 0x00330011, 3)
    assert backing[8:12].tolist() == [0x11, 0, 0x33, 0]          # served in place
    assert mem.writes == [Write(8, bytes([0x11, 0x22, 0x33, 0x44]), 0b0101, False)]
    assert mem.requests_log == [(1, 8, 0b0101), (0, 8, 0xF)]
    assert mem.requests == 2 and mem.errors == 0


def test_error_ranges_and_past_end_policy():
    bus = _bus()
    mem = WishboneMemory(bus, size=64, seed=2, init=bytes(range(64)), err_ranges=[(16, 20)],
                         past_end="err")
    got = []

    async def bench(ctx):
        got.append(await _access(ctx, bus, we=1, adr=4, dat_w=0xFFFFFFFF))   # bytes 16..19
        got.append(await _access(ctx, bus, adr=4))
        got.append(await _access(ctx, bus, adr=100))                         # past the end
        got.append(await _access(ctx, bus, adr=5))

    _simulate(mem, bench)
    assert [(ack, err) for ack, err, _, _ in got] == [(0, 1), (0, 1), (0, 1), (1, 0)]
    assert got[3][2] == int.from_bytes(bytes(range(20, 24)), "little")
    assert mem.data[16:20] == bytes(range(16, 20))                 # the errored write did nothing
    assert mem.errors == 3 and mem.writes[0].err


def test_past_end_raises_by_default():
    bus = _bus()
    mem = WishboneMemory(bus, size=64)

    async def bench(ctx):
        await _access(ctx, bus, adr=16)

    with pytest.raises(ProtocolError, match="outside the 64-byte memory"):
        _simulate(mem, bench)


def test_a_stalled_request_must_be_held():
    bus = _bus()
    mem = WishboneMemory(bus, size=64, stall_prob=1.0)

    async def bench(ctx):
        ctx.set(bus.cyc, 1)
        ctx.set(bus.stb, 1)
        ctx.set(bus.adr, 1)
        await ctx.tick()
        ctx.set(bus.adr, 2)
        await ctx.tick()
        await ctx.tick()

    with pytest.raises(ProtocolError, match="stalled request"):
        _simulate(mem, bench)


@pytest.mark.parametrize("kwargs, message", [
    (dict(size=64, min_latency=0), "1 <= min_latency <= max_latency"),
    (dict(size=64, min_latency=3, max_latency=2), "1 <= min_latency <= max_latency"),
    (dict(size=62), "multiple of 4"),
    (dict(size=64, init=b"x"), "init must have 64 bytes"),
    (dict(size=64, past_end="ignore"), "past_end must be one of raise, err"),
    (dict(size=64, stall_prob=1.5), "stall_prob must be between 0 and 1"),
    (dict(), "give the memory's size or the memory"),
])
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        WishboneMemory(_bus(), **kwargs)
