"""``accelgen matmul``, ``accelgen sim random`` and ``accelgen isa``."""

import json

import pytest
from click.testing import CliRunner

from accel.cli import main
from accel.isa import render_markdown
from tests.support.configs import CONFIGS


def _run(*args):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_matmul_golden_prints_stats_and_matches():
    result = _run("matmul", "--preset", "tiny", "--dataflow", "os", "--m", "19", "--k", "7",
                  "--n", "10", "--bias", "--seed", "3")
    assert result.exit_code == 0, result.output
    assert "MACs         1330" in result.output
    assert "matches NumPy" in result.output


@pytest.mark.rtl
def test_matmul_rtl_reports_cycles(tmp_path):
    config = tmp_path / "config.json"
    config.write_text(json.dumps(CONFIGS["4x4-ws"].to_dict()))
    result = _run("matmul", "--config", str(config), "--m", "9", "--k", "8", "--n", "5",
                  "--backend", "rtl")
    assert result.exit_code == 0, result.output
    assert "cycles " in result.output and "utilization" in result.output
    assert "matches NumPy" in result.output


def test_matmul_bad_input_is_one_line():
    result = _run("matmul", "--rows", "0")
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        "Error: --rows must be an integer between 1 and 128, not 0"]


@pytest.mark.rtl
def test_sim_random_runs_a_differential_batch(tmp_path):
    config = tmp_path / "config.json"
    config.write_text(json.dumps(CONFIGS["4x4-ws"].to_dict()))
    result = _run("sim", "random", "--config", str(config), "--programs", "6", "--seed", "9")
    assert result.exit_code == 0, result.output
    assert "programs 6," in result.output and "mismatches 0" in result.output


def test_isa_docs_is_the_committed_page():
    assert _run("isa", "docs").output == render_markdown()


def test_isa_header_follows_the_config():
    result = _run("isa", "header", "--rows", "3", "--cols", "5")
    assert "#define ACCEL_ROWS 3" in result.output and "#define ACCEL_COLS 5" in result.output
