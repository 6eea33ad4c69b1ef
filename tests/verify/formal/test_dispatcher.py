"""Formal: the dispatcher (`accel.control.dispatcher.Dispatcher`) answers every command exactly
once and never hangs while its units make progress.

Any command stream (legal, illegal, out of range, FENCE, window changes...) enters ``cmd``
following the stream rules. The units take a unit command within ``UNIT_LATENCY`` cycles and
report each dispatched command done, in order, never before dispatch, within ``DONE_LATENCY``
cycles of the previous completion; the consumer of ``resp`` takes a response within
``RESP_LATENCY`` cycles. Then:

* no response without a command (none invented, none duplicated), at most ``CAPACITY``
  commands unanswered (the held command plus the response FIFO);
* each unit command goes out once, for one accepted command;
* a command is answered within ``ANSWER_WITHIN`` cycles of the previous answer (none dropped,
  no deadlock: FENCE and CONFIG_WINDOW wait for idle units, hazards for retirements).

Mode: BMC to ``BMC_DEPTH`` cycles (bounded: the dispatcher's held command and response FIFO
are private state, so k-induction cannot relate them to the counts, and its size — 64-bit
counters, multipliers — makes deeper unrolling slow). The covers show a full dispatcher
answering and overlapping units within the bound.

Commands are the core's (``position`` 0) and never EXEC_BUFFER: an executing EXEC_BUFFER is
answered after its records, which the `CommandFetch` supplies (simulation covers buffers:
tests/control/test_command_fetch.py, tests/sim/test_accel_buffers.py).

The unit streams are not checked against the stream rules: a unit command offered while its
unit stalls is withdrawn when a bus error reported meanwhile sets the sticky error (the
command is then discarded, as the error semantics say). The units act only on transfers, so
nothing is lost or duplicated, but it is a withdrawal the stream rules do not allow.
"""

import pytest
from amaranth.asserts import AnySeq
from amaranth.hdl import Assert, Assume, Cover, Elaboratable, Module, Signal, Value

from accel.arch.microarch import UNIT_QUEUE_DEPTH
from accel.config import AccelConfig
from accel.control.dispatcher import Dispatcher
from accel.isa.spec import BY_NAME
from accel.verify.formal import run_sby
from tests.support.formal import bounded, drive_sink, drive_source, stream_rules

pytestmark = pytest.mark.formal

CONFIG = AccelConfig(rows=2, cols=2, sp_kib=1, acc_kib=1, sp_banks=1, acc_banks=1)
UNIT_DEPTH = UNIT_QUEUE_DEPTH     # the Dispatcher's default per-unit depth
UNIT_LATENCY = 2
DONE_LATENCY = 2
RESP_LATENCY = 2
CAPACITY = 4              # held command + 3 responses
ANSWER_WITHIN = 8
BMC_DEPTH = 10


class DispatcherProperties(Elaboratable):
    def __init__(self, dispatcher):
        self.dispatcher = dispatcher

    def elaborate(self, platform):
        m = Module()
        m.submodules.dispatcher = dut = self.dispatcher
        drive_source(m, dut.cmd, name="cmd")
        exec_buffer = BY_NAME["exec_buffer"]
        m.d.comb += Assume((dut.cmd.payload.position == 0) & ~dut.cmd.payload.last
                           & ~dut.cmd.payload.bad & ~dut.cmd.payload.bus_err
                           & ((dut.cmd.payload.funct7 != exec_buffer.funct7)
                              | (dut.cmd.payload.funct3 != exec_buffer.funct3)))
        drive_sink(m, dut.resp)
        stream_rules(m, dut.resp, Assert, name="resp")
        resp_stalled = bounded(m, dut.resp.valid & ~dut.resp.ready, 3, name="resp_stalled")
        m.d.comb += Assume(resp_stalled < RESP_LATENCY)

        dispatched = Signal(3)
        units = (("load", dut.load, dut.load_done), ("execute", dut.execute, dut.execute_done),
                 ("store", dut.store, dut.store_done))
        for name, unit, done in units:
            drive_sink(m, unit)
            stalled = bounded(m, unit.valid & ~unit.ready, 3, name=f"{name}_stalled")
            in_flight = Signal(range(UNIT_DEPTH + 2), name=f"{name}_in_flight")
            sent = unit.valid & unit.ready
            finished = done.valid & done.ready
            m.d.sync += in_flight.eq(in_flight + sent - finished)
            late = bounded(m, (in_flight != 0) & ~done.valid, 3, name=f"{name}_late")
            m.d.comb += [
                done.valid.eq(AnySeq(1)),
                Value.cast(done.payload).eq(AnySeq(len(Value.cast(done.payload)))),
                Assume(stalled < UNIT_LATENCY),
                Assume(~done.valid | (in_flight != 0)),
                Assume(late < DONE_LATENCY),
                Assert(done.ready, f"{name} completions always accepted"),
                Assert(in_flight <= UNIT_DEPTH, f"at most {UNIT_DEPTH} {name} commands in flight"),
            ]
            m.d.comb += dispatched[units.index((name, unit, done))].eq(sent)

        accepted = dut.cmd.valid & dut.cmd.ready
        answered = dut.resp.valid & dut.resp.ready
        owed = Signal(range(CAPACITY + 2))
        m.d.sync += owed.eq(owed + accepted - answered)
        silent = bounded(m, (owed != 0) & ~answered, 4, name="silent")
        m.d.comb += [
            Assert(~answered | (owed != 0), "no response without a command"),
            Assert(owed <= CAPACITY, f"at most {CAPACITY} commands unanswered"),
            Assert((dispatched & (dispatched - 1)) == 0, "one unit command per cycle"),
            Assert((dispatched == 0) | (owed != 0), "unit commands only for accepted commands"),
            Assert(silent < ANSWER_WITHIN, "answers within ANSWER_WITHIN cycles"),
            Cover((owed == CAPACITY) & answered, "full and answering"),
            Cover(dispatched[1] & dut.busy, "a compute dispatched while busy"),
        ]
        return m


def test_dispatcher_answers_each_command_once(tmp_path):
    result = run_sby(DispatcherProperties(Dispatcher(CONFIG, UNIT_DEPTH)), mode="bmc",
                     depth=BMC_DEPTH, name="dispatcher", workdir=tmp_path)
    assert result.passed, result.report()


def test_dispatcher_fills_and_overlaps_within_the_bound(tmp_path):
    result = run_sby(DispatcherProperties(Dispatcher(CONFIG, UNIT_DEPTH)), mode="cover",
                     depth=BMC_DEPTH, name="dispatcher_cover", workdir=tmp_path)
    assert result.passed, result.report()


class _EagerDispatcher(Dispatcher):
    """A broken dispatcher: offers a response in every cycle (responses without commands)."""

    def elaborate(self, platform):
        m = super().elaborate(platform)
        m.d.comb += self.resp.valid.eq(1)
        return m


def test_dispatcher_that_invents_responses_fails(tmp_path):
    result = run_sby(DispatcherProperties(_EagerDispatcher(CONFIG, UNIT_DEPTH)), mode="bmc",
                     depth=BMC_DEPTH, name="dispatcher_eager", workdir=tmp_path)
    assert result.status == "FAIL", result.report()
    assert result.failures[0].message == "no response without a command", result.report()
