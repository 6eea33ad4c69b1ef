"""``accelgen cache info|clean``: where the cache lives, its size per kind, removing it."""

import json
import os

import pytest
from click.testing import CliRunner

from accel.util.cache import CACHE_ENV, KINDS, LEGACY_CACHE_ENV
from accel.cli import main


@pytest.fixture
def root(tmp_path, monkeypatch):
    """An empty cache root in ``tmp_path`` (not created yet)."""
    monkeypatch.delenv(LEGACY_CACHE_ENV, raising=False)
    path = tmp_path / "cache"
    monkeypatch.setenv(CACHE_ENV, str(path))
    return path


def _cli(*args: str):
    return CliRunner().invoke(main, ["cache", *args])


def _fill(root):
    """2 simulator files (3,000 bytes), 1 firmware file (100 bytes), 1 sweep file (5 bytes)."""
    (root / "simulator" / "verilator-abc").mkdir(parents=True)
    (root / "simulator" / "verilator-abc" / "Vtop").write_bytes(b"\0" * 2048)
    (root / "simulator" / "verilator-abc.lock").write_bytes(b"\0" * 952)
    (root / "firmware" / "mnist-1").mkdir(parents=True)
    (root / "firmware" / "mnist-1" / "mnist.bin").write_bytes(b"\0" * 100)
    (root / "sweep" / "synth-ice40").mkdir(parents=True)
    (root / "sweep" / "synth-ice40" / "k.json").write_text("{}\n\n\n")


def test_info_names_the_root_and_sizes_per_kind(root):
    _fill(root)
    result = _cli("info")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == f"accelgen cache: {root} (from ${CACHE_ENV})"
    rows = {line.split()[0]: line.split() for line in lines[1:]}
    assert list(rows) == [*KINDS, "total"]
    assert rows["simulator"][1:4] == ["2.9", "KiB", "2"]
    assert rows["firmware"][1:4] == ["100", "B", "1"]
    assert rows["sweep"][1:4] == ["5", "B", "1"]
    assert rows["verilog"][1:4] == ["0", "B", "0"]
    assert rows["total"][1:4] == ["3.0", "KiB", "4"]
    assert KINDS["simulator"] in lines[2]


def test_info_json(root, tmp_path):
    _fill(root)
    out = tmp_path / "info.json"
    result = _cli("info", "--json", str(out))
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"accelgen cache: {root} ")
    data = json.loads(out.read_text())
    assert data["root"] == str(root) and data["source"] == CACHE_ENV and data["exists"]
    assert {k: (v["files"], v["bytes"]) for k, v in data["kinds"].items()} == {
        "verilog": (0, 0), "simulator": (2, 3000), "runs": (0, 0), "firmware": (1, 100),
        "sweep": (1, 5), "mnist": (0, 0)}
    assert data["kinds"]["firmware"]["path"] == str(root / "firmware")
    assert (data["total_files"], data["total_bytes"]) == (4, 3105)


def test_info_on_a_missing_cache_creates_nothing(root):
    result = _cli("info")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0].endswith("not created yet)")
    assert "total" in result.output.splitlines()[-1]
    assert not root.exists()


def test_info_without_a_variable_names_the_platform_directory(monkeypatch, tmp_path):
    monkeypatch.delenv(CACHE_ENV, raising=False)
    monkeypatch.delenv(LEGACY_CACHE_ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    result = _cli("info")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == (
        f"accelgen cache: {tmp_path / 'xdg' / 'accelgen'} (the user cache directory; set "
        f"{CACHE_ENV} to move it, not created yet)")


def test_clean_one_kind_then_all(root, tmp_path):
    _fill(root)
    (root / "mine.txt").write_text("a file of the user's in the cache root")
    result = _cli("clean", "firmware")
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"accelgen cache: removed 100 B (1 files: firmware) from {root}"
    assert not (root / "firmware").exists() and (root / "simulator").is_dir()
    out = tmp_path / "clean.json"
    result = _cli("clean", "--json", str(out))
    assert result.exit_code == 0, result.output
    assert "removed 2.9 KiB (3 files: simulator, sweep)" in result.output
    data = json.loads(out.read_text())
    assert (data["removed_files"], data["removed_bytes"]) == (3, 3005)
    assert os.listdir(root) == ["mine.txt"]  # only the kinds' folders go


def test_clean_is_safe_on_a_missing_cache(root):
    for args in ((), ("simulator", "runs")):
        result = _cli("clean", *args)
        assert result.exit_code == 0, result.output
        assert result.output.strip() == \
            f"accelgen cache: removed 0 B (0 files: nothing) from {root}"
    assert not root.exists()


def test_clean_empties_and_removes_the_root(root, tmp_path):
    _fill(root)
    result = _cli("clean", "--json", str(tmp_path / "removed.json"))
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "removed.json").read_text())["removed_files"] == 4
    assert not root.exists()


def test_bad_kind_is_a_usage_error(root):
    result = _cli("clean", "everything")
    assert result.exit_code == 2
    assert "'everything' is not one of 'verilog', 'simulator'" in result.output
    assert "Traceback" not in result.output


def test_unremovable_cache_is_a_one_line_failure(root, monkeypatch):
    _fill(root)
    import shutil

    def refuse(path, *args, **kwargs):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(shutil, "rmtree", refuse)
    result = _cli("clean", "simulator")
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        f"Error: cannot remove {str(root / 'simulator')!r}: Permission denied"]


def test_help_lists_the_command():
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0 and "cache" in result.output
    result = _cli("--help")
    assert result.exit_code == 0 and "info" in result.output and "clean" in result.output


def test_unwritable_json_is_a_usage_error_before_the_work(root, tmp_path):
    _fill(root)
    (tmp_path / "file").write_text("x")
    for command in ("info", "clean"):
        result = _cli(command, "--json", str(tmp_path / "file" / "out.json"))
        assert result.exit_code == 2, result.output
        lines = result.output.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("Error: ") and "out.json" in lines[0]
    assert (root / "simulator" / "verilator-abc" / "Vtop").is_file()  # clean did not run
