"""Scratchpad against a cycle-accurate Python model under random traffic on every port."""

import random
import time

import pytest
from amaranth.back import verilog
from amaranth.hdl import Fragment
from amaranth.sim import Simulator

from accel.memory.scratchpad import Scratchpad


def pack(row, width):
    mask = (1 << width) - 1
    return sum((v & mask) << (k * width) for k, v in enumerate(row))


def unpack(value, width, lanes):
    mask, half = (1 << width) - 1, 1 << (width - 1)
    return [(((value >> (k * width)) & mask) ^ half) - half for k in range(lanes)]


class ScratchpadModel:
    """Cycle-accurate model: 1-cycle non-transparent reads, writes land at the clock edge, on a
    collision the lowest-indexed port enabling an element wins, writes past ``depth`` vanish."""

    def __init__(self, depth, lanes, read_ports):
        self.depth = depth
        self.mem = [[0] * lanes for _ in range(depth)]
        self.out = [[0] * lanes for _ in range(read_ports)]

    def step(self, reads, writes):
        """``reads``: (en, addr) per port; ``writes``: (en, addr, row, mask) per port. Returns the
        read data visible after the clock edge."""
        for i, (en, addr) in enumerate(reads):
            if en:
                self.out[i] = list(self.mem[addr])
        for en, addr, row, mask in reversed(writes):  # lowest index last, so it wins
            if en and addr < self.depth:
                for k, v in enumerate(row):
                    if mask >> k & 1:
                        self.mem[addr][k] = v
        return [list(o) for o in self.out]


def run(dut, testbench):
    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(testbench)
    sim.run()


def random_traffic(seed, *, depth, lanes, elem_width, banks, read_ports, write_ports, cycles):
    dut = Scratchpad(depth=depth, lanes=lanes, elem_width=elem_width, banks=banks,
                     read_ports=read_ports, write_ports=write_ports)
    rng = random.Random(seed)
    model = ScratchpadModel(depth, lanes, read_ports)
    lo, hi = -(1 << (elem_width - 1)), (1 << (elem_width - 1)) - 1
    hot = [rng.randrange(depth) for _ in range(3)]
    full = (1 << lanes) - 1
    top = 1 << dut.addr_width
    checked = [0]

    def addr(for_write):
        if for_write and top > depth and rng.random() < 0.05:
            return rng.randrange(depth, top)  # out of range: must be ignored
        return rng.choice(hot) if rng.random() < 0.4 else rng.randrange(depth)

    async def testbench(ctx):
        for _ in range(cycles):
            reads = [(int(rng.random() < 0.6), addr(False)) for _ in range(read_ports)]
            writes = []
            for _ in range(write_ports):
                mask = full if rng.random() < 0.4 else rng.randrange(1 << lanes)
                row = [rng.choice([lo, hi, 0, rng.randint(lo, hi)]) for _ in range(lanes)]
                writes.append((int(rng.random() < 0.5), addr(True), row, mask))
            for i, (en, a) in enumerate(reads):
                port = dut.read_port(i)
                ctx.set(port.en, en)
                ctx.set(port.addr, a)
            for j, (en, a, row, mask) in enumerate(writes):
                port = dut.write_port(j)
                ctx.set(port.en, en)
                ctx.set(port.addr, a)
                ctx.set(port.data.as_value(), pack(row, elem_width))
                ctx.set(port.mask, mask)
            expect = model.step(reads, writes)
            await ctx.tick()
            for i in range(read_ports):
                got = unpack(ctx.get(dut.read_port(i).data.as_value()), elem_width, lanes)
                assert got == expect[i], f"read{i}: got {got}, expected {expect[i]}"
                checked[0] += 1

    run(dut, testbench)
    assert checked[0] == cycles * read_ports


@pytest.mark.slow
@pytest.mark.parametrize("depth, lanes, elem_width, banks, read_ports, write_ports", [
    (8, 1, 8, 1, 1, 1),
    (16, 3, 6, 2, 2, 2),
    (24, 4, 8, 4, 2, 3),   # depth not a power of two: out-of-range writes are ignored
    (64, 4, 8, 4, 3, 1),
    (32, 3, 6, 1, 1, 2),
    (48, 1, 6, 2, 2, 2),
])
def test_random_traffic(depth, lanes, elem_width, banks, read_ports, write_ports):
    random_traffic(depth * 1000 + lanes * 100 + banks * 10 + write_ports, depth=depth,
                   lanes=lanes, elem_width=elem_width, banks=banks, read_ports=read_ports,
                   write_ports=write_ports, cycles=1500)


def test_collision_lower_index_wins_and_read_returns_old():
    dut = Scratchpad(depth=8, lanes=4, elem_width=8, banks=2, read_ports=2, write_ports=2)

    async def write(ctx, j, en, addr, row, mask):
        port = dut.write_port(j)
        ctx.set(port.en, en)
        ctx.set(port.addr, addr)
        ctx.set(port.data.as_value(), pack(row, 8))
        ctx.set(port.mask, mask)

    def read(ctx, i, en, addr):
        ctx.set(dut.read_port(i).en, en)
        ctx.set(dut.read_port(i).addr, addr)

    def data(ctx, i):
        return unpack(ctx.get(dut.read_port(i).data.as_value()), 8, 4)

    async def testbench(ctx):
        await write(ctx, 0, 1, 5, [1, 2, 3, 4], 0b1111)
        await ctx.tick()
        # Both ports write row 5; port 0 enables lanes 0, 1; port 1 lanes 1, 2. Meanwhile both
        # read ports read row 5: they must return the old row.
        await write(ctx, 0, 1, 5, [10, 11, 12, 13], 0b0011)
        await write(ctx, 1, 1, 5, [-20, -21, -22, -23], 0b0110)
        read(ctx, 0, 1, 5)
        read(ctx, 1, 1, 5)
        await ctx.tick()
        assert data(ctx, 0) == [1, 2, 3, 4]
        assert data(ctx, 1) == [1, 2, 3, 4]
        await write(ctx, 0, 0, 0, [0] * 4, 0)
        await write(ctx, 1, 0, 0, [0] * 4, 0)
        read(ctx, 0, 1, 5)
        read(ctx, 1, 0, 0)
        await ctx.tick()
        assert data(ctx, 0) == [10, 11, -22, 4]
        assert data(ctx, 1) == [1, 2, 3, 4]   # held: no new read on port 1
        read(ctx, 0, 0, 0)
        await ctx.tick()
        await ctx.tick()
        assert data(ctx, 0) == [10, 11, -22, 4]   # held until the next read

    run(dut, testbench)


@pytest.mark.parametrize("kwargs, message", [
    (dict(depth=0), "depth must be an integer of at least 1, not 0"),
    (dict(lanes=1.5), "lanes must be an integer of at least 1, not 1.5"),
    (dict(banks=3, depth=12), "banks must be a power of two, not 3"),
    (dict(depth=10), "depth must be a multiple of banks=4, not 10"),
    (dict(read_ports=0), "read_ports must be an integer of at least 1, not 0"),
    (dict(write_ports=True), "write_ports must be an integer of at least 1, not True"),
])
def test_bad_arguments(kwargs, message):
    args = dict(depth=16, lanes=4, elem_width=8, banks=4, read_ports=1) | kwargs
    with pytest.raises(ValueError, match=message):
        Scratchpad(**args)


def test_members():
    dut = Scratchpad(depth=24, lanes=3, elem_width=6, banks=2, read_ports=2, write_ports=2)
    assert sorted(dut.signature.members) == ["read0", "read1", "write0", "write1"]
    assert dut.addr_width == 5 and dut.bank_depth == 12
    assert len(dut.read0.addr) == 5 and len(dut.write1.mask) == 3
    Fragment.get(dut, None)     # and it elaborates (so it is not "created but never used")


@pytest.mark.slow
def test_converts_to_verilog():
    text = verilog.convert(Scratchpad(depth=24, lanes=3, elem_width=6, banks=4, read_ports=2,
                                      write_ports=2), name="scratchpad")
    assert "module scratchpad" in text


@pytest.mark.slow
def test_large_converts_quickly():
    start = time.monotonic()
    text = verilog.convert(Scratchpad(depth=1024, lanes=16, elem_width=8, banks=4, read_ports=2),
                           name="scratchpad")
    assert "module scratchpad" in text
    assert time.monotonic() - start < 20
