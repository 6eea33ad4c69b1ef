# amaranth: UnusedElaboratable=no
"""The command fetcher against a random-latency Wishbone memory (Amaranth simulator): core
commands pass through, EXEC_BUFFER records come out in order with their positions, for every
bus width and record alignment; bad words and bus errors are flagged."""

from __future__ import annotations

import random
import struct

import pytest
from amaranth.sim import Simulator

from accel.config import AccelConfig
from accel.control.command_fetch import CommandFetch
from accel.isa import Command, encode, records
from sim.wishbone_memory import WishboneMemory
from tests.support.streams import receive, send

MEM_SIZE = 4096


def _config(bus_width):
    return AccelConfig(rows=2, cols=2, sp_kib=1, acc_kib=1, sp_banks=1, acc_banks=1,
                       bus_width=bus_width, mem_addr_width=12)


def _core(cmd: Command) -> dict:
    return {"funct7": cmd.funct7, "funct3": cmd.funct3, "rs1": cmd.rs1, "rs2": cmd.rs2}


def _random_commands(rng, count):
    names = ["config_load", "fence", "status", "reset_counters"]
    out = []
    for _ in range(count):
        name = rng.choice(names)
        out.append(encode(name, stride=rng.getrandbits(32)) if name == "config_load"
                   else encode(name))
    return out


def _run(bus_width, image, core_cmds, starts, expect, *, seed=0, stall_prob=0.3,
         max_latency=3, ready_prob=0.7, err_ranges=()):
    """Send ``core_cmds``; answer each EXEC_BUFFER with the next of ``starts`` (run, addr,
    count); return the ``expect`` commands the fetcher gives, as dicts."""
    dut = CommandFetch(_config(bus_width))
    mem = WishboneMemory(dut.bus, size=MEM_SIZE, init=bytes(image), seed=seed,
                         stall_prob=stall_prob, min_latency=1, max_latency=max_latency,
                         err_ranges=err_ranges)
    rng = random.Random(seed)
    got = []
    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_process(mem.process)

    async def core(ctx):
        await send(ctx, dut.core, [_core(c) for c in core_cmds], rng=rng, gap_prob=0.3)

    async def dispatcher(ctx):
        pending = list(starts)
        while len(got) < expect:
            ready = rng.random() < ready_prob
            ctx.set(dut.cmd.ready, ready)
            ctx.set(dut.start.valid, 0)
            _, _, valid, payload = await ctx.tick().sample(dut.cmd.valid, dut.cmd.payload)
            if not (ready and valid):
                continue
            beat = {name: int(getattr(payload, name)) for name in
                    ("funct7", "funct3", "rs1", "rs2", "position", "last", "bad", "bus_err")}
            got.append(beat)
            if beat["position"] == 0 and (beat["funct7"], beat["funct3"]) == (0x18, 0):
                run, addr, count = pending.pop(0)
                await ctx.tick()  # the dispatcher answers a few cycles later
                ctx.set(dut.start.payload, {"run": run, "addr": addr, "count": count})
                ctx.set(dut.start.valid, 1)
                await ctx.tick()
                ctx.set(dut.start.valid, 0)
        ctx.set(dut.cmd.ready, 0)

    sim.add_testbench(core)
    sim.add_testbench(dispatcher)
    while sim.advance():
        if mem.cycles > 20_000:
            raise AssertionError("the fetcher did not finish within 20000 cycles")
    return got


def _as_command(beat):
    return Command(beat["funct7"], beat["funct3"], beat["rs1"], beat["rs2"])


@pytest.mark.parametrize("bus_width", [8, 32, 64, 128])
@pytest.mark.parametrize("offset", [0, 4, 8])
def test_records_in_order(bus_width, offset):
    rng = random.Random(bus_width * 10 + offset)
    buffer = _random_commands(rng, 9)
    addr = 0x400 + offset
    image = bytearray(rng.randbytes(MEM_SIZE))
    data = records(buffer)
    image[addr:addr + len(data)] = data
    before, after = _random_commands(rng, 3), _random_commands(rng, 2)
    exec_buffer = encode("exec_buffer", mem_addr=addr, count=len(buffer))
    got = _run(bus_width, image, before + [exec_buffer] + after, [(1, addr, len(buffer))],
               len(before) + 1 + len(buffer) + len(after), seed=offset)
    direct = len(before) + 1
    assert [_as_command(b) for b in got[:direct]] == before + [exec_buffer]
    assert all(b["position"] == 0 for b in got[:direct] + got[direct + len(buffer):])
    fetched = got[direct:direct + len(buffer)]
    assert [_as_command(b) for b in fetched] == buffer
    assert [b["position"] for b in fetched] == list(range(1, len(buffer) + 1))
    assert [b["last"] for b in fetched] == [0] * (len(buffer) - 1) + [1]
    assert not any(b["bad"] or b["bus_err"] for b in fetched)
    assert [_as_command(b) for b in got[direct + len(buffer):]] == after


def test_exec_buffer_that_does_not_run_passes_the_next_command():
    after = [encode("fence"), encode("status")]
    exec_buffer = encode("exec_buffer", mem_addr=0x10, count=3)
    got = _run(32, bytes(MEM_SIZE), [exec_buffer] + after, [(0, 0x10, 3)], 3)
    assert [_as_command(b) for b in got] == [exec_buffer] + after


def test_bad_words_and_bus_errors_are_flagged():
    words = [encode("fence"), encode("fence"), encode("fence"), encode("fence")]
    image = bytearray(MEM_SIZE)
    data = bytearray(records(words))
    struct.pack_into("<I", data, 12, encode("fence").word(rd=3))      # record 1: rd != 0
    image[0x200:0x200 + len(data)] = data
    exec_buffer = encode("exec_buffer", mem_addr=0x200, count=4)
    got = _run(32, image, [exec_buffer], [(1, 0x200, 4)], 5,
               err_ranges=[(0x200 + 24, 0x200 + 28)])               # record 2's word
    assert [b["bad"] for b in got[1:3]] == [0, 1]   # (a failed word reads as anything)
    assert [b["bus_err"] for b in got[1:]] == [0, 0, 1, 0]


def test_a_full_length_record_stream_at_one_per_cycle():
    """A 128-bit bus without wait states feeds a ready dispatcher about one record per cycle."""
    buffer = [encode("fence")] * 64
    image = bytearray(MEM_SIZE)
    image[0x100:0x100 + 12 * 64] = records(buffer)
    dut = CommandFetch(_config(128), depth=4)
    mem = WishboneMemory(dut.bus, size=MEM_SIZE, init=bytes(image), seed=1, stall_prob=0.0,
                         min_latency=1, max_latency=1)
    cycles = []
    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_process(mem.process)

    async def bench(ctx):
        ctx.set(dut.start.payload, {"run": 1, "addr": 0x100, "count": 64})
        ctx.set(dut.start.valid, 1)
        await ctx.tick()
        ctx.set(dut.start.valid, 0)
        beats = await receive(ctx, dut.cmd, 64)
        cycles.append(mem.cycles)
        assert [int(b.position) for b in beats] == list(range(1, 65))

    sim.add_testbench(bench)
    sim.run()
    assert cycles[0] <= 64 + 12, cycles
