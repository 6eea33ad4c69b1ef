# amaranth: UnusedElaboratable=no
"""The DMA's window guard (Amaranth simulator): no request outside the window, ever.

A watcher samples the bus every cycle and records each word presented with ``stb`` (accepted or
stalled), so "no bus transaction outside the window" is checked on every cycle, not only on
accepted requests. Row-level expectations follow the guard's contract: a row all of whose bus
words lie inside the window is moved exactly; a read row with a word outside carries ``err``; a
write command with a word outside reports ``done.err`` and writes nothing outside the window.
"""

from __future__ import annotations

import random

import pytest
from amaranth.sim import Simulator

from sim.wishbone_memory import WishboneMemory
from tests.memory.test_dma import (MEM_SIZE, check_reads, command, make_dut, random_rows,
                                   reader_bench, run, writer_bench)


def watch_bus(dut, presented: list):
    """A process recording ``(we, byte address)`` of every word presented with ``stb``."""
    nb = dut.data_width // 8

    async def watcher(ctx):
        async for _, _, cyc, stb, we, adr in ctx.tick().sample(dut.bus.cyc, dut.bus.stb,
                                                                dut.bus.we, dut.bus.adr):
            if cyc and stb:
                presented.append((we, adr * nb))
    return watcher


def run_with_window(dut, mem, benches, window, max_cycles):
    """Run ``benches`` with the window inputs held at ``window`` (base, last) throughout;
    return the words presented on the bus."""
    async def hold(ctx):
        ctx.set(dut.window_base, window[0])
        ctx.set(dut.window_last, window[1])
    presented = []
    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_process(mem.process)
    sim.add_process(watch_bus(dut, presented))
    for bench in (hold, *benches):
        sim.add_testbench(bench)
    while sim.advance():
        if mem.cycles > max_cycles:
            raise AssertionError(f"simulation did not finish within {max_cycles} cycles")
    return presented


def row_words_inside(cmd: dict, r: int, nb: int, window) -> bool:
    """Whether every bus word covering row ``r`` of ``cmd`` lies inside ``window``."""
    start = cmd["addr"] + r * cmd["stride"]
    first = start // nb * nb
    final = (start + cmd["row_bytes"] - 1) // nb * nb + nb - 1
    return window[0] <= first and final <= window[1]


def assert_presented_inside(presented, nb, window):
    outside = [(we, hex(a)) for we, a in presented if a < window[0] or a + nb - 1 > window[1]]
    assert not outside, f"{len(outside)} words presented outside the window: {outside[:5]}"


@pytest.mark.slow
@pytest.mark.parametrize("data_width", [8, 32, 64])
def test_reads_straddling_the_window(data_width):
    """Rows inside the window are read exactly; a row with a word outside carries err, the
    command still delivers all its rows, and no word outside is ever presented."""
    nb = data_width // 8
    mrb = 12
    dut = make_dut(data_width, mrb)
    mem = WishboneMemory(dut.bus, size=MEM_SIZE, seed=51, stall_prob=0.3, max_latency=4)
    image = bytes(mem.data)
    window = (512, 1023)
    cmds = [
        command(600, 40, 4, 12),                     # inside
        command(1023 - 2 * 100 - 5, 100, 4, 12),     # rows 2, 3 cross the top
        command(512 - 3, 7, 3, 10),                  # every row crosses the bottom
        command(100, 0, 2, 4),                       # wholly below
        command(1020, 8, 1, 4),                      # the window's last bytes (aligned end)
        command(700, 3, 5, 9),                       # inside, overlapping rows
    ]
    got = []
    presented = run_with_window(dut, mem, reader_bench(dut, mem, random.Random(2), cmds, got,
                                                       stall_prob=0.2), window, 20_000)
    assert_presented_inside(presented, nb, window)
    assert presented, "nothing was read at all"
    errs = []
    for cmd, beats in zip(cmds, got):
        assert len(beats) == cmd["rows"]
        for r, (data, last, err) in enumerate(beats):
            assert last == (r == cmd["rows"] - 1)
            inside = row_words_inside(cmd, r, nb, window)
            assert err == (not inside), (cmd, r)
            if inside:
                start = cmd["addr"] + r * cmd["stride"]
                assert data[:cmd["row_bytes"]] == image[start:start + cmd["row_bytes"]]
            errs.append(err)
    assert 0 < sum(errs) < len(errs)


@pytest.mark.parametrize("data_width", [8, 32, 64])
def test_writes_straddling_the_window(data_width):
    """A write command with a word outside the window reports err and changes no byte outside
    it; commands inside are written exactly; no word outside is ever presented."""
    rng = random.Random(61)
    nb = data_width // 8
    mrb = 12
    dut = make_dut(data_width, mrb)
    mem = WishboneMemory(dut.bus, size=MEM_SIZE, seed=61, stall_prob=0.3, max_latency=4)
    old = bytes(mem.data)
    window = (1024, 1535)
    cmds = [
        command(1100, 30, 3, 12),                    # inside
        command(1535 - 2 * 50 - 3, 50, 4, 12),       # row 2 crosses the top
        command(1000, 12, 3, 12),                    # row 0 below, row 2 inside
        command(1200, 13, 4, 11),                    # inside again after the failures
    ]
    rows = [random_rows(rng, cmd, mrb) for cmd in cmds]
    dones = []
    presented = run_with_window(dut, mem, writer_bench(dut, rng, cmds, rows, dones,
                                                       gap_prob=0.2), window, 20_000)
    assert_presented_inside(presented, nb, window)
    assert dones == [0, 1, 1, 0]
    for addr in [*range(window[0]), *range(window[1] + 1, MEM_SIZE)]:
        assert mem.data[addr] == old[addr], addr
    for index in (0, 3):
        cmd = cmds[index]
        for r in range(cmd["rows"]):
            start = cmd["addr"] + r * cmd["stride"]
            if index == 0 and start + cmd["row_bytes"] > cmds[3]["addr"]:
                continue                              # overwritten by command 3
            assert mem.data[start:start + cmd["row_bytes"]] == \
                rows[index][r][:cmd["row_bytes"]], (index, r)


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(3))
def test_random_windows_and_commands_both_channels(seed):
    """Random (also unaligned) windows, random reads and writes running concurrently: nothing
    presented outside, read rows flagged exactly when a word is outside, writes stay inside."""
    rng = random.Random(seed)
    data_width = rng.choice([16, 32, 64])
    nb = data_width // 8
    mrb = rng.choice([5, 16])
    dut = make_dut(data_width, mrb, max_outstanding=rng.choice([1, 3]))
    mem = WishboneMemory(dut.bus, size=MEM_SIZE, seed=seed, stall_prob=0.25, max_latency=3)
    old = bytes(mem.data)
    base = rng.randrange(200, 800)
    window = (base, base + rng.randrange(300, 700))
    near = (window[0] - 100, window[1] + 100)        # commands around the window's edges

    def cmd():
        rows = rng.randint(1, 4)
        row_bytes = rng.randint(1, mrb)
        stride = rng.choice([0, row_bytes, rng.randint(1, 90)])
        addr = rng.randint(near[0], near[1] - (rows - 1) * stride - row_bytes)
        return command(addr, stride, rows, row_bytes)

    reads = [cmd() for _ in range(10)]
    writes = [cmd() for _ in range(10)]
    rows = [random_rows(rng, c, mrb) for c in writes]
    got, dones = [], []
    benches = reader_bench(dut, mem, rng, reads, got, stall_prob=0.2) + \
        writer_bench(dut, rng, writes, rows, dones, gap_prob=0.1)
    presented = run_with_window(dut, mem, benches, window, 40_000)
    assert_presented_inside(presented, nb, window)
    for c, beats in zip(reads, got):
        for r, (_, _, err) in enumerate(beats):
            assert err == (not row_words_inside(c, r, nb, window)), (c, r)
    for c, err in zip(writes, dones):
        assert err == (not all(row_words_inside(c, r, nb, window) for r in range(c["rows"])))
    for addr in [*range(window[0]), *range(window[1] + 1, MEM_SIZE)]:
        assert mem.data[addr] == old[addr], addr
    inside_reads = [c for c in reads if all(row_words_inside(c, r, nb, window)
                                            for r in range(c["rows"]))]
    assert inside_reads and len(inside_reads) < len(reads)


def test_whole_space_by_default():
    """Unconnected window inputs reset to the whole address space: the top word is reachable."""
    dut = make_dut(32, 8)
    assert (dut.window_base.init, dut.window_last.init) == (0, (1 << 32) - 1)
    mem = WishboneMemory(dut.bus, size=MEM_SIZE, seed=71)
    cmds = [command(MEM_SIZE - 8, 0, 2, 8), command(0, 4, 2, 4)]
    got = []
    run(dut, mem, reader_bench(dut, mem, random.Random(3), cmds, got), 5_000)
    check_reads(cmds, bytes(mem.data), got)
