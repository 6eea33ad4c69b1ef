"""accel.soc.sram.WishboneSRAM in the Amaranth simulator."""

import random

import pytest
from amaranth.sim import Simulator

from accel.soc.sram import WishboneSRAM
from tests.soc import assert_rejected
from tests.support.wishbone_master import Request, burst


def run(dut, bench):
    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()


def test_init_image_and_byte_enables():
    rng = random.Random(1)
    image = rng.randbytes(61)                        # not a whole number of words
    dut = WishboneSRAM(size=256, init=image)
    expect = bytearray(image + bytes(256 - len(image)))
    writes = [Request(adr=rng.randrange(64), we=True, dat_w=rng.getrandbits(32),
                      sel=rng.getrandbits(4)) for _ in range(40)]
    for req in writes:
        for lane in range(4):
            if req.sel >> lane & 1:
                expect[4 * req.adr + lane] = req.dat_w >> (8 * lane) & 0xFF
    out = {}

    async def bench(ctx):
        out["init"] = await burst(ctx, dut.bus, [Request(adr=a) for a in range(64)])
        await burst(ctx, dut.bus, writes, rng=rng, idle_prob=0.3)
        out["final"] = await burst(ctx, dut.bus, [Request(adr=a) for a in range(64)], rng=rng,
                                   idle_prob=0.2)

    run(dut, bench)
    padded = image + bytes(256 - len(image))
    assert [r.dat_r for r in out["init"]] == [int.from_bytes(padded[4 * a:4 * a + 4], "little")
                                              for a in range(64)]
    assert [r.dat_r for r in out["final"]] == [int.from_bytes(expect[4 * a:4 * a + 4], "little")
                                               for a in range(64)]
    assert not any(r.err for r in out["final"])


def test_zero_wait_states():
    """Back-to-back reads complete at one per cycle: N reads take N + 1 cycles."""
    dut = WishboneSRAM(size=64, init=bytes(range(64)))

    async def bench(ctx):
        ctx.set(dut.bus.cyc, 1)
        ctx.set(dut.bus.stb, 1)
        acks = []
        for cycle in range(9):
            ctx.set(dut.bus.adr, cycle % 16)
            ctx.set(dut.bus.stb, cycle < 8)
            _, _, stall, ack, dat_r = await ctx.tick().sample(dut.bus.stall, dut.bus.ack,
                                                              dut.bus.dat_r)
            assert not stall
            if ack:
                acks.append(dat_r)
        assert acks == [int.from_bytes(bytes(range(4 * a, 4 * a + 4)), "little")
                        for a in range(8)]

    run(dut, bench)


@pytest.mark.parametrize("data_width", [32, 64, 128])
def test_core_port_beside_a_wide_bus(data_width):
    """The 32-bit core port and the data_width-bit Wishbone port see one memory: the core's
    byte writes land in its lane of the wide word, and each port reads what the other wrote."""
    rng = random.Random(data_width)
    size = 256
    image = rng.randbytes(size)
    dut = WishboneSRAM(size=size, data_width=data_width, init=image, core_port=True)
    word_bytes = data_width // 8
    model = bytearray(image)
    core_reads, bus_reads = [], []

    async def bench(ctx):
        for step in range(200):
            if rng.random() < 0.5:                       # the core
                addr = rng.randrange(size // 4)
                we = rng.getrandbits(4) if rng.random() < 0.5 else 0
                data = rng.getrandbits(32)
                ctx.set(dut.core.addr, addr)
                ctx.set(dut.core.re, not we)
                ctx.set(dut.core.we, we)
                ctx.set(dut.core.wdata, data)
                await ctx.tick()
                ctx.set(dut.core.re, 0)
                ctx.set(dut.core.we, 0)
                if we:
                    for lane in range(4):
                        if we >> lane & 1:
                            model[4 * addr + lane] = data >> (8 * lane) & 0xFF
                else:
                    core_reads.append((ctx.get(dut.core.rdata),
                                       int.from_bytes(model[4 * addr:4 * addr + 4], "little")))
            else:                                        # the Wishbone port
                adr = rng.randrange(size // word_bytes)
                write = rng.random() < 0.5
                req = Request(adr=adr, we=write, dat_w=rng.getrandbits(data_width),
                              sel=rng.getrandbits(word_bytes))
                expect = int.from_bytes(model[adr * word_bytes:(adr + 1) * word_bytes], "little")
                (resp,) = await burst(ctx, dut.bus, [req])
                if write:
                    for lane in range(word_bytes):
                        if req.sel >> lane & 1:
                            model[adr * word_bytes + lane] = req.dat_w >> (8 * lane) & 0xFF
                else:
                    bus_reads.append((resp.dat_r, expect))

    run(dut, bench)
    assert len(core_reads) > 20 and len(bus_reads) > 20
    assert all(got == want for got, want in core_reads), core_reads
    assert all(got == want for got, want in bus_reads), bus_reads


@pytest.mark.parametrize("size,init", [(100, b""), (2, b""), (16, bytes(17))])
def test_bad_arguments(size, init):
    assert_rejected(lambda: WishboneSRAM(size=size, init=init))


def test_core_port_needs_32_bits():
    assert_rejected(lambda: WishboneSRAM(size=64, data_width=16, core_port=True),
                    match="at least 32")
