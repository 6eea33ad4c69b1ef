"""``accelgen fuzz``: a small campaign on Verilator, replays, and one-line errors."""

import json

import pytest

from accel.verify.fuzz import MemoryImage, Reproducer
from accel.verify.fuzz.coverage import Coverage
from accel.isa import encode
from accel.runtime.rtl import BusModel
from tests.support.cli import run_cli, write_config
from tests.support.configs import CONFIGS

CONFIG = CONFIGS["4x4-ws"]  # shares the differential test's cached build


_run = run_cli


@pytest.fixture()
def config_file(tmp_path):
    return write_config(tmp_path, CONFIG)


@pytest.mark.rtl
def test_small_campaign_passes_and_covers_everything(tmp_path, config_file):
    """The budget of tests/verify/fuzz/test_randprog.py's coverage test, now on the RTL."""
    coverage_file = tmp_path / "coverage.json"
    result = _run("fuzz", "--config", config_file, "--programs", 40, "--batch", 20, "--seed", 1,
                  "--out", tmp_path / "out", "--coverage-json", coverage_file)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    summary = next(line for line in lines if line.startswith("programs "))
    assert summary.startswith("programs 40, instructions ") and ", mismatches 0, " in summary
    assert summary.endswith(" programs/s")
    goals = Coverage.goals()
    assert (f"coverage: {len(goals['instructions'])}/{len(goals['instructions'])} instruction "
            f"kinds, 9/9 hazard kinds, {len(goals['errors'])}/{len(goals['errors'])} error "
            f"causes") in lines
    assert "missing: nothing" in lines
    saved = json.loads(coverage_file.read_text())
    assert saved["missing"] == {"instructions": [], "hazards": [], "errors": []}
    assert not (tmp_path / "out").exists()  # no failure, no reproducer


def _reproducer(commands):
    memory = MemoryImage(4096, seed=5)
    return Reproducer(CONFIG, memory, BusModel(stall_prob=0.2, max_wait=2, seed=3), [commands],
                      note="written by hand")


@pytest.mark.rtl
def test_replay_of_a_passing_reproducer(tmp_path):
    path = _reproducer([encode("config_load", stride=4),
                        encode("load_sp", mem_addr=64, sp_addr=0, rows=4, cols=4),
                        encode("config_store", stride=4),
                        encode("store_sp", mem_addr=1024, sp_addr=0, rows=4, cols=4)]
                       ).save(tmp_path / "pass.json")
    result = _run("fuzz", "--replay", path)
    assert result.exit_code == 0, result.output
    assert "reproducer: 4 commands in 1 program(s), each on a fresh accelerator; written by " \
           "hand" in result.output
    assert "load_sp mem_addr=0x40, sp_addr=0, rows=4, cols=4" in result.output
    assert result.output.splitlines()[-1] == "replay: passes, no mismatch"


@pytest.mark.rtl
def test_replay_of_a_failing_reproducer_exits_1(tmp_path):
    # The bench's memory is 4 KiB but the bus addresses 4 GiB: the golden model calls a store
    # past 4 KiB MEM_RANGE, the hardware tries it and meets a bus error. A real difference of
    # the two, reported like any other.
    path = _reproducer([encode("store_sp", mem_addr=8192, sp_addr=0, rows=1, cols=4),
                        encode("fence"), encode("status")]).save(tmp_path / "fail.json")
    result = _run("fuzz", "--replay", path)
    assert result.exit_code == 1, result.output
    assert "MISMATCH: program 0 instruction 2 (status): response " in result.output
    assert result.output.splitlines()[-1] == "replay: fails with 1 mismatches"


@pytest.mark.parametrize("args, message", [
    (["--programs", "0"], "Invalid value for '--programs': 0 is not in the range "
                          "1<=x<=10000000."),
    (["--rows", "0"], "--rows must be an integer between 1 and 128, not 0"),
    (["--illegal-rate", "2"], "Invalid value for '--illegal-rate': 2.0 is not in the range "
                              "0<=x<=1."),
    (["--replay", "missing.json"], "cannot read reproducer 'missing.json': No such file or "
                                   "directory"),
    (["--replay", "missing.json", "--preset", "tiny"],
     "--replay takes its configuration from the file, not --preset"),
])
def test_bad_arguments_are_one_line_errors(args, message):
    result = _run("fuzz", *args)
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [f"Error: {message}"]


@pytest.mark.parametrize("text, message", [
    ("{", "is not valid JSON: Expecting property name enclosed in double quotes at line 1"),
    ('{"format": "x"}', "not an accelgen-fuzz-reproducer file"),
    ('{"format": "accelgen-fuzz-reproducer", "version": 1}', "lacks 'bus'"),
])
def test_bad_reproducer_files_are_one_line_errors(tmp_path, text, message):
    path = tmp_path / "bad.json"
    path.write_text(text)
    result = _run("fuzz", "--replay", path)
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"Error: reproducer '{path}'")
    assert lines[0].endswith(message)
