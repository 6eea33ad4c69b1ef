"""Formal: the SoC's `CommandMux` forwards every command of its two sources exactly once,
unchanged, and returns every response to the source whose command it answers.

* Command path: each transfer on ``cmd`` coincides with exactly one transfer on ``cmd0`` or
  ``cmd1`` and carries its payload, and ``cmd`` obeys the stream rules when the sources do
  (this check found the mux switching a stalled ``cmd`` from source 1's command to source 0's;
  the mux now keeps an offered command until it is taken). BMC to ``COMMAND_BMC_DEPTH``: the
  mux remembers which source it offered in private state, so k-induction cannot close.
* Response routing: the source of each command waits in a FIFO (``amaranth.lib.fifo``, storage
  private); a witness command's source is tracked to its response. The accelerator is assumed
  to answer in order, once per command, never before accepting it, holding each response until
  taken. BMC to ``ROUTING_BMC_DEPTH`` (enough to fill the ``DEPTH``-entry queue and drain it).
"""

import pytest
from amaranth.hdl import Assert, Assume, Cover, Elaboratable, Module, Signal, Value

from accel.soc.soc import CommandMux
from accel.verify.formal import run_sby
from tests.support.formal import OrderWitness, drive_sink, drive_source, stream_rules

pytestmark = pytest.mark.formal

DEPTH = 4          # CommandMux's default (and the SoC's) responses in flight
COMMAND_BMC_DEPTH = 16
ROUTING_BMC_DEPTH = 12


def _free_sources(m, mux):
    drive_source(m, mux.cmd0, name="cmd0")
    drive_source(m, mux.cmd1, name="cmd1")
    drive_sink(m, mux.cmd)


class CommandPathProperties(Elaboratable):
    def __init__(self, mux):
        self.mux = mux

    def elaborate(self, platform):
        m = Module()
        m.submodules.mux = mux = self.mux
        _free_sources(m, mux)
        drive_source(m, mux.resp, name="resp")
        drive_sink(m, mux.resp0)
        drive_sink(m, mux.resp1)

        took = [Signal(name=f"took{i}") for i in range(2)]
        sent = Signal()
        m.d.comb += [took[0].eq(mux.cmd0.valid & mux.cmd0.ready),
                     took[1].eq(mux.cmd1.valid & mux.cmd1.ready),
                     sent.eq(mux.cmd.valid & mux.cmd.ready)]
        stream_rules(m, mux.cmd, Assert, name="cmd")
        m.d.comb += [
            Assert(sent == (took[0] | took[1]), "a command out for each command in"),
            Assert(~(took[0] & took[1]), "one source per cycle"),
            Cover(took[1] & (mux.cmd0.valid == 0), "source 1 gets through"),
        ]
        for index, source in enumerate((mux.cmd0, mux.cmd1)):
            with m.If(took[index]):
                m.d.comb += Assert(Value.cast(mux.cmd.payload) == Value.cast(source.payload),
                                   f"source {index}'s command unchanged")
        return m


class ResponseRoutingProperties(Elaboratable):
    def __init__(self, mux, depth):
        self.mux = mux
        self.depth = depth

    def elaborate(self, platform):
        m = Module()
        m.submodules.mux = mux = self.mux
        _free_sources(m, mux)
        drive_source(m, mux.resp, name="resp")
        drive_sink(m, mux.resp0)
        drive_sink(m, mux.resp1)

        sent = mux.cmd.valid & mux.cmd.ready
        answered = mux.resp.valid & mux.resp.ready
        returned = [mux.resp0.valid & mux.resp0.ready, mux.resp1.valid & mux.resp1.ready]
        # The source of each command, tracked to its response; occupancy = commands in flight.
        witness = OrderWitness(m, item_width=1, capacity=self.depth)
        witness.enter(sent, mux.cmd1.valid & mux.cmd1.ready)
        witness.leave(answered, returned[1])
        witness.cover_passage()
        # The accelerator answers only commands it has accepted.
        m.d.comb += Assume(~mux.resp.valid | (witness.occupancy != 0))

        stream_rules(m, mux.resp0, Assert, name="resp0")
        stream_rules(m, mux.resp1, Assert, name="resp1")
        m.d.comb += [
            Assert(answered == (returned[0] | returned[1]), "a response back for each response"),
            Assert(~(returned[0] & returned[1]), "one destination per response"),
            Cover(witness.left & (witness.occupancy == 0) & mux.cmd1.valid, "routing exercised"),
        ]
        for index, sink in enumerate((mux.resp0, mux.resp1)):
            with m.If(returned[index]):
                m.d.comb += Assert(Value.cast(sink.payload) == Value.cast(mux.resp.payload),
                                   f"response to source {index} unchanged")
        return m


def test_command_path_forwards_each_command_once(tmp_path):
    result = run_sby(CommandPathProperties(CommandMux(DEPTH)), mode="bmc", depth=COMMAND_BMC_DEPTH,
                     name="mux_commands", workdir=tmp_path)
    assert result.passed, result.report()


def test_responses_return_to_their_source(tmp_path):
    result = run_sby(ResponseRoutingProperties(CommandMux(DEPTH), DEPTH), mode="bmc",
                     depth=ROUTING_BMC_DEPTH, name="mux_responses", workdir=tmp_path)
    assert result.passed, result.report()


def test_both_sources_and_routing_are_exercised(tmp_path):
    for name, design in (("commands", CommandPathProperties(CommandMux(DEPTH))),
                         ("responses", ResponseRoutingProperties(CommandMux(DEPTH), DEPTH))):
        result = run_sby(design, mode="cover", depth=8, name=f"mux_cover_{name}",
                         workdir=tmp_path)
        assert result.passed, result.report()


class _GreedyMux(CommandMux):
    """A broken mux: takes source 1's command whenever the port moves, also when it forwards
    source 0's (so source 1's command is lost)."""

    def elaborate(self, platform):
        m = super().elaborate(platform)
        m.d.comb += self.cmd1.ready.eq(self.cmd.ready)
        return m


class _EchoingMux(CommandMux):
    """A broken mux: shows every response to source 0 as well (a duplicate response)."""

    def elaborate(self, platform):
        m = super().elaborate(platform)
        m.d.comb += self.resp0.valid.eq(self.resp.valid)
        return m


def test_mux_that_drops_a_command_fails(tmp_path):
    result = run_sby(CommandPathProperties(_GreedyMux(DEPTH)), mode="bmc", depth=6,
                     name="mux_greedy", workdir=tmp_path)
    assert result.status == "FAIL", result.report()
    assert result.failures[0].trace.is_file(), result.report()


def test_mux_that_duplicates_a_response_fails(tmp_path):
    result = run_sby(ResponseRoutingProperties(_EchoingMux(DEPTH), DEPTH), mode="bmc", depth=6,
                     name="mux_echoing", workdir=tmp_path)
    assert result.status == "FAIL", result.report()
