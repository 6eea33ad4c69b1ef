"""Waveforms and build messages of ``sim.runner`` on the self-test counter, on both simulators."""

import logging

import pytest

from accel.util.cache import CACHE_ENV
from sim import runner
from tests.sim.test_runner import _emit
from tests.support.waves import assert_fst, assert_waveform, read_vcd

pytestmark = pytest.mark.rtl


def _run(simulator, waves, waves_file=None):
    return runner.run_cocotb(sources=[_emit()], toplevel="selftest",
                             test_module="sim.bench_selftest", build_key="selftest",
                             simulator=simulator, waves=waves, waves_file=waves_file)


@pytest.mark.parametrize("simulator", ["icarus", "verilator"])
def test_vcd_records_the_counter(simulator, tmp_path):
    path = _run(simulator, "vcd", tmp_path / "trace.vcd")
    assert path == tmp_path / "trace.vcd"
    timescale, values = read_vcd(path)
    assert timescale in ("1ps", "1 ps")
    # the bench enables the counter in ~270 of 300 cycles: it passes 255 and wraps
    assert_waveform(path, "vcd", "count", 200)
    assert max(values["count"]) == 255


@pytest.mark.parametrize("simulator", ["icarus", "verilator"])
def test_fst_has_an_fst_header(simulator, tmp_path):
    path = _run(simulator, "fst", tmp_path / "trace.fst")
    # the counter test alone runs 300 cycles of 10 ns; the timescale is 1 ps
    assert assert_fst(path) >= 3_000_000


def test_without_a_file_the_trace_stays_in_the_run_directory():
    path = _run("icarus", "vcd")
    assert path.name == "dump.vcd" and path.parent.parent == runner.kind_dir("runs")
    assert_waveform(path, "vcd", "count", 200)


def test_an_old_trace_is_replaced(tmp_path):
    path = tmp_path / "trace.vcd"
    path.write_text("stale")
    _run("icarus", "vcd", path)
    assert "stale" not in path.read_text()
    assert_waveform(path, "vcd", "count", 200)


def test_no_waves_returns_none_and_keeps_no_run_directory(tmp_path, monkeypatch):
    # a cache of its own: other workers' runs come and go in the shared one
    monkeypatch.setenv(CACHE_ENV, str(tmp_path))
    runs = runner.kind_dir("runs")
    before = set(runs.iterdir()) if runs.exists() else set()
    assert _run("icarus", None) is None
    assert set(runs.iterdir() if runs.exists() else ()) == before


@pytest.mark.parametrize("waves", ["lxt", "VCD", True, "fst "])
def test_a_bad_format_is_a_value_error(waves):
    with pytest.raises(ValueError, match="waves must be one of fst, vcd"):
        _run("icarus", waves)


def test_traced_and_untraced_builds_are_different_cache_entries():
    path = _emit()
    plain = runner._build("icarus", [path], "selftest", "selftest", None)
    traced = runner._build("icarus", [path], "selftest", "selftest", "vcd")
    assert plain != traced
    # Icarus picks the format when it runs: one traced build serves both
    assert runner._build("icarus", [path], "selftest", "selftest", "fst") == traced
    digests = {runner._build_digest([path], "verilator", "selftest", waves)
               for waves in (None, "vcd", "fst")}
    assert len(digests) == 3


def test_verilator_fst_without_lz4_is_one_clear_line(monkeypatch):
    monkeypatch.setattr(runner, "_has_lz4_header", lambda: False)
    with pytest.raises(runner.SimulatorNotFound, match=r"apt-get install liblz4-dev"):
        _run("verilator", "fst")


def test_builds_say_what_and_where(caplog):
    caplog.set_level(logging.INFO, logger="accelgen.sim")
    _run("icarus", "vcd")
    messages = [r.getMessage() for r in caplog.records if r.name == "accelgen.sim"]
    assert any(m.startswith("using cached Icarus model of selftest with VCD waveforms in ")
               or m.startswith("building Icarus model of selftest with VCD waveforms (cached in ")
               for m in messages), messages
    caplog.clear()
    _run("icarus", "vcd")
    messages = [r.getMessage() for r in caplog.records if r.name == "accelgen.sim"]
    assert [m for m in messages if m.startswith("using cached Icarus model of selftest")], messages
    assert not [m for m in messages if m.startswith("building")], messages
