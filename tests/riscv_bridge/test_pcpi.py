"""`PCPIBridge` driven by a model of PicoRV32's PCPI master, in the Amaranth simulator.

`PicoPCPIMaster` plays the core exactly as ``picorv32.v`` does: ``pcpi_valid`` rises with the
instruction word and operands, stays high until ``pcpi_ready`` is sampled at an edge, then
falls; the 4-bit ``pcpi_timeout`` counter runs while ``pcpi_valid & ~pcpi_wait`` and, when it
expires, the core abandons the instruction (a trap). Random non-custom-0 instructions are mixed
in: they must time out (no ``pcpi_wait``, no ``pcpi_ready``), custom-0 ones never may.

The accelerator side is either `FakeAccelerator` (random back-pressure and latency, answers
`echo` of each command) or the real `Accelerator` with a Wishbone memory, checked against
`GoldenModel`.
"""

import random
from collections import deque

import pytest
from amaranth import Module
from amaranth.lib import wiring
from amaranth.sim import Simulator

from accel.accelerator import Accelerator
from accel.config import AccelConfig
from accel.golden.model import GoldenModel
from accel.isa import Command, Counter, ErrorCause, encode
from accel.isa.encoding import riscv_word
from accel.isa.spec import BY_NAME
from accel.riscv_bridge import PCPIBridge
from sim.wishbone_memory import WishboneMemory

MASK32 = 0xFFFF_FFFF
SMALL = AccelConfig(rows=2, cols=2, sp_kib=1, acc_kib=1, sp_banks=1, acc_banks=1)


def echo(cmd: Command) -> int:
    """The fake accelerator's ``rd`` for ``cmd``: a function of every command bit."""
    return (cmd.rs1 * 0x9E37 + (cmd.rs2 ^ (cmd.rs2 >> 7)) + (cmd.funct7 << 20)
            + (cmd.funct3 << 29)) & MASK32


class FakeAccelerator:
    """Accelerator stand-in: ``cmd.ready`` low with probability ``stall_prob``; each accepted
    command is answered ``echo(cmd)`` ``min_latency``..``max_latency`` cycles after the cycle
    following its acceptance, in order, and the response is held until ``resp.ready``.

    Attributes
    ----------
    commands : list of Command
        Every accepted command, in order.
    """

    def __init__(self, cmd, resp, *, seed: int, stall_prob: float = 0.3, min_latency: int = 0,
                 max_latency: int = 30):
        self.cmd, self.resp = cmd, resp
        self.rng = random.Random(seed)
        self.stall_prob = stall_prob
        self.min_latency = min_latency
        self.max_latency = max_latency
        self.commands: list[Command] = []

    async def testbench(self, ctx) -> None:
        rng = self.rng
        pending: deque = deque()   # (due cycle, rd)
        cycle = 0
        showing = False
        while True:
            ready = rng.random() >= self.stall_prob
            ctx.set(self.cmd.ready, ready)
            showing = bool(pending) and pending[0][0] <= cycle
            ctx.set(self.resp.valid, showing)
            if showing:
                ctx.set(self.resp.payload.rd, pending[0][1])
            _, _, valid, payload, resp_ready = await ctx.tick().sample(
                self.cmd.valid, self.cmd.payload, self.resp.ready)
            cycle += 1
            if showing and resp_ready:
                pending.popleft()
            if ready and valid:
                cmd = Command(int(payload.funct7), int(payload.funct3), int(payload.rs1),
                              int(payload.rs2))
                self.commands.append(cmd)
                due = max(cycle + rng.randint(self.min_latency, self.max_latency),
                          pending[-1][0] if pending else 0)
                pending.append((due, echo(cmd)))


class PicoPCPIMaster:
    """PicoRV32's PCPI master behaviour (see the module docstring).

    ``run(ctx, insns)`` executes ``(word, rs1, rs2)`` triples and returns one entry per
    instruction: ``("ready", wr, rd, cycles)`` or ``("trap", cycles)``. ``gap`` bounds the idle
    cycles before each instruction (0 allowed: ``pcpi_valid`` rises again right after a ready,
    which PicoRV32 never does but a generic master may); ``abort_at`` maps an instruction index
    to a cycle count after which ``pcpi_valid`` is dropped (a core reset).
    """

    def __init__(self, dut, *, seed: int, gap=(1, 6)):
        self.dut = dut
        self.rng = random.Random(seed)
        self.gap = gap

    async def run(self, ctx, insns, *, abort_at=None) -> list:
        dut = self.dut
        abort_at = abort_at or {}
        results = []
        for index, (word, rs1, rs2) in enumerate(insns):
            for _ in range(self.rng.randint(*self.gap)):
                ctx.set(dut.pcpi_valid, 0)
                ctx.set(dut.pcpi_insn, self.rng.getrandbits(32))   # junk while not valid
                _, _, ready = await ctx.tick().sample(dut.pcpi_ready)
                assert not ready, "pcpi_ready while pcpi_valid is low"
            ctx.set(dut.pcpi_valid, 1)
            ctx.set(dut.pcpi_insn, word)
            ctx.set(dut.pcpi_rs1, rs1)
            ctx.set(dut.pcpi_rs2, rs2)
            counter, timeout, cycles = 15, False, 0
            custom = word & 0x7F == 0b0001011
            while True:
                _, _, ready, wr, rd, wait = await ctx.tick().sample(
                    dut.pcpi_ready, dut.pcpi_wr, dut.pcpi_rd, dut.pcpi_wait)
                cycles += 1
                if custom:
                    assert wait or ready, f"instruction {index}: pcpi_wait low while valid"
                else:
                    assert not wait and not ready, f"instruction {index} is not custom-0"
                if ready:
                    results.append(("ready", wr, rd, cycles))
                    break
                if timeout:
                    results.append(("trap", cycles))
                    break
                if index in abort_at and cycles >= abort_at[index]:
                    results.append(("aborted", cycles))
                    break
                # picorv32.v: the counter runs while valid and nobody waits; timeout is a
                # register set from the counter's old value.
                timeout = counter == 0
                counter = counter - 1 if not wait and counter else (counter if not wait else 15)
            if self.gap[0] == 0 and index + 1 < len(insns):
                continue                       # valid stays high into the next instruction
            ctx.set(dut.pcpi_valid, 0)
        ctx.set(dut.pcpi_valid, 0)
        return results


def random_other_word(rng: random.Random) -> int:
    """A random 32-bit instruction word whose opcode is not custom-0."""
    while True:
        word = rng.getrandbits(32) | 0b11
        if word & 0x7F != 0b0001011:
            return word


def random_program(rng: random.Random, count: int):
    """(instruction triples, custom-0 commands in order) with ~25 % non-custom words."""
    insns, commands = [], []
    for _ in range(count):
        if rng.random() < 0.25:
            insns.append((random_other_word(rng), rng.getrandbits(32), rng.getrandbits(32)))
            continue
        cmd = Command(rng.getrandbits(7), rng.getrandbits(3), rng.getrandbits(32),
                      rng.getrandbits(32))
        word = riscv_word(cmd.funct7, cmd.funct3, rng.getrandbits(5), rng.getrandbits(5),
                          rng.getrandbits(5))
        insns.append((word, cmd.rs1, cmd.rs2))
        commands.append(cmd)
    return insns, commands


def run_fake(seed: int, count: int, *, gap=(1, 6), stall_prob=0.3, max_latency=30,
             abort_at=None):
    rng = random.Random(seed)
    insns, commands = random_program(rng, count)
    dut = PCPIBridge()
    accel = FakeAccelerator(dut.cmd, dut.resp, seed=seed + 1, stall_prob=stall_prob,
                            max_latency=max_latency)
    core = PicoPCPIMaster(dut, seed=seed + 2, gap=gap)
    out = {}

    async def testbench(ctx):
        out["results"] = await core.run(ctx, insns, abort_at=abort_at)
        for _ in range(2 * max_latency + 10):          # nothing more may happen
            _, _, ready = await ctx.tick().sample(dut.pcpi_ready)
            assert not ready

    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(accel.testbench, background=True)
    sim.add_testbench(testbench)
    sim.run()
    return insns, commands, accel.commands, out["results"]


def check_answers(insns, results, *, aborted=()):
    for index, ((word, rs1, rs2), result) in enumerate(zip(insns, results, strict=True)):
        if word & 0x7F != 0b0001011:
            assert result[0] == "trap", (index, result)
        elif index in aborted:
            assert result[0] == "aborted", (index, result)
        else:
            cmd = Command(word >> 25, (word >> 12) & 7, rs1, rs2)
            assert result[:3] == ("ready", 1, echo(cmd)), (index, result)


@pytest.mark.slow
def test_random_instructions_fake_accelerator():
    insns, commands, received, results = run_fake(seed=11, count=80)
    assert received == commands
    check_answers(insns, results)
    # Some answers took longer than the core's 16-cycle timeout: pcpi_wait did its job.
    assert max(r[3] for r in results if r[0] == "ready") > 20


def test_fast_accelerator_and_back_to_back():
    """No back-pressure, zero latency, pcpi_valid never low between instructions."""
    insns, commands, received, results = run_fake(seed=12, count=40, gap=(0, 0),
                                                  stall_prob=0.0, max_latency=0)
    assert received == commands
    check_answers(insns, results)
    # The documented minimum: pcpi_ready in cycle t + 3, i.e. sampled at the 4th edge.
    assert min(r[3] for r in results if r[0] == "ready") == 4


@pytest.mark.slow
def test_heavy_back_pressure():
    insns, commands, received, results = run_fake(seed=13, count=30, stall_prob=0.9,
                                                  max_latency=5)
    assert received == commands
    check_answers(insns, results)


@pytest.mark.slow
def test_abandoned_instruction_is_never_answered_to_the_next():
    rng = random.Random(14)
    insns, _ = random_program(rng, 30)
    customs = [i for i, (w, _, _) in enumerate(insns) if w & 0x7F == 0b0001011]
    aborted = {customs[2]: 3, customs[5]: 1, customs[9]: 2}
    dut_insns, commands, received, results = run_fake(seed=14, count=30, abort_at=aborted,
                                                      max_latency=40)
    assert received == commands               # abandoned commands are still issued, once
    check_answers(dut_insns, results, aborted=aborted)


# -- the real accelerator -----------------------------------------------------------------------

def real_program():
    """A short control program: config, status, counters, an illegal opcode, recovery."""
    return [
        encode("config_load", stride=64),
        encode("status"),
        encode("read_counter", counter=int(Counter.INSTRUCTIONS)),
        encode("config_act", multiplier=3, shift=2, act=1, zero_point=-5),
        encode("fence"),
        Command(0x7F, 5, 0x1234, 0),                               # unknown: illegal
        encode("status"),
        encode("config_store", stride=8),                          # discarded
        encode("read_counter", counter=int(Counter.INSTRUCTIONS)),
        encode("clear_error"),
        encode("status"),
        Command(BY_NAME["read_counter"].funct7, 0, 99, 0),          # unknown counter: illegal
        encode("status"),
        encode("clear_error"),
        encode("read_counter", counter=int(Counter.MACS)),
        encode("read_counter_hi", counter=int(Counter.INSTRUCTIONS)),
        encode("reset_counters"),
        encode("read_counter", counter=int(Counter.INSTRUCTIONS)),
        encode("status"),
    ]


def golden_answers(program):
    """The ``rd`` the hardware must answer for each command, with ``None`` where it may differ
    (CYCLES/BUSY_CYCLES counters); STATUS busy bit masked by the caller."""
    return GoldenModel(SMALL, mem_size=4096).responses(program)


def is_status(cmd: Command) -> bool:
    return (cmd.funct7, cmd.funct3) == (BY_NAME["status"].funct7, BY_NAME["status"].funct3)


@pytest.mark.slow
def test_real_accelerator_through_pcpi():
    rng = random.Random(21)
    program = real_program()
    insns = []
    for cmd in program:
        if rng.random() < 0.5:
            insns.append((random_other_word(rng), 0, 0))
        insns.append((cmd.word(rd=rng.randint(1, 31)), cmd.rs1, cmd.rs2))

    m = Module()
    m.submodules.bridge = bridge = PCPIBridge()
    m.submodules.accel = accel = Accelerator(SMALL)
    wiring.connect(m, bridge.cmd, accel.cmd)
    wiring.connect(m, accel.resp, bridge.resp)
    mem = WishboneMemory(accel.bus, size=1 << 12, seed=3, stall_prob=0.3, max_latency=3)
    core = PicoPCPIMaster(bridge, seed=22)
    out = {}

    async def testbench(ctx):
        out["results"] = await core.run(ctx, insns)

    sim = Simulator(m)
    sim.add_clock(1e-6)
    sim.add_process(mem.process)
    sim.add_testbench(testbench)
    sim.run()

    answers = [r for r, (w, _, _) in zip(out["results"], insns) if w & 0x7F == 0b0001011]
    assert all(r[0] == "trap" for r, (w, _, _) in zip(out["results"], insns)
               if w & 0x7F != 0b0001011)
    assert all(r[:2] == ("ready", 1) for r in answers)
    got = [r[2] for r in answers]
    expected = golden_answers(program)
    for index, cmd in enumerate(program):
        mask = ~1 & MASK32 if is_status(cmd) else MASK32
        assert got[index] & mask == expected[index] & mask, (index, str(cmd), got[index],
                                                            expected[index])
    illegal_status = got[6] & ~1
    assert illegal_status == (1 << 1) | (int(ErrorCause.ILLEGAL_INSTRUCTION) << 8) \
        | (0x7F << 16) | (5 << 23)
    assert got[10] & ~1 == 0
