"""accel.soc UART, Timer and LEDs in the Amaranth simulator."""

import random

import pytest
from amaranth.sim import Simulator

from accel.soc import uart as uart_regs
from accel.soc.leds import LEDs
from accel.soc.timer import Timer
from accel.soc.uart import UART
from tests.soc import assert_rejected
from tests.support.wishbone_master import Request, burst


def run(dut, *benches, processes=()):
    sim = Simulator(dut)
    sim.add_clock(1e-8)
    for process in processes:
        sim.add_process(process)
    for bench in benches:
        sim.add_testbench(bench)
    sim.run()


async def write(ctx, bus, offset, value, sel=0xF):
    return (await burst(ctx, bus, [Request(adr=offset // 4, we=True, dat_w=value, sel=sel)]))[0]


async def read(ctx, bus, offset):
    return (await burst(ctx, bus, [Request(adr=offset // 4)]))[0].dat_r


async def receive_byte(ctx, tx, divisor):
    """Decode one 8N1 frame from ``tx`` by counting clock cycles; return the byte."""
    while ctx.get(tx):
        await ctx.tick()
    await ctx.tick().repeat(divisor // 2)            # middle of the start bit
    assert ctx.get(tx) == 0
    value = 0
    for bit in range(8):
        await ctx.tick().repeat(divisor)
        value |= ctx.get(tx) << bit
    await ctx.tick().repeat(divisor)
    assert ctx.get(tx) == 1, "stop bit"
    return value


@pytest.mark.parametrize("divisor", [4, 7])
def test_uart_transmit_stalls_and_frames(divisor):
    dut = UART(divisor=divisor)
    message = b"Hi\x00\xff\x5a"
    got = []
    stalled = []

    async def cpu(ctx):
        assert await read(ctx, dut.bus, uart_regs.DIVISOR) == divisor
        for byte in message:
            start = 0
            ctx.set(dut.bus.cyc, 1)
            ctx.set(dut.bus.stb, 1)
            ctx.set(dut.bus.we, 1)
            ctx.set(dut.bus.adr, uart_regs.DATA // 4)
            ctx.set(dut.bus.dat_w, 0xABCD00 | byte)
            ctx.set(dut.bus.sel, 0xF)
            while True:
                _, _, stall = await ctx.tick().sample(dut.bus.stall)
                if not stall:
                    break
                start += 1
            ctx.set(dut.bus.stb, 0)
            _, _, ack = await ctx.tick().sample(dut.bus.ack)
            assert ack
            ctx.set(dut.bus.cyc, 0)
            stalled.append(start)
        while await read(ctx, dut.bus, uart_regs.STATUS) & uart_regs.STATUS_TX_BUSY:
            pass

    async def line(ctx):
        for _ in message:
            got.append(await receive_byte(ctx, dut.tx, divisor))

    run(dut, cpu, line)
    assert bytes(got) == message
    assert stalled[0] == 0 and all(s > 5 * divisor for s in stalled[1:])


def test_uart_receive_and_divisor():
    divisor = 6
    dut = UART(divisor=9)
    rng = random.Random(5)
    data = [rng.randrange(256) for _ in range(4)]
    got = []

    async def cpu(ctx):
        await write(ctx, dut.bus, uart_regs.DIVISOR, divisor)
        assert await read(ctx, dut.bus, uart_regs.DIVISOR) == divisor
        ctx.set(dut.rx, 1)
        for value in data:
            assert not await read(ctx, dut.bus, uart_regs.STATUS) & uart_regs.STATUS_RX_VALID
            frame = [0] + [value >> i & 1 for i in range(8)] + [1]
            for bit in frame:
                ctx.set(dut.rx, bit)
                await ctx.tick().repeat(divisor)
            await ctx.tick().repeat(4)
            status = await read(ctx, dut.bus, uart_regs.STATUS)
            assert status & uart_regs.STATUS_RX_VALID
            word = await read(ctx, dut.bus, uart_regs.RX)
            assert word & ~0xFF == uart_regs.RX_POPPED
            got.append(word & 0xFF)
            assert not await read(ctx, dut.bus, uart_regs.STATUS) & uart_regs.STATUS_RX_VALID
            assert await read(ctx, dut.bus, uart_regs.RX) == 0         # empty: nothing popped

    run(dut, cpu)
    assert got == data


async def send_serial(ctx, rx, data, divisor):
    """Drive ``rx`` with 8N1 frames of ``data``, back to back."""
    for value in data:
        for bit in [0] + [value >> i & 1 for i in range(8)] + [1]:
            ctx.set(rx, bit)
            await ctx.tick().repeat(divisor)


@pytest.mark.parametrize("depth", [2, 5])
def test_uart_receive_fifo_keeps_order_and_flags_overrun(depth):
    divisor = 4
    dut = UART(divisor=divisor, rx_depth=depth)
    rng = random.Random(depth)
    data = [rng.randrange(256) for _ in range(depth + 3)]
    got = []

    async def line(ctx):
        ctx.set(dut.rx, 1)
        await ctx.tick().repeat(3)
        await send_serial(ctx, dut.rx, data[:depth], divisor)        # fills the FIFO exactly
        await ctx.tick().repeat(4 * divisor)
        assert not await read(ctx, dut.bus, uart_regs.STATUS) & uart_regs.STATUS_RX_OVERRUN
        await send_serial(ctx, dut.rx, data[depth:], divisor)        # dropped
        await ctx.tick().repeat(4 * divisor)
        status = await read(ctx, dut.bus, uart_regs.STATUS)
        assert status & uart_regs.STATUS_RX_OVERRUN and status & uart_regs.STATUS_RX_VALID
        assert status >> uart_regs.STATUS_RX_LEVEL_SHIFT == depth
        while (word := await read(ctx, dut.bus, uart_regs.RX)) & uart_regs.RX_POPPED:
            got.append(word & 0xFF)
        assert word == 0
        # Overrun stays until written back; a write without bit 2 keeps it.
        await write(ctx, dut.bus, uart_regs.STATUS, 0)
        assert await read(ctx, dut.bus, uart_regs.STATUS) & uart_regs.STATUS_RX_OVERRUN
        await write(ctx, dut.bus, uart_regs.STATUS, uart_regs.STATUS_RX_OVERRUN)
        assert await read(ctx, dut.bus, uart_regs.STATUS) == 0
        # After draining, reception goes on.
        await send_serial(ctx, dut.rx, [0x5A], divisor)
        await ctx.tick().repeat(4 * divisor)
        assert await read(ctx, dut.bus, uart_regs.RX) == uart_regs.RX_POPPED | 0x5A

    run(dut, line)
    assert got == data[:depth]


@pytest.mark.parametrize("divisor, skew", [(4, -0.015), (4, 0.015), (5, -0.015), (5, 0.015),
                                           (130, 0.015)])
def test_uart_receives_back_to_back_at_few_cycles_a_bit(divisor, skew):
    """A sender off by the 1.5 % boards.baud accepts, at any phase to the clock."""
    dut = UART(divisor=divisor)
    rng = random.Random(divisor)
    data = [rng.randrange(256) for _ in range(12 if divisor < 100 else 3)]
    bit = 1e-8 * divisor * (1 + skew)
    got = []

    async def line(ctx):
        ctx.set(dut.rx, 1)
        await ctx.delay(10e-8 + 0.37e-8)                  # not on a clock edge
        for value in data:
            for level in [0] + [value >> i & 1 for i in range(8)] + [1]:
                ctx.set(dut.rx, level)
                await ctx.delay(bit)
        await ctx.delay(4 * bit)
        while (word := await read(ctx, dut.bus, uart_regs.RX)) & uart_regs.RX_POPPED:
            got.append(word & 0xFF)

    run(dut, line)
    assert got == data


def test_uart_rejects_bad_divisor():
    assert_rejected(lambda: UART(divisor=1), match="divisor")
    assert_rejected(lambda: UART(divisor=4, rx_depth=1), match="rx_depth")


def test_timer_counts_and_latches_high():
    dut = Timer()

    async def bench(ctx):
        first = await read(ctx, dut.bus, 0x0)
        await ctx.tick().repeat(10)
        second = await read(ctx, dut.bus, 0x0)
        assert second - first == 10 + 3                 # the read itself took 3 cycles
        assert await read(ctx, dut.bus, 0x4) == 0

    run(dut, bench)


def test_timer_high_word_is_latched_by_low_read():
    dut = Timer()

    async def bench(ctx):
        await ctx.tick()
        # Force the counter just below a carry into bit 32 (simulation-only shortcut).
        ctx.set(dut._count, (1 << 32) - 2)
        lo = await read(ctx, dut.bus, 0x0)
        await ctx.tick().repeat(5)                       # the count carries meanwhile
        hi = await read(ctx, dut.bus, 0x4)
        assert (hi, lo) == (0, 0xFFFF_FFFE)
        lo = await read(ctx, dut.bus, 0x0)
        hi = await read(ctx, dut.bus, 0x4)
        assert hi == 1 and lo < 100

    run(dut, bench)


def test_leds_register():
    dut = LEDs(width=8)

    async def bench(ctx):
        await write(ctx, dut.bus, 0, 0x1234_56A5)
        assert ctx.get(dut.leds) == 0xA5
        assert await read(ctx, dut.bus, 0) == 0xA5
        await write(ctx, dut.bus, 0, 0x0000_003C, sel=0b0010)   # lane 1 only: no change
        assert ctx.get(dut.leds) == 0xA5
        await write(ctx, dut.bus, 0, 0x3C, sel=0b0001)
        assert ctx.get(dut.leds) == 0x3C

    run(dut, bench)
