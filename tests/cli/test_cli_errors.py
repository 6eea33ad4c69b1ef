"""``accelgen`` on bad input: one ``Error:`` line, exit code 2 for a bad parameter (1 for a
failure), found before any slow work starts, never a traceback; and ``build --config
manifest.json`` reproducing a build, firmware included."""

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

import accel.cli.build  # noqa: F401  (monkeypatch target; local imports rebind accel)
from accel.build.firmware import list_apps
from accel.cli import main

BOARD = "ulx3s-85f"
#: Arguments a command needs besides the one under test before it reads its configuration.
REQUIRED = {
    ("board", "build"): ["--board", BOARD],
    ("predict",): ["--gemm", "4x4x4"],
    ("mnist", "train"): ["--out", "model.npz"],
    ("compile",): ["cnn", "--out", "."],
    ("run",): ["--model", "cnn", "--input", "latin1.json"],
}
SOC = ["build", "--top", "soc", "--rows", "2", "--cols", "2"]
#: Eight words of RISC-V code (addi x0, x0, 0, i.e. nop, then a jump to itself): a firmware
#: image without a compiler.
IMAGE = (0x00000013).to_bytes(4, "little") * 7 + (0x0000006F).to_bytes(4, "little")


def _commands(group: click.Group = main, path: tuple[str, ...] = ()):
    """``(path, command)`` of every leaf command, in registration order."""
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            yield from _commands(command, (*path, name))
        else:
            yield (*path, name), command


def _taking(parameter: str) -> list[tuple[str, ...]]:
    return [path for path, command in _commands()
            if any(p.name == parameter for p in command.params)]


def _run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def _error_line(result, code: int = 2) -> str:
    """The one line a failed command printed (asserting exit ``code`` and no traceback)."""
    assert result.exit_code == code, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), \
        repr(result.exception)
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    return lines[0]


@pytest.fixture(autouse=True)
def no_slow_work(request, monkeypatch):
    """Make every slow entry point fail loudly: a check that runs after them comes too late.

    Tests that use the ``real_build`` fixture elaborate for real.
    """
    if "real_build" in request.fixturenames:
        return
    import accel.runtime.evaluate
    import accel.nn.mnist.recipe
    import accel.runtime.matmul
    import accel.runtime.rtl
    import accel.sweep
    import accel.verify.fuzz

    def ran(*args, **kwargs):
        raise AssertionError("the slow work started before the bad input was reported")

    for module, name in ((accel.runtime.evaluate, "evaluate"),
                         (accel.nn.mnist.recipe, "make_model"),
                         (accel.runtime.matmul, "matmul"), (accel.runtime.rtl, "run_programs"),
                         (accel.sweep, "run_sweep"), (accel.verify.fuzz, "fuzz"),
                         (accel.cli.build, "render_artifacts")):
        monkeypatch.setattr(module, name, ran)


@pytest.fixture()
def here(tmp_path, monkeypatch):
    """Run in an empty scratch directory (the current directory must stay empty on errors)."""
    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)
    return work


# -- tracebacks ---------------------------------------------------------------------------------


def test_every_config_command_is_covered():
    # If a command gains --config, it is tested below without changing this file; this guards
    # the discovery itself.
    found = set(_taking("config_file"))
    assert {("build",), ("firmware", "build"), ("isa", "header"), ("predict",), ("matmul",),
            ("sim", "random"), ("fuzz",), ("mnist", "eval"), ("board", "build")} <= found


@pytest.mark.parametrize("command", _taking("config_file"), ids=" ".join)
def test_non_utf8_config_is_one_line_error(here, command):
    Path("latin1.json").write_bytes('{"name": "caf\xe9"}'.encode("latin-1"))
    result = _run(*command, *REQUIRED.get(command, []), "--config", "latin1.json")
    line = _error_line(result)
    assert "latin1.json" in line and "UTF-8" in line, line
    assert os.listdir(here) == ["latin1.json"]


@pytest.mark.parametrize("args", [
    ["board", "program", "--board", BOARD, "--build-dir", "."],
    ["fuzz", "--replay", "report.json"],
    ["predict", "--asm", "report.json"],
    ["mnist", "info", "report.json"],
], ids=lambda args: " ".join(args[:2]))
def test_other_non_utf8_inputs_are_one_line_errors(here, args):
    Path("report.json").write_bytes(b"\xff\xfe{}")
    line = _error_line(_run(*args))
    assert "report.json" in line, line


@pytest.mark.parametrize("command", [("matmul",), ("fuzz",), ("sim", "random"),
                                     ("mnist", "train")], ids=" ".join)
def test_negative_seed_is_one_line_error(here, command):
    assert command in _taking("seed")
    line = _error_line(_run(*command, *REQUIRED.get(command, []), "--seed", "-1"))
    assert "'--seed'" in line and "-1" in line, line
    assert os.listdir(here) == []


def test_every_seed_is_non_negative():
    for path in _taking("seed"):
        command = dict(_commands())[path]
        seed = next(p for p in command.params if p.name == "seed")
        with pytest.raises(click.BadParameter):
            seed.type.convert(-1, seed, None)


@pytest.mark.parametrize("args", [
    ["predict", "--gemm", "4x4x4", "--json", "taken/out.json"],
    ["mnist", "eval", "--images", "1", "--json", "taken/out.json"],
    ["fuzz", "--coverage-json", "taken/coverage.json"],
    ["fuzz", "--out", "taken/reproducers"],
    ["mnist", "train", "--out", "taken/model.npz"],
], ids=lambda args: f"{args[0]} {args[-2]}")
def test_output_under_a_file_is_refused_before_the_work(here, args):
    Path("taken").write_text("a file, not a directory\n")
    result = _run(*args)
    line = _error_line(result)
    assert "taken" in line, line
    assert "cycles" not in result.output  # predict: nothing was computed or printed first
    assert sorted(os.listdir(here)) == ["taken"]


def test_json_into_a_directory_is_refused(here):
    Path("report.json").mkdir()
    line = _error_line(_run("predict", "--gemm", "4x4x4", "--json", "report.json"))
    assert "report.json" in line and "directory" in line, line


# -- build: where it writes, what it bakes in ---------------------------------------------------


def test_build_out_empty_is_an_error(here):
    line = _error_line(_run("build", "--preset", "tiny", "--top", "array", "--out", ""))
    assert "'--out'" in line and "empty" in line, line
    assert os.listdir(here) == []


@pytest.mark.parametrize("out", ["taken/build", "taken", "/proc/accelgen-build"])
def test_unwritable_out_is_found_before_elaboration(here, out):
    # render_artifacts fails the test if it runs (the no_slow_work fixture).
    Path("taken").write_text("a file\n")
    line = _error_line(_run("build", "--preset", "tiny", "--top", "array", "--out", out))
    assert out in line, line
    assert sorted(os.listdir(here)) == ["taken"]


def test_sweep_out_under_a_file_is_refused_before_the_sweep(here):
    Path("taken").write_text("a file\n")
    line = _error_line(_run("sweep", "--rows", "2", "--cols", "2", "--out", "taken/sweep"))
    assert "taken" in line, line


@pytest.mark.parametrize("content, fragment", [
    (b"", "is empty"),
    (IMAGE[:6], "6 bytes is not a whole number of 4-byte words"),
    (IMAGE + b"\x13", "33 bytes is not a whole number of 4-byte words"),
], ids=["empty", "6 bytes", "33 bytes"])
def test_malformed_firmware_image_is_refused(here, content, fragment):
    Path("fw.bin").write_bytes(content)
    line = _error_line(_run(*SOC, "--firmware", "fw.bin", "--out", "out"))
    assert "fw.bin" in line and fragment in line, line
    assert os.listdir(here) == ["fw.bin"]


def test_firmware_larger_than_the_sram_names_the_flag(here):
    Path("fw.bin").write_bytes(bytes(4 * 1024 + 4))
    line = _error_line(_run(*SOC, "--soc-sram-kib", "4", "--firmware", "fw.bin", "--out", "o"))
    assert line == ("Error: firmware image 'fw.bin' of 4,100 bytes does not fit in the 4,096 "
                    "bytes of SRAM (--soc-sram-kib 4)")


# -- exit codes ---------------------------------------------------------------------------------


def test_unknown_firmware_app_is_a_usage_error_listing_the_apps(here):
    apps = list_apps()
    assert "selftest" in apps
    line = _error_line(_run("firmware", "build", "--app", "nosuchapp", "--out", "fw"))
    assert "nosuchapp" in line and ", ".join(apps) in line, line
    assert os.listdir(here) == []


@pytest.mark.slow
def test_a_failure_exits_1_not_2(here, real_build, monkeypatch):
    # A good request whose work fails (here, writing) is a failure: exit code 1.
    import accel.build.artifacts

    def disk_full(out, files):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(accel.cli.build, "write_build", disk_full)
    assert accel.build.artifacts.write_build is not disk_full
    line = _error_line(_run("build", "--preset", "tiny", "--top", "array", "--out", "o"), code=1)
    assert "No space left on device" in line


# -- messages in the user's words ---------------------------------------------------------------


@pytest.mark.parametrize("args, message", [
    (["--soc-sram-kib", "100"],
     "--soc-sram-kib must be a power of two between 4 and 1024, not 100"),
    (["--rows", "0"], "--rows must be an integer between 1 and 128, not 0"),
    (["--input-width", "16", "--acc-width", "20"],
     "--acc-width must be at least 2 * --input-width = 32, not 20"),
])
def test_config_errors_name_the_flags_typed(here, args, message):
    line = _error_line(_run("build", *args, "--out", "out"))
    assert line == f"Error: {message}"


def test_board_config_errors_name_the_flags_typed(here):
    line = _error_line(_run("board", "build", "--board", BOARD, "--soc-sram-kib", "100"))
    assert line == "Error: --soc-sram-kib must be a power of two between 4 and 1024, not 100"


def test_config_file_errors_name_the_file_and_its_field(here):
    Path("config.json").write_text(json.dumps({"rows": 500}))
    line = _error_line(_run("build", "--config", "config.json", "--out", "out"))
    assert line == "Error: config.json: rows must be an integer between 1 and 128, not 500"


@pytest.mark.parametrize("args", [["mnist", "info", "nosuch"],
                                  ["mnist", "eval", "--model", "nosuch"],
                                  ["predict", "--model", "nosuch"]], ids=" ".join)
def test_unknown_model_lists_the_choices(here, args):
    line = _error_line(_run(*args))
    assert "'nosuch'" in line and "cnn, mlp" in line and ".npz" in line, line


def test_non_zip_model_is_not_called_pickled(here):
    Path("text.npz").write_text("hello, I am not a model\n")
    line = _error_line(_run("mnist", "info", "text.npz"))
    assert "not a valid .npz model file" in line and "pickle" not in line, line


# -- build --config manifest.json reproduces the build ------------------------------------------


@pytest.fixture()
def real_build():
    """Elaborate for real (see `no_slow_work`)."""


def _files(out: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(out.iterdir())}


def _ok(result):
    assert result.exit_code == 0, result.output
    return result


@pytest.mark.slow
def test_manifest_reproduces_the_top(here, real_build):
    _ok(_run("build", "--preset", "tiny", "--top", "array", "--out", "a"))
    _ok(_run("build", "--config", "a/manifest.json", "--out", "b"))
    assert _files(here / "a") == _files(here / "b")
    assert "array.v" in _files(here / "b")


@pytest.mark.slow
def test_manifest_reproduces_the_soc_with_its_firmware(here, real_build):
    Path("fw.bin").write_bytes(IMAGE)
    _ok(_run(*SOC, "--firmware", "fw.bin", "--out", "a"))
    manifest = json.loads(Path("a/manifest.json").read_text())
    assert manifest["top"] == "soc"
    assert manifest["firmware"] == {"bytes": len(IMAGE),
                                    "sha256": hashlib.sha256(IMAGE).hexdigest()}
    assert Path("a/firmware.bin").read_bytes() == IMAGE  # the build directory is self-contained
    os.remove("fw.bin")
    _ok(_run("build", "--config", "a/manifest.json", "--out", "b"))
    assert _files(here / "a") == _files(here / "b")
    # Given again by hand, the same image is accepted wherever it lies.
    shutil.copy("a/firmware.bin", "copy.bin")
    shutil.copy("a/manifest.json", "manifest.json")
    _ok(_run("build", "--config", "manifest.json", "--firmware", "copy.bin", "--out", "c"))
    assert _files(here / "a") == _files(here / "c")


@pytest.mark.slow
def test_manifest_without_its_firmware_is_refused(here, real_build):
    Path("fw.bin").write_bytes(IMAGE)
    _ok(_run(*SOC, "--firmware", "fw.bin", "--out", "a"))
    os.remove("fw.bin")
    shutil.copy("a/manifest.json", "alone.json")
    line = _error_line(_run("build", "--config", "alone.json", "--out", "b"))
    sha = hashlib.sha256(IMAGE).hexdigest()
    assert "alone.json" in line and sha[:12] in line and "--firmware" in line, line
    Path("other.bin").write_bytes(IMAGE[4:] + IMAGE[:4])
    line = _error_line(_run("build", "--config", "alone.json", "--firmware", "other.bin",
                            "--out", "b"))
    assert "other.bin" in line and sha[:12] in line, line
    assert not Path("b").exists()


@pytest.mark.slow
def test_top_flag_overrides_the_manifest(here, real_build):
    _ok(_run("build", "--preset", "tiny", "--top", "array", "--out", "a"))
    result = _ok(_run("build", "--config", "a/manifest.json", "--top", "accelerator",
                      "--out", "b"))
    assert "accelerator.v" in _files(here / "b") and "accelerator" in result.output


# -- in a real process: no traceback reaches the user -------------------------------------------


def _console_script() -> str:
    beside = Path(sys.executable).parent / "accelgen"
    found = str(beside) if beside.is_file() else shutil.which("accelgen")
    assert found, "the accelgen console script is not installed: pip install -e ."
    return found


@pytest.mark.parametrize("args", [
    ["build", "--config", "latin1.json", "--top", "array"],
    ["matmul", "--seed", "-1"],
    ["predict", "--gemm", "2x2x2", "--json", "taken/x.json"],
    ["firmware", "build", "--app", "nosuchapp"],
    ["mnist", "info", "text.npz"],
], ids=lambda args: " ".join(args[:2]))
def test_console_script_prints_one_line_and_exits_2(tmp_path, args):
    (tmp_path / "latin1.json").write_bytes(b'{"name": "caf\xe9"}')
    (tmp_path / "taken").write_text("a file\n")
    (tmp_path / "text.npz").write_text("not a zip\n")
    result = subprocess.run([_console_script(), *args], cwd=tmp_path, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
