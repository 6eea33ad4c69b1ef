"""Formal: the PCPI adapter (`accel.riscv_bridge.PCPIBridge`) always answers PicoRV32 or holds
``pcpi_wait``, answers each custom-0 instruction exactly once with its own response, and
answers within a bound when the accelerator does.

The core is modelled by assumptions (``picorv32.v`` with ``ENABLE_PCPI``): ``pcpi_valid`` rises
with any instruction word and operands, which stay unchanged while it is high; it stays high
until ``pcpi_ready`` is seen at an edge and falls right after. A non-custom-0 instruction may
also be dropped at any time (the core's timeout trap, or another coprocessor answered). The
accelerator is modelled by assumptions too: it takes a command within ``CMD_LATENCY`` cycles,
answers each accepted command once, never before, within ``RESP_LATENCY`` cycles, holding each
response stable until taken.

Mode: prove (k-induction). The bridge holds no storage beyond registers the properties observe,
so the proof is unbounded.
"""

import pytest
from amaranth.asserts import AnySeq
from amaranth.hdl import Assert, Assume, Cover, Elaboratable, Module, Signal

from accel.isa.spec import CUSTOM0_OPCODE
from accel.riscv_bridge import PCPIBridge
from accel.verify.formal import run_sby
from tests.support.formal import bounded, drive_source, past, stream_rules

pytestmark = pytest.mark.formal

CMD_LATENCY = 3
RESP_LATENCY = 4
#: PicoRV32 traps an instruction after this many cycles of pcpi_valid without pcpi_wait.
PICORV32_TIMEOUT = 16
#: The bridge answers within this many cycles of pcpi_valid rising: one to latch, the
#: command's wait and transfer, the response's wait and transfer, one to raise pcpi_ready.
ANSWER_WITHIN = 1 + CMD_LATENCY + RESP_LATENCY + 1
PROVE_DEPTH = 12


class PCPIProperties(Elaboratable):
    """The bridge between a PicoRV32-like core and an accelerator that eventually answers."""

    def __init__(self, bridge):
        self.bridge = bridge

    def elaborate(self, platform):
        m = Module()
        m.submodules.bridge = bridge = self.bridge
        cmd, resp = bridge.cmd, bridge.resp

        # -- the core ---------------------------------------------------------------------
        valid, insn = bridge.pcpi_valid, bridge.pcpi_insn
        m.d.comb += [valid.eq(AnySeq(1)), insn.eq(AnySeq(32)),
                     bridge.pcpi_rs1.eq(AnySeq(32)), bridge.pcpi_rs2.eq(AnySeq(32))]
        custom0 = Signal()
        m.d.comb += custom0.eq(insn[0:7] == CUSTOM0_OPCODE)
        ready = bridge.pcpi_ready
        answered = past(m, valid & ready, name="answered")
        pending = past(m, valid & ~ready, name="pending")
        last_insn = past(m, insn, name="last_insn")
        last_rs1 = past(m, bridge.pcpi_rs1, name="last_rs1")
        last_rs2 = past(m, bridge.pcpi_rs2, name="last_rs2")
        was_custom0 = past(m, custom0, name="was_custom0")
        with m.If(answered):
            m.d.comb += Assume(~valid)
        with m.If(pending & was_custom0):
            m.d.comb += Assume(valid)
        with m.If(pending & valid):
            m.d.comb += Assume((insn == last_insn) & (bridge.pcpi_rs1 == last_rs1) &
                               (bridge.pcpi_rs2 == last_rs2))

        # -- the accelerator --------------------------------------------------------------
        m.d.comb += cmd.ready.eq(AnySeq(1))
        drive_source(m, resp, name="resp")
        owed = Signal(2)  # commands accepted and not answered
        cmd_done = cmd.valid & cmd.ready
        resp_done = resp.valid & resp.ready
        m.d.sync += owed.eq(owed + cmd_done - resp_done)
        cmd_stalled = bounded(m, cmd.valid & ~cmd.ready, 3, name="cmd_stalled")
        resp_late = bounded(m, (owed != 0) & ~resp.valid, 3, name="resp_late")
        m.d.comb += [
            Assume(~resp.valid | (owed != 0)),
            Assume(cmd_stalled < CMD_LATENCY),
            Assume(resp_late < RESP_LATENCY),
        ]

        # -- the instruction in progress --------------------------------------------------
        start = valid & custom0 & ~pending
        issued = Signal()      # its command went out
        taken = Signal()       # its response came back
        rd = Signal(32)        # ... carrying this
        with m.If(start):
            m.d.sync += [issued.eq(cmd_done), taken.eq(0)]
        with m.Else():
            with m.If(cmd_done):
                m.d.sync += issued.eq(1)
            with m.If(resp_done):
                m.d.sync += taken.eq(1)
        with m.If(resp_done):
            m.d.sync += rd.eq(resp.payload.rd)
        age = bounded(m, valid & custom0 & ~ready, 4, name="age")
        timeout = bounded(m, valid & ~bridge.pcpi_wait, 5, name="timeout")

        # -- properties -------------------------------------------------------------------
        stream_rules(m, cmd, Assert, name="cmd")
        m.d.comb += [
            Assert(~(valid & custom0) | bridge.pcpi_wait | ready,
                   "a custom-0 instruction sees pcpi_wait or pcpi_ready in every cycle"),
            Assert(~(valid & custom0) | (timeout < PICORV32_TIMEOUT - 1),
                   "PicoRV32's timeout never expires on a custom-0 instruction"),
            Assert(custom0 | ~(bridge.pcpi_wait | ready),
                   "other instructions get neither pcpi_wait nor pcpi_ready"),
            Assert(~ready | valid, "pcpi_ready only while pcpi_valid"),
            Assert(~(ready & answered), "pcpi_ready is a one-cycle pulse"),
            Assert(bridge.pcpi_wr == ready, "pcpi_wr with pcpi_ready"),
            Assert(~ready | (issued & taken), "answers after its command and response"),
            Assert(~ready | (bridge.pcpi_rd == rd), "answers with its response's rd"),
            Assert(~cmd_done | (valid & custom0 & ~issued),
                   "one command per custom-0 instruction"),
            Assert(~resp_done | (issued & ~taken), "one response per command"),
            Assert(age < ANSWER_WITHIN, "answers within ANSWER_WITHIN cycles"),
            # Invariants that make the proof inductive (what the bridge holds is visible).
            Assert(owed <= 1, "at most one command outstanding"),
            Assert(resp.ready == (owed == 1), "takes responses exactly while one is owed"),
            Assert(~cmd.valid | ((owed == 0) & ~issued), "offers a command only when idle"),
            Assert(~(cmd.valid | (owed != 0)) | (valid & custom0),
                   "busy only for the instruction in progress"),
        ]
        with m.If(cmd.valid):
            m.d.comb += [
                Assert(cmd.payload.funct7 == insn[25:32], "command carries funct7"),
                Assert(cmd.payload.funct3 == insn[12:15], "command carries funct3"),
                Assert(cmd.payload.rs1 == bridge.pcpi_rs1, "command carries rs1"),
                Assert(cmd.payload.rs2 == bridge.pcpi_rs2, "command carries rs2"),
            ]
        answers = Signal(2)
        with m.If(ready & (answers != 3)):
            m.d.sync += answers.eq(answers + 1)
        m.d.comb += [
            Cover(ready & (age == ANSWER_WITHIN - 1), "the slowest answer"),
            Cover(ready & (answers == 1), "a second instruction answered"),
        ]
        return m


def test_pcpi_bridge_answers_or_waits(tmp_path):
    result = run_sby(PCPIProperties(PCPIBridge()), mode="prove", depth=PROVE_DEPTH,
                     name="pcpi", workdir=tmp_path)
    assert result.passed, result.report()


def test_pcpi_answers_are_reachable(tmp_path):
    result = run_sby(PCPIProperties(PCPIBridge()), mode="cover", depth=2 * ANSWER_WITHIN + 4,
                     name="pcpi_cover", workdir=tmp_path)
    assert result.passed, result.report()


class _LateWaitBridge(PCPIBridge):
    """A broken bridge: raises pcpi_wait one cycle after pcpi_valid instead of at once."""

    def elaborate(self, platform):
        m = super().elaborate(platform)
        late = Signal()
        m.d.sync += late.eq(self.pcpi_valid & (self.pcpi_insn[0:7] == CUSTOM0_OPCODE))
        m.d.comb += self.pcpi_wait.eq(late & self.pcpi_valid)
        return m


def test_bridge_with_late_wait_fails(tmp_path):
    result = run_sby(PCPIProperties(_LateWaitBridge()), mode="prove", depth=PROVE_DEPTH,
                     name="pcpi_late_wait", workdir=tmp_path)
    assert result.status == "FAIL", result.report()
    assert "pcpi_wait or pcpi_ready" in result.failures[0].message, result.report()
