"""Accumulator against a cycle-accurate Python model under random traffic on every port."""

import random

import pytest
from amaranth.back import verilog
from amaranth.sim import Simulator

from accel.memory.accumulator import Accumulator


def pack(row, width):
    mask = (1 << width) - 1
    return sum((v & mask) << (k * width) for k, v in enumerate(row))


def unpack(value, width, lanes):
    mask, half = (1 << width) - 1, 1 << (width - 1)
    return [(((value >> (k * width)) & mask) ^ half) - half for k in range(lanes)]


def wrap(value, width):
    half = 1 << (width - 1)
    return ((value + half) & ((1 << width) - 1)) - half


class AccumulatorModel:
    """Cycle-accurate model: fixed-priority arbitration (lowest ``en`` index wins), a write
    accepted in cycle t lands at the end of t + 1, ``busy`` is high in t + 1, reads take one cycle
    and do not see a write landing in the cycle they are issued. Writes past ``depth`` vanish."""

    def __init__(self, depth, lanes, elem_width, read_ports):
        self.depth, self.width = depth, elem_width
        self.mem = [[0] * lanes for _ in range(depth)]
        self.out = [[0] * lanes for _ in range(read_ports)]
        self.pending = None      # write accepted last cycle; lands at the end of this one

    def arbitrate(self, writes):
        """``ready`` of every write port, and ``busy``, before the clock edge."""
        ready, blocked = [], False
        for en, *_ in writes:
            ready.append(not blocked)
            blocked = blocked or bool(en)
        return ready, self.pending is not None

    def step(self, reads, writes):
        """``reads``: (en, addr); ``writes``: (en, addr, row, mask, accumulate). Returns the
        index of the accepted port (or None) and the read data after the clock edge."""
        for i, (en, addr) in enumerate(reads):
            if en:
                self.out[i] = list(self.mem[addr])
        if self.pending is not None:
            addr, row, mask, acc = self.pending
            stored = self.mem[addr]
            for k, v in enumerate(row):
                if mask >> k & 1:
                    stored[k] = wrap(stored[k] + v, self.width) if acc else v
        accepted = next((j for j, w in enumerate(writes) if w[0]), None)
        self.pending = None
        if accepted is not None and writes[accepted][1] < self.depth:
            self.pending = writes[accepted][1:]
        return accepted, [list(o) for o in self.out]


def run(dut, testbench):
    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(testbench)
    sim.run()


def set_write(ctx, port, width, en, addr, row, mask, acc):
    ctx.set(port.en, en)
    ctx.set(port.addr, addr)
    ctx.set(port.data.as_value(), pack(row, width))
    ctx.set(port.mask, mask)
    ctx.set(port.accumulate, acc)


def random_traffic(seed, *, depth, lanes, elem_width, banks, read_ports, write_ports, cycles,
                   rates):
    dut = Accumulator(depth=depth, lanes=lanes, elem_width=elem_width, banks=banks,
                      read_ports=read_ports, write_ports=write_ports)
    rng = random.Random(seed)
    model = AccumulatorModel(depth, lanes, elem_width, read_ports)
    lo, hi = -(1 << (elem_width - 1)), (1 << (elem_width - 1)) - 1
    hot = [rng.randrange(depth) for _ in range(2)]
    full = (1 << lanes) - 1
    top = 1 << dut.addr_width
    stats = {"accepted": 0, "same_row_b2b": 0, "contended": 0}

    def addr(for_write):
        if for_write and top > depth and rng.random() < 0.03:
            return rng.randrange(depth, top)  # out of range: accepted and dropped
        return rng.choice(hot) if rng.random() < 0.5 else rng.randrange(depth)

    def new_write():
        mask = full if rng.random() < 0.5 else rng.randrange(1 << lanes)
        row = [rng.choice([lo, hi, rng.randint(lo, hi)]) for _ in range(lanes)]
        return [1, addr(True), row, mask, int(rng.random() < 0.7)]

    idle = [0, 0, [0] * lanes, 0, 0]
    held = [None] * write_ports      # each writer's request, held until accepted
    last_addr = None

    async def testbench(ctx):
        nonlocal last_addr
        for _ in range(cycles):
            for j in range(write_ports):
                if held[j] is None and rng.random() < rates[j]:
                    held[j] = new_write()
            writes = [h if h is not None else idle for h in held]
            reads = [(int(rng.random() < 0.6), addr(False)) for _ in range(read_ports)]
            for i, (en, a) in enumerate(reads):
                ctx.set(dut.read_port(i).en, en)
                ctx.set(dut.read_port(i).addr, a)
            for j, w in enumerate(writes):
                set_write(ctx, dut.write_port(j), elem_width, *w)
            ready, busy = model.arbitrate(writes)
            for j in range(write_ports):
                assert ctx.get(dut.write_port(j).ready) == ready[j], f"write{j}.ready"
                assert ctx.get(dut.write_port(j).busy) == busy, f"write{j}.busy"
            accepted, expect = model.step(reads, writes)
            if sum(w[0] for w in writes) > 1:
                stats["contended"] += 1
            if accepted is not None:
                stats["accepted"] += 1
                a = writes[accepted][1]
                if a == last_addr and writes[accepted][4]:
                    stats["same_row_b2b"] += 1
                last_addr = a
                held[accepted] = None
            else:
                last_addr = None
            await ctx.tick()
            for i in range(read_ports):
                got = unpack(ctx.get(dut.read_port(i).data.as_value()), elem_width, lanes)
                assert got == expect[i], f"read{i}: got {got}, expected {expect[i]}"
        # Drain, then read every row back through port 0.
        for j in range(write_ports):
            set_write(ctx, dut.write_port(j), elem_width, *idle)
        for i in range(read_ports):
            ctx.set(dut.read_port(i).en, 0)
        model.step([(0, 0)] * read_ports, [idle] * write_ports)
        await ctx.tick()
        assert not ctx.get(dut.write0.busy)
        model.step([(0, 0)] * read_ports, [idle] * write_ports)
        for a in range(depth):
            ctx.set(dut.read0.en, 1)
            ctx.set(dut.read0.addr, a)
            await ctx.tick()
            got = unpack(ctx.get(dut.read0.data.as_value()), elem_width, lanes)
            assert got == model.mem[a], f"row {a}: got {got}, expected {model.mem[a]}"

    run(dut, testbench)
    assert stats["accepted"] > cycles // 3
    assert stats["same_row_b2b"] > 10
    if write_ports > 1:
        assert stats["contended"] > 10


@pytest.mark.slow
@pytest.mark.parametrize("depth, lanes, elem_width, banks, read_ports, rates", [
    (8, 1, 8, 1, 1, (0.9,)),
    (16, 3, 6, 2, 2, (0.5, 0.5)),
    (24, 4, 8, 4, 1, (0.3, 0.6, 0.9)),   # depth not a power of two
    (64, 4, 6, 4, 2, (1.0, 0.3)),        # writer 0 saturates: writer 1 mostly starves
    (32, 3, 8, 1, 2, (0.7, 0.7)),
    (48, 1, 6, 2, 1, (0.4, 0.4, 0.4)),
])
def test_random_traffic(depth, lanes, elem_width, banks, read_ports, rates):
    random_traffic(depth * 1000 + lanes * 100 + banks * 10 + len(rates), depth=depth,
                   lanes=lanes, elem_width=elem_width, banks=banks, read_ports=read_ports,
                   write_ports=len(rates), cycles=1500, rates=rates)


@pytest.mark.parametrize("banks", [1, 2, 4])
def test_back_to_back_accumulates_at_full_rate(banks):
    """One write accepted every cycle: a run of same-row accumulates, then rows alternating at
    distance 1 and 2 (the forwarding and the landed-write cases), all exact, busy one cycle."""
    width, lanes, depth = 6, 3, 8
    dut = Accumulator(depth=depth, lanes=lanes, elem_width=width, banks=banks, read_ports=1,
                      write_ports=2)
    addrs = [5] * 20 + [1, 2] * 8 + [3, 4, 3, 3, 4, 4] * 3
    rng = random.Random(banks)
    stream = [(a, [rng.randint(-32, 31) for _ in range(lanes)]) for a in addrs]
    expect = {}
    for a, row in stream:
        base = expect.get(a, [0] * lanes)
        expect[a] = [wrap(x + y, width) for x, y in zip(base, row)]

    async def testbench(ctx):
        for n, (a, row) in enumerate(stream):
            set_write(ctx, dut.write0, width, 1, a, row, 0b111, 1)
            assert ctx.get(dut.write0.ready)
            assert ctx.get(dut.write0.busy) == (n > 0)
            await ctx.tick()
        set_write(ctx, dut.write0, width, 0, 0, [0] * lanes, 0, 0)
        assert ctx.get(dut.write0.busy)
        await ctx.tick()
        assert not ctx.get(dut.write0.busy) and not ctx.get(dut.write1.busy)
        for a, row in expect.items():
            ctx.set(dut.read0.en, 1)
            ctx.set(dut.read0.addr, a)
            await ctx.tick()
            assert unpack(ctx.get(dut.read0.data.as_value()), width, lanes) == row

    run(dut, testbench)


def test_priority_overwrite_mask_and_read_timing():
    dut = Accumulator(depth=8, lanes=2, elem_width=8, banks=2, read_ports=1, write_ports=2)

    def rd(ctx, en, addr):
        ctx.set(dut.read0.en, en)
        ctx.set(dut.read0.addr, addr)

    def data(ctx):
        return unpack(ctx.get(dut.read0.data.as_value()), 8, 2)

    async def testbench(ctx):
        # Both request: port 0 wins; port 1 is not ready and holds.
        set_write(ctx, dut.write0, 8, 1, 3, [100, -100], 0b11, 0)
        set_write(ctx, dut.write1, 8, 1, 3, [50, 50], 0b01, 1)
        assert ctx.get(dut.write0.ready) and not ctx.get(dut.write1.ready)
        await ctx.tick()                              # cycle t: write0 accepted
        set_write(ctx, dut.write0, 8, 0, 0, [0, 0], 0, 0)
        assert ctx.get(dut.write1.ready) and ctx.get(dut.write0.busy)
        rd(ctx, 1, 3)                                 # t + 1: landing cycle, sees old row
        await ctx.tick()                              # write1 accepted (accumulate lane 0)
        assert data(ctx) == [0, 0]
        set_write(ctx, dut.write1, 8, 0, 0, [0, 0], 0, 0)
        rd(ctx, 1, 3)                                 # t + 2: sees write0, not write1
        await ctx.tick()
        assert data(ctx) == [100, -100]
        assert not ctx.get(dut.write0.busy)
        rd(ctx, 1, 3)
        await ctx.tick()
        assert data(ctx) == [-106, -100]              # 150 wraps modulo 2**8
        rd(ctx, 0, 0)
        await ctx.tick()
        assert data(ctx) == [-106, -100]              # held

    run(dut, testbench)


@pytest.mark.parametrize("kwargs, message", [
    (dict(depth=6), "depth must be a multiple of banks=4, not 6"),
    (dict(banks=6, depth=12), "banks must be a power of two, not 6"),
    (dict(write_ports=0), "write_ports must be an integer of at least 1, not 0"),
    (dict(elem_width=0), "elem_width must be an integer of at least 1, not 0"),
])
def test_bad_arguments(kwargs, message):
    args = dict(depth=16, lanes=4, elem_width=8, banks=4, read_ports=1, write_ports=2) | kwargs
    with pytest.raises(ValueError, match=message):
        Accumulator(**args)


@pytest.mark.slow
def test_converts_to_verilog():
    text = verilog.convert(Accumulator(depth=24, lanes=3, elem_width=6, banks=4, read_ports=2,
                                       write_ports=3), name="accumulator")
    assert "module accumulator" in text
