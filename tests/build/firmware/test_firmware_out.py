"""The firmware build directory: built aside and moved into place on success, so a failed build
leaves nothing behind and a reused directory holds only the new build; a directory that is not an
earlier build is never replaced."""

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from accel import AccelConfig
from accel.build.firmware import (
    MANIFEST, FirmwareError, FirmwareUsageError, build_firmware, is_firmware_build,
)
from accel.cli import main

pytestmark = pytest.mark.soc  # riscv64-unknown-elf-gcc

CONFIG = AccelConfig(rows=2, cols=2)
BROKEN = "int main(void) { return undeclared_name; }\n"


def _cli(*args: str):
    return CliRunner().invoke(main, list(args))


def _tree(path: Path) -> dict[str, bytes]:
    """Every file under ``path`` with its bytes."""
    return {p.relative_to(path).as_posix(): p.read_bytes()
            for p in sorted(path.rglob("*")) if p.is_file()}


def _app(tmp_path: Path, name: str, text: str) -> Path:
    source = tmp_path / "src" / f"{name}.c"
    source.parent.mkdir(exist_ok=True)
    source.write_text(text)
    return source


def test_manifest_lists_exactly_the_files_of_the_build(tmp_path):
    out = tmp_path / "fw"
    elf = build_firmware(CONFIG, "selftest", out)
    assert elf == out / "selftest.elf"
    manifest = json.loads((out / MANIFEST).read_text())
    assert manifest["app"] == "selftest"
    assert sorted(manifest["files"]) == sorted(set(_tree(out)) - {MANIFEST})
    assert {"selftest.elf", "selftest.bin", "selftest.hex", "selftest.json", "link.ld",
            "include/accelgen.h", "include/soc.h", "include/accel_mmio.h"} <= set(
        manifest["files"])
    assert is_firmware_build(out)
    # Nothing was left beside it, and the directory follows the umask like any mkdir.
    assert os.listdir(tmp_path) == ["fw"]
    probe = tmp_path / "probe"
    probe.mkdir()
    assert out.stat().st_mode & 0o777 == probe.stat().st_mode & 0o777


@pytest.mark.parametrize("failure", ["compile", "sram"])
def test_failed_build_leaves_nothing_behind(tmp_path, failure):
    out = tmp_path / "new" / "deeper" / "fw"
    if failure == "compile":
        args = ["--app", str(_app(tmp_path, "broken", BROKEN))]
        message = "compiling broken.c failed"
    else:
        args = ["--sram-kib", "4"]
        message = "does not fit the 4 KiB SRAM"
    result = _cli("firmware", "build", "--rows", "8", "--cols", "8", *args, "--out", str(out))
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and message in lines[0], lines
    # No include/, obj/, link.ld, no staging directory, not even the parents it had to create.
    assert sorted(os.listdir(tmp_path)) == (["src"] if failure == "compile" else [])


def test_failed_build_keeps_the_previous_build(tmp_path):
    out = tmp_path / "fw"
    build_firmware(CONFIG, "selftest", out)
    before = _tree(out)
    with pytest.raises(FirmwareError, match="compiling broken.c failed"):
        build_firmware(CONFIG, str(_app(tmp_path, "broken", BROKEN)), out)
    with pytest.raises(FirmwareError, match="does not fit the 4 KiB SRAM"):
        build_firmware(AccelConfig(rows=8, cols=8, soc_sram_kib=4), "selftest", out)
    assert _tree(out) == before
    assert sorted(os.listdir(tmp_path)) == ["fw", "src"]


def test_reused_out_holds_only_the_new_build(tmp_path):
    out = tmp_path / "fw"
    build_firmware(CONFIG, "selftest", out)
    other = _app(tmp_path, "other", "int main(void) { return 0; }\n")
    result = _cli("firmware", "build", "--rows", "4", "--cols", "4", "--app", str(other),
                  "--out", str(out))
    assert result.exit_code == 0, result.output
    files = set(_tree(out))
    assert not any(name.startswith("selftest") for name in files), files
    assert not any("selftest" in name for name in files)  # no selftest object either
    assert files == set(json.loads((out / MANIFEST).read_text())["files"]) | {MANIFEST}
    assert json.loads((out / "other.json").read_text())["config"]["rows"] == 4
    assert sorted(os.listdir(tmp_path)) == ["fw", "src"]


def test_a_directory_that_is_not_a_build_is_never_replaced(tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    result = _cli("firmware", "build", "--rows", "2", "--cols", "2", "--out", str(mine))
    assert result.exit_code == 2  # a bad parameter
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "is not empty and holds no earlier firmware build" in lines[0]
    assert _tree(mine) == {"notes.txt": b"keep me"}
    assert sorted(os.listdir(tmp_path)) == ["mine"]


def test_an_earlier_build_with_extra_files_is_not_replaced(tmp_path):
    out = tmp_path / "fw"
    build_firmware(CONFIG, "selftest", out)
    (out / "include" / "my_header.h").write_text("/* mine */\n")
    before = _tree(out)
    with pytest.raises(FirmwareUsageError, match=r"holds files that are not from its last "
                                                 r"firmware build \(include/my_header.h\)"):
        build_firmware(CONFIG, "selftest", out)
    assert _tree(out) == before and not is_firmware_build(out)


def test_empty_directory_is_fine(tmp_path):
    build_firmware(CONFIG, "selftest", tmp_path)
    assert is_firmware_build(tmp_path)


def test_out_that_is_a_file_or_the_current_directory(tmp_path, monkeypatch):
    (tmp_path / "file").write_text("x")
    with pytest.raises(FirmwareUsageError, match="is not a directory"):
        build_firmware(CONFIG, "selftest", tmp_path / "file")
    with pytest.raises(FirmwareError, match="cannot write to") as info:
        build_firmware(CONFIG, "selftest", tmp_path / "file" / "below")
    assert "\n" not in str(info.value)
    # `--out ''` means the current directory: even an earlier build there is refused (it
    # would be renamed away from under the shell standing in it).
    build_firmware(CONFIG, "selftest", tmp_path / "fw")
    monkeypatch.chdir(tmp_path / "fw")
    for out in ("", ".", ".."):
        result = _cli("firmware", "build", "--rows", "2", "--cols", "2", "--out", out)
        assert result.exit_code == 2 and "is the current directory" in result.output, out
    assert is_firmware_build(tmp_path / "fw")
    assert sorted(os.listdir(tmp_path)) == ["file", "fw"]


def test_unknown_app_and_missing_source_are_usage_errors(tmp_path):
    with pytest.raises(FirmwareUsageError, match="unknown firmware app 'nope'"):
        build_firmware(CONFIG, "nope", tmp_path / "fw")
    with pytest.raises(FirmwareUsageError, match="no such firmware source"):
        build_firmware(CONFIG, str(tmp_path / "missing.c"), tmp_path / "fw")
    assert os.listdir(tmp_path) == []
    result = _cli("firmware", "build", "--app", str(tmp_path / "missing.c"), "--out",
                  str(tmp_path / "fw"))
    assert result.exit_code == 2 and result.output.strip().splitlines() == [
        f"Error: no such firmware source {str(tmp_path / 'missing.c')!r}"]


def test_soc_firmware_cache_replaces_an_older_layout(tmp_path, monkeypatch):
    """`accel.runtime.network_soc.soc_firmware` builds into the cache's firmware folder with its
    lock beside the build; an entry of the older layout (a lock inside, no manifest) is rebuilt, not
    an error."""
    monkeypatch.setenv("ACCELGEN_CACHE", str(tmp_path))
    from accel.runtime import network_soc as soc

    config = AccelConfig(rows=2, cols=2, name="cache-layout-test")
    old = tmp_path / "firmware" / f"{soc.APP}-{config.hardware_digest()}"
    old.mkdir(parents=True)
    (old / ".lock").write_text("")
    (old / "stale.o").write_text("")
    soc.soc_firmware.cache_clear()
    firmware = soc.soc_firmware(config)
    assert firmware.binary == (old / f"{soc.APP}.bin").read_bytes() and firmware.free_start > 0
    assert is_firmware_build(old) and not (old / "stale.o").exists()
    assert sorted(os.listdir(old.parent)) == [old.name, old.name + ".lock"]
    soc.soc_firmware.cache_clear()
