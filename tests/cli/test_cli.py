"""The ``accelgen`` CLI: ``build`` output, determinism, one-line errors and atomic writes."""

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import accel.isa
from accel import AccelConfig, __version__
from accel.cli import main

TINY = ["--preset", "tiny", "--top", "array"]  # the array alone: fast to emit
FILES = {"array.v", "accelgen.h", "manifest.json"}


def _build(out: Path, *args: str):
    result = CliRunner().invoke(main, ["build", *args, "--out", str(out)])
    assert result.exit_code == 0, result.output
    return result


def _contents(out: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(out.iterdir())}


def test_build_writes_verilog_header_and_manifest(tmp_path):
    result = _build(tmp_path / "out", *TINY, "--cols", "8", "--dataflow", "os")
    out = tmp_path / "out"
    assert set(os.listdir(out)) == FILES
    config = AccelConfig(**dict(json.loads((out / "manifest.json").read_text())["config"]))
    assert (config.rows, config.cols, config.dataflow, config.name) == (4, 8, "os", "tiny")
    assert "32 PEs" in result.output and "array.v" in result.output
    assert "module array(" in (out / "array.v").read_text()
    assert (out / "accelgen.h").read_text() == accel.isa.render_c_header(config)


@pytest.mark.slow
def test_a_reused_out_holds_only_the_new_build(tmp_path):
    out = tmp_path / "out"
    _build(out, "--preset", "tiny")
    (out / "notes.txt").write_text("mine")
    _build(out, *TINY)
    assert set(os.listdir(out)) == FILES | {"notes.txt"}
    assert json.loads((out / "manifest.json").read_text())["top"] == "array"


@pytest.mark.slow
def test_default_top_is_the_accelerator(tmp_path):
    out = tmp_path / "out"
    result = _build(out, "--preset", "tiny")
    assert set(os.listdir(out)) == {"accelerator.v", "accelgen.h", "manifest.json"}
    assert "module accelerator(" in (out / "accelerator.v").read_text()
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["top"] == "accelerator"
    assert "accelerator.v" in result.output
    verilog = (out / "accelerator.v").read_text()
    ports = {port["name"]: port for port in manifest["ports"]}
    assert {"cmd__payload", "resp__payload", "bus__adr", "bus__sel", "busy", "error"} <= set(ports)
    assert ports["cmd__payload"]["fields"]["rs2"] == {"offset": 42, "width": 32}
    for port in manifest["ports"]:
        width = f"[{port['width'] - 1}:0] " if port["width"] > 1 else ""
        assert f"{port['direction']} {width}{port['name']};" in verilog, port


def test_manifest_records_everything(tmp_path):
    out = tmp_path / "out"
    _build(out, *TINY)
    manifest = json.loads((out / "manifest.json").read_text())
    config = AccelConfig.from_file(out / "manifest.json")
    assert manifest["config"] == config.to_dict()
    assert manifest["derived"] == config.derived()
    assert manifest["top"] == "array"
    assert manifest["isa_version"] == accel.isa.ISA_VERSION
    assert manifest["accelgen_version"] == __version__
    assert set(manifest["files"]) == {"array.v", "accelgen.h"}
    for name, entry in manifest["files"].items():
        data = (out / name).read_bytes()
        assert entry == {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}


@pytest.mark.slow
def test_build_is_byte_identical_across_runs(tmp_path):
    _build(tmp_path / "a", *TINY)
    _build(tmp_path / "b", *TINY)
    assert _contents(tmp_path / "a") == _contents(tmp_path / "b")


@pytest.mark.slow
def test_manifest_reproduces_the_build(tmp_path):
    _build(tmp_path / "a", "--rows", "2", "--cols", "3", "--preset", "tiny", "--acc-width", "20")
    _build(tmp_path / "b", "--config", str(tmp_path / "a" / "manifest.json"))
    assert _contents(tmp_path / "a") == _contents(tmp_path / "b")


def _console_script() -> str:
    beside = Path(sys.executable).parent / "accelgen"
    found = str(beside) if beside.is_file() else shutil.which("accelgen")
    assert found, "the accelgen console script is not installed: pip install -e ."
    return found


@pytest.mark.slow
def test_console_script_builds_identically_in_separate_processes(tmp_path):
    for name, seed in (("p1", "1"), ("p2", "999")):
        env = dict(os.environ, PYTHONHASHSEED=seed)
        result = subprocess.run([_console_script(), "build", *TINY, "--out", name],
                                cwd=tmp_path, env=env, capture_output=True, text=True)
        assert result.returncode == 0, result.stderr
        assert "16 PEs" in result.stdout
    _build(tmp_path / "in_process", *TINY)
    assert (_contents(tmp_path / "p1") == _contents(tmp_path / "p2")
            == _contents(tmp_path / "in_process"))


@pytest.mark.parametrize("args, fragment", [
    (["--rows", "0"], "rows must be an integer between 1 and 128, not 0"),
    (["--cols", "129"], "cols must be an integer between 1 and 128, not 129"),
    (["--rows", "four"], "'four' is not a valid integer"),
    (["--input-width", "16", "--acc-width", "20"],
     "--acc-width must be at least 2 * --input-width"),
    (["--dataflow", "rs"], "'rs' is not one of 'ws', 'os'"),
    (["--preset", "huge"], "unknown preset 'huge'"),
    (["--preset", "tiny", "--config", "x.json"], "--preset and --config are mutually exclusive"),
    (["--config", "missing.json"], "cannot read configuration file 'missing.json'"),
    (["--config", "broken.json"], "is not valid JSON"),
    (["--config", "unknown.json"], "unknown configuration field 'depth'"),
    (["--top", "soc9"], "Invalid value for '--top': 'soc9'"),
    (["--bogus"], "--bogus"),
])
def test_bad_parameters_are_one_line_and_exit_2(tmp_path, args, fragment):
    (tmp_path / "broken.json").write_text('{"rows": 4,')
    (tmp_path / "unknown.json").write_text('{"depth": 4}')
    with CliRunner().isolated_filesystem(temp_dir=tmp_path):
        shutil.copy(tmp_path / "broken.json", "broken.json")
        shutil.copy(tmp_path / "unknown.json", "unknown.json")
        result = CliRunner().invoke(main, ["build", *args, "--out", "out"])
        assert result.exit_code == 2, result.output
        lines = result.output.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
        assert fragment in lines[0]
        assert not os.path.exists("out")


@pytest.mark.slow
def test_failure_midway_writes_nothing(tmp_path, monkeypatch):
    out = tmp_path / "out"
    _build(out, *TINY)
    before = _contents(out)

    def broken_header(config):
        raise RuntimeError("header renderer exploded")

    monkeypatch.setattr(accel.isa, "render_c_header", broken_header)
    result = CliRunner().invoke(main, ["build", "--rows", "2", "--out", str(out)])
    assert result.exit_code != 0 and isinstance(result.exception, RuntimeError)
    assert _contents(out) == before
    result = CliRunner().invoke(main, ["build", *TINY, "--out", str(tmp_path / "new")])
    assert result.exit_code != 0 and not (tmp_path / "new").exists()


@pytest.mark.slow
def test_failure_while_writing_leaves_no_temporary_files(tmp_path, monkeypatch):
    out = tmp_path / "out"
    _build(out, *TINY)
    before = _contents(out)
    real_fsync, calls = os.fsync, []

    def failing_fsync(fd):
        calls.append(fd)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", failing_fsync)
    result = CliRunner().invoke(main, ["build", "--rows", "2", "--out", str(out)])
    assert result.exit_code == 1
    assert result.output.strip() == f"Error: cannot write to {str(out)!r}: No space left on device"
    assert _contents(out) == before


def test_help_explains_every_option_with_ranges():
    result = CliRunner().invoke(main, ["build", "--help"])
    assert result.exit_code == 0
    for option in ("--rows", "--cols", "--dataflow", "--input-width", "--acc-width", "--preset",
                   "--config", "--top", "--out"):
        assert option in result.output
    flat = " ".join(result.output.split())  # help text wraps at the terminal width
    for text in ("1..128", "2..16", "4..64", "tiny, small, default, large", "[default: build]",
                 "[default: accelerator]"):
        assert text in flat


@pytest.mark.slow
def test_written_files_honour_the_umask(tmp_path):
    _build(tmp_path / "out", *TINY)
    umask = os.umask(0)
    os.umask(umask)
    for path in (tmp_path / "out").iterdir():
        assert path.stat().st_mode & 0o777 == 0o666 & ~umask


def test_bare_command_prints_help_without_traceback():
    result = CliRunner().invoke(main, [])
    assert "Commands:" in result.output and "build" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_version():
    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0 and result.output.strip() == f"accelgen, version {__version__}"


@pytest.mark.slow
def test_soc_sram_option_sets_the_sram_size(tmp_path):
    from click.testing import CliRunner

    from accel.cli import main

    result = CliRunner().invoke(main, ["build", "--preset", "tiny", "--soc-sram-kib", "128",
                                       "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["config"]["soc_sram_kib"] == 128
    bad = CliRunner().invoke(main, ["build", "--soc-sram-kib", "100", "--out", str(tmp_path)])
    assert bad.exit_code == 2 and "--soc-sram-kib must be a power of two" in bad.output
