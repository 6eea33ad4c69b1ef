"""The cocotb runner glue (``sim.runner``) on a tiny counter + adder, on Verilator and Icarus."""

import pytest
from amaranth.hdl import Module
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from sim import runner


class SelfTestDut(wiring.Component):
    """An 8-bit counter (counts while ``en``) beside a combinational adder ``sum = a + b``."""

    en: In(1)
    count: Out(8)
    a: In(8)
    b: In(8)
    sum: Out(9)

    def elaborate(self, platform):
        m = Module()
        with m.If(self.en):
            m.d.sync += self.count.eq(self.count + 1)
        m.d.comb += self.sum.eq(self.a + self.b)
        return m


def _emit():
    return runner.emit_cached("selftest", SelfTestDut, name="selftest")


@pytest.mark.rtl
@pytest.mark.parametrize("simulator", ["verilator", "icarus"])
def test_selftest_bench_passes(simulator):
    runner.run_cocotb(sources=[_emit()], toplevel="selftest", test_module="sim.bench_selftest",
                      build_key="selftest", simulator=simulator)


@pytest.mark.rtl
@pytest.mark.parametrize("simulator", ["verilator", "icarus"])
def test_failing_cocotb_test_raises(simulator):
    expected = r"(?s)1 of 1 cocotb tests failed.*test_must_fail: 2 \+ 2"
    with pytest.raises(AssertionError, match=expected):
        runner.run_cocotb(sources=[_emit()], toplevel="selftest",
                          test_module="sim.bench_selftest", build_key="selftest",
                          simulator=simulator, env={"SELFTEST_EXPECT_FAIL": "1"},
                          testcase="test_must_fail")


@pytest.mark.rtl
def test_no_matching_testcase_is_a_failure():
    with pytest.raises(AssertionError, match="no cocotb test ran"):
        runner.run_cocotb(sources=[_emit()], toplevel="selftest",
                          test_module="sim.bench_selftest", build_key="selftest",
                          simulator="icarus", testcase="test_that_does_not_exist")


def test_emit_cached_is_stable():
    path = _emit()
    assert path.name == "selftest.v"
    assert _emit() == path
    assert "module selftest" in path.read_text()


@pytest.mark.rtl
def test_build_is_cached(monkeypatch):
    path = _emit()
    first = runner._build("icarus", [path], "selftest", "selftest", False)
    monkeypatch.setattr(runner, "_runner", lambda *args: pytest.fail("rebuilt a cached design"))
    assert runner._build("icarus", [path], "selftest", "selftest", False) == first


@pytest.mark.rtl
def test_build_cache_is_keyed_by_content_not_name(monkeypatch):
    path = _emit()
    first = runner._build("icarus", [path], "selftest", "selftest", False)
    monkeypatch.setattr(runner, "_runner", lambda *args: pytest.fail("rebuilt a cached design"))
    assert runner._build("icarus", [path], "selftest", "another-name", False) == first


def test_missing_icarus_is_one_clear_line(monkeypatch):
    monkeypatch.setattr(runner.shutil, "which", lambda tool: None)
    with pytest.raises(runner.SimulatorNotFound, match=r"apt-get install iverilog$"):
        runner.run_cocotb(sources=[_emit()], toplevel="selftest",
                          test_module="sim.bench_selftest", build_key="selftest",
                          simulator="icarus")
