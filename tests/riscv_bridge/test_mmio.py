"""`MMIOCommandPort` driven by a pipelined Wishbone master model, in the Amaranth simulator.

The master (`tests.support.wishbone_master.burst`) issues RS1/RS2/ISSUE writes and
RESULT/STATUS reads with random idle cycles; a monitor checks the slave side of the protocol
(one response per accepted request, none without an outstanding request or outside a bus
cycle, never ``err``). The accelerator side is the fake of ``test_pcpi`` (random back-pressure
and latency) or the real `Accelerator`, checked against the golden model.
"""

import random

import pytest
from amaranth import Module
from amaranth.lib import wiring
from amaranth.sim import Simulator

from accel.accelerator import Accelerator
from accel.isa import Command
from accel.riscv_bridge import (REGISTERS, STATUS_IN_FLIGHT, STATUS_RESULT_VALID,
                                MMIOCommandPort)
from sim.wishbone_memory import WishboneMemory
from tests.riscv_bridge.test_pcpi import (MASK32, SMALL, FakeAccelerator, echo, golden_answers,
                                          is_status, real_program)
from tests.support.wishbone_master import Request, burst

W = {name: offset >> 2 for name, offset in REGISTERS.items()}


def wr(name: str, value: int, sel: int = -1) -> Request:
    return Request(W[name] if isinstance(name, str) else name, we=True, dat_w=value, sel=sel)


def rd(name) -> Request:
    return Request(W[name] if isinstance(name, str) else name)


def issue(cmd: Command) -> list[Request]:
    return [wr("rs1", cmd.rs1), wr("rs2", cmd.rs2), wr("issue", cmd.funct7 | cmd.funct3 << 7)]


class Monitor:
    """Checks the slave's half of the pipelined Wishbone protocol every cycle."""

    def __init__(self, bus):
        self.bus = bus
        self.requests = 0
        self.responses = 0

    async def testbench(self, ctx):
        bus = self.bus
        outstanding = 0
        async for _, _, cyc, stb, stall, ack, err in ctx.tick().sample(
                bus.cyc, bus.stb, bus.stall, bus.ack, bus.err):
            assert not err, "the MMIO port never answers err"
            if not cyc:
                assert not ack, "ack outside a bus cycle"
                outstanding = 0
                continue
            if ack:
                assert outstanding > 0, "ack without an outstanding request"
                outstanding -= 1
                self.responses += 1
            if stb and not stall:
                outstanding += 1
                self.requests += 1


def simulate(dut_or_module, bus, testbench, *, extra=(), abandoned=0):
    monitor = Monitor(bus)
    sim = Simulator(dut_or_module)
    sim.add_clock(1e-6)
    sim.add_testbench(monitor.testbench, background=True)
    for kind, coroutine in extra:
        if kind == "process":
            sim.add_process(coroutine)
        else:
            sim.add_testbench(coroutine, background=True)
    sim.add_testbench(testbench)
    sim.run()
    assert monitor.requests == monitor.responses + abandoned
    return monitor


def random_command(rng: random.Random) -> Command:
    return Command(rng.getrandbits(7), rng.getrandbits(3), rng.getrandbits(32),
                   rng.getrandbits(32))


@pytest.mark.slow
def test_random_commands_fake_accelerator():
    rng = random.Random(31)
    dut = MMIOCommandPort()
    accel = FakeAccelerator(dut.cmd, dut.resp, seed=32, stall_prob=0.4, max_latency=25)
    expected = []

    async def testbench(ctx):
        for _ in range(40):
            mode = rng.randrange(4)
            cmd = random_command(rng)
            expected.append(cmd)
            if mode == 0:       # issue and read without polling, in one bus cycle
                resp = await burst(ctx, dut.bus, issue(cmd) + [rd("result"), rd("status")],
                                   rng=rng, idle_prob=0.3)
                assert [r.dat_r for r in resp[3:]] == [echo(cmd), STATUS_RESULT_VALID]
            elif mode == 1:     # issue, poll STATUS, then read RESULT
                await burst(ctx, dut.bus, issue(cmd), rng=rng, idle_prob=0.3)
                while True:
                    (status,) = await burst(ctx, dut.bus, [rd("status")])
                    assert status.dat_r in (STATUS_IN_FLIGHT, STATUS_RESULT_VALID)
                    if status.dat_r == STATUS_RESULT_VALID:
                        break
                (result,) = await burst(ctx, dut.bus, [rd("result")], rng=rng, idle_prob=0.5)
                assert result.dat_r == echo(cmd)
            elif mode == 2:     # a second ISSUE stalls until the first is answered
                first = random_command(rng)
                expected.insert(-1, first)
                resp = await burst(ctx, dut.bus, issue(first) + issue(cmd) + [rd("result")],
                                   rng=rng, idle_prob=0.2)
                assert resp[-1].dat_r == echo(cmd)
            else:               # operands built from partial (byte-lane) writes
                noise = rng.getrandbits(32)
                reqs = [wr("rs1", noise), wr("rs1", cmd.rs1, sel=0b0011),
                        wr("rs1", cmd.rs1, sel=0b1100), wr("rs2", cmd.rs2),
                        rd("rs1"), rd("rs2"),
                        wr("issue", cmd.funct7 | cmd.funct3 << 7), rd("result")]
                resp = await burst(ctx, dut.bus, reqs, rng=rng, idle_prob=0.3)
                assert [r.dat_r for r in resp[4:6]] == [cmd.rs1, cmd.rs2]
                assert resp[-1].dat_r == echo(cmd)
            assert not any(r.err for r in resp)

    simulate(dut, dut.bus, testbench, extra=[("testbench", accel.testbench)])
    assert accel.commands == expected


def test_registers_partial_issue_and_undefined_offsets():
    rng = random.Random(41)
    dut = MMIOCommandPort()
    accel = FakeAccelerator(dut.cmd, dut.resp, seed=42, stall_prob=0.0, max_latency=3)

    async def testbench(ctx):
        resp = await burst(ctx, dut.bus, [rd("status"), rd("result"), rd("rs1"), rd("rs2")])
        assert [r.dat_r for r in resp] == [0, 0, 0, 0]              # reset values
        resp = await burst(ctx, dut.bus, [
            wr("rs1", 0x1122_3344), wr("rs2", 0xAABB_CCDD, sel=0b1000),
            wr("issue", 0x3FF, sel=0b0011),                   # partial: ignored
            wr("issue", 0x3FF, sel=0b0000),                   # empty: ignored
            wr(0x3FF, 0xFFFF_FFFF), wr(5, 0xFFFF_FFFF), wr("status", 3), wr("result", 7),
            rd(0x3FF), rd(5), rd(0x100), rd("issue"),
            rd("rs1"), rd("rs2"), rd("status"), rd("result")], rng=rng, idle_prob=0.3)
        assert [r.dat_r for r in resp[8:]] == [0, 0, 0, 0, 0x1122_3344, 0xAA00_0000, 0, 0]
        assert not any(r.err for r in resp)

    simulate(dut, dut.bus, testbench, extra=[("testbench", accel.testbench)])
    assert accel.commands == []


def test_dropping_cyc_abandons_a_held_result_read():
    """A RESULT read held for an in-flight command is dropped with ``cyc``: no late ``ack``."""
    dut = MMIOCommandPort()
    cmd = Command(0x16, 0, 5, 6)

    async def testbench(ctx):
        ctx.set(dut.cmd.ready, 1)
        await burst(ctx, dut.bus, issue(cmd))
        ctx.set(dut.cmd.ready, 0)
        ctx.set(dut.bus.cyc, 1)            # read RESULT by hand, then give up
        ctx.set(dut.bus.stb, 1)
        ctx.set(dut.bus.we, 0)
        ctx.set(dut.bus.adr, W["result"])
        _, _, stall = await ctx.tick().sample(dut.bus.stall)
        assert not stall
        ctx.set(dut.bus.stb, 0)
        _, _, ack = await ctx.tick().sample(dut.bus.ack)
        assert not ack                     # held: the command is in flight
        ctx.set(dut.bus.cyc, 0)
        for _ in range(5):
            _, _, ack = await ctx.tick().sample(dut.bus.ack)
            assert not ack
        (status,) = await burst(ctx, dut.bus, [rd("status")])
        assert status.dat_r == STATUS_IN_FLIGHT
        ctx.set(dut.resp.valid, 1)
        ctx.set(dut.resp.payload.rd, 0x1234)
        _, _, ready = await ctx.tick().sample(dut.resp.ready)
        assert ready
        ctx.set(dut.resp.valid, 0)
        resp = await burst(ctx, dut.bus, [rd("status"), rd("result")])
        assert [r.dat_r for r in resp] == [STATUS_RESULT_VALID, 0x1234]

    monitor = simulate(dut, dut.bus, testbench, abandoned=1)
    assert monitor.requests == 7


def test_dropping_cyc_during_a_held_issue_still_issues_once_without_ack():
    """An accepted ISSUE write held behind an in-flight command is performed after ``cyc``
    drops, and the next bus cycle never sees its ``ack``."""
    dut = MMIOCommandPort()
    first, second = Command(0x10, 0, 1, 2), Command(0x11, 1, 3, 4)
    accel = FakeAccelerator(dut.cmd, dut.resp, seed=71, stall_prob=0.0, min_latency=12,
                            max_latency=12)

    async def testbench(ctx):
        await burst(ctx, dut.bus, issue(first) + issue(second)[:2])
        ctx.set(dut.bus.cyc, 1)            # ISSUE the second by hand, then give up
        ctx.set(dut.bus.stb, 1)
        ctx.set(dut.bus.we, 1)
        ctx.set(dut.bus.sel, 0b1111)
        ctx.set(dut.bus.adr, W["issue"])
        ctx.set(dut.bus.dat_w, second.funct7 | second.funct3 << 7)
        _, _, stall = await ctx.tick().sample(dut.bus.stall)
        assert not stall
        ctx.set(dut.bus.stb, 0)
        ctx.set(dut.bus.cyc, 0)
        await ctx.tick()
        resp = await burst(ctx, dut.bus, [rd("status"), rd("result"), rd("status")])
        assert [r.dat_r for r in resp] == [STATUS_IN_FLIGHT, echo(second), STATUS_RESULT_VALID]

    monitor = simulate(dut, dut.bus, testbench, extra=[("testbench", accel.testbench)],
                       abandoned=1)
    assert monitor.requests == 9
    assert accel.commands == [first, second]


@pytest.mark.slow
def test_real_accelerator_through_mmio():
    rng = random.Random(61)
    program = real_program()
    m = Module()
    m.submodules.port = port = MMIOCommandPort()
    m.submodules.accel = accel = Accelerator(SMALL)
    wiring.connect(m, port.cmd, accel.cmd)
    wiring.connect(m, accel.resp, port.resp)
    mem = WishboneMemory(accel.bus, size=1 << 12, seed=4, stall_prob=0.3, max_latency=3)
    got = []

    async def testbench(ctx):
        for cmd in program:
            resp = await burst(ctx, port.bus, issue(cmd) + [rd("result"), rd("status")],
                               rng=rng, idle_prob=0.3)
            assert resp[-1].dat_r == STATUS_RESULT_VALID
            got.append(resp[3].dat_r)

    simulate(m, port.bus, testbench, extra=[("process", mem.process)])
    expected = golden_answers(program)
    for index, cmd in enumerate(program):
        mask = ~1 & MASK32 if is_status(cmd) else MASK32
        assert got[index] & mask == expected[index] & mask, (index, str(cmd))
