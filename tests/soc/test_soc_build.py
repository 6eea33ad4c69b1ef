"""``accelgen build --top soc``: the files it writes, and that Verilator and Icarus accept them."""

import json
import os
import shutil
import subprocess

import pytest
from click.testing import CliRunner

from accel.cli import main
from accel.build.firmware import build_firmware
from accel.config import AccelConfig
from sim.runner import verilator_bin_dir


def _build(out, *extra):
    result = CliRunner().invoke(main, ["build", "--top", "soc", "--rows", "8", "--cols", "8",
                                       "--out", str(out), *extra], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result


@pytest.mark.rtl
@pytest.mark.soc
def test_soc_build_writes_core_headers_and_memory_map(tmp_path):
    out = tmp_path / "soc"
    _build(out)
    assert {"soc.v", "picorv32.v", "accelgen.h", "soc.h", "manifest.json"} <= set(os.listdir(out))
    manifest = json.loads((out / "manifest.json").read_text())
    names = [r["name"] for r in manifest["memory_map"]]
    assert names == ["sram", "uart", "timer", "leds", "accel"]
    soc_h = (out / "soc.h").read_text()
    for r in manifest["memory_map"]:
        assert f"#define SOC_{r['name'].upper()}_BASE {r['base']:#010x}u" in soc_h
    env = {k: v for k, v in os.environ.items() if k != "VERILATOR_ROOT"}
    lint = subprocess.run([str(verilator_bin_dir() / "verilator"), "--lint-only", "-Wno-fatal",
                           "--top-module", "soc", "soc.v", "picorv32.v"],
                          cwd=out, env=env, capture_output=True, text=True)
    assert lint.returncode == 0, lint.stderr[-3000:]
    iverilog = shutil.which("iverilog")
    assert iverilog, "iverilog not found: apt-get install iverilog"
    compiled = subprocess.run([iverilog, "-g2012", "-s", "soc", "-o", "soc.vvp", "soc.v",
                               "picorv32.v"], cwd=out, capture_output=True, text=True)
    assert compiled.returncode == 0, compiled.stderr[-3000:]


@pytest.mark.rtl
@pytest.mark.soc
def test_soc_build_bakes_firmware(tmp_path):
    config = AccelConfig(rows=8, cols=8)
    elf = build_firmware(config, "selftest", tmp_path / "fw")
    image = elf.with_suffix(".bin")
    _build(tmp_path / "soc", "--firmware", str(image))
    manifest = json.loads((tmp_path / "soc" / "manifest.json").read_text())
    assert manifest["firmware"]["bytes"] == image.stat().st_size
    first_word = int.from_bytes(image.read_bytes()[:4], "little")
    assert f"memory[0] = 32'd{first_word};" in (tmp_path / "soc" / "soc.v").read_text()


def test_firmware_on_another_top_is_one_line_error(tmp_path):
    image = tmp_path / "x.bin"
    image.write_bytes(b"\0" * 8)
    result = CliRunner().invoke(main, ["build", "--top", "array", "--preset", "tiny",
                                       "--firmware", str(image), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        "Error: a firmware image only goes into the soc top, not 'array'"]
