"""``--json FILE`` of the simulating commands holds the figures they print (Verilator)."""

import json

import pytest

from tests.support.cli import run_cli, write_config
from tests.support.configs import CONFIGS

pytestmark = pytest.mark.rtl

CONFIG = CONFIGS["4x4-ws"]  # shares the differential test's cached build


def test_matmul_rtl_json_has_cycles(tmp_path):
    path = tmp_path / "m.json"
    result = run_cli("matmul", "--config", write_config(tmp_path, CONFIG), "--m", 9, "--k", 8,
                     "--n", 5, "--backend", "rtl", "--json", path)
    assert result.exit_code == 0, result.output
    saved = json.loads(path.read_text())
    assert saved["backend"] == "rtl" and saved["config"] == CONFIG.to_dict()
    assert saved["cycles"] >= saved["bound"] > 0
    assert f"cycles       {saved['cycles']}" in result.output
    assert saved["utilization"] == pytest.approx(saved["macs"] / CONFIG.pe_count
                                                 / saved["cycles"])


def test_sim_random_json_counts(tmp_path):
    path = tmp_path / "s.json"
    result = run_cli("sim", "random", "--config", write_config(tmp_path, CONFIG), "--programs", 6,
                     "--seed", 9, "--json", path)
    assert result.exit_code == 0, result.output
    saved = json.loads(path.read_text())
    assert (saved["programs"], saved["mismatches"], saved["seed"]) == (6, 0, 9)
    assert saved["first_mismatches"] == []
    assert f"programs 6, instructions {saved['instructions']}, mismatches 0" in result.output


def test_fuzz_json_has_summary_and_coverage(tmp_path):
    path = tmp_path / "f.json"
    result = run_cli("fuzz", "--config", write_config(tmp_path, CONFIG), "--programs", 8,
                     "--batch", 8, "--seed", 2, "--out", tmp_path / "out", "--json", path)
    assert result.exit_code == 0, result.output
    saved = json.loads(path.read_text())
    assert (saved["programs"], saved["mismatches"], saved["reproducer"]) == (8, 0, None)
    assert f"programs 8, instructions {saved['instructions']}, mismatches 0" in result.output
    coverage = saved["coverage"]
    assert set(coverage["goals"]) == {"instructions", "hazards", "errors"}
    assert sum(coverage["executed"].values()) > 0
