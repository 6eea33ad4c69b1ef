"""accelgen board: listing, and every error as one line with the right exit code."""

import json

import pytest
from click.testing import CliRunner

from accel.cli import main
from tests.support.riscv import require_toolchain


def run(*args, env=None):
    return CliRunner().invoke(main, ["board", *args], env=env)


def one_line_error(result, code, match):
    """The command failed with ``code`` and one ``Error:`` line, its last (progress lines of
    the steps that ran before it may precede it)."""
    assert result.exit_code == code, result.output
    lines = result.output.strip().splitlines()
    assert lines[-1].startswith("Error: "), result.output
    assert all(line.startswith("[") for line in lines[:-1]), result.output
    assert match in lines[-1], lines[-1]
    return lines[-1]


def test_list_names_every_board():
    result = run("list")
    assert result.exit_code == 0
    for name in ("ulx3s-85f", "ulx3s-12f", "ulx3s-25f", "ulx3s-45f", "icebreaker"):
        assert f"\n{name} " in "\n" + result.output


def test_unknown_board():
    one_line_error(run("build", "--board", "de10"), 2,
                   "unknown board 'de10'; boards: ulx3s-85f, ulx3s-12f")


def test_bad_configuration_flag():
    one_line_error(run("build", "--board", "ulx3s-85f", "--rows", "0"), 2,
                   "rows must be an integer between 1 and 128, not 0")


@pytest.mark.soc
@pytest.mark.parametrize("board, args, array, match", [
    # 10,739 commands of the CNN on a 1x1 array (129 KB of tables) need 256 KiB of SRAM.
    ("ulx3s-12f", ["--rows", "1", "--cols", "1"], "1x1",
     "KiB of SRAM; the ULX3S (Lattice ECP5 LFE5U-12F) holds at most 64 KiB of SoC SRAM"),
])
def test_design_too_big_for_the_board_names_the_memory(tmp_path, board, args, array, match):
    """Found before any synthesis: the firmware and network are sized first."""
    require_toolchain()
    line = one_line_error(run("build", "--board", board, *args, "--out", str(tmp_path)), 2,
                          match)
    assert "network 'cnn'" in line and f"commands for a {array} array" in line
    assert not (tmp_path / "gateware").exists()


@pytest.mark.soc
def test_firmware_too_big_for_the_icebreaker_is_found_first(tmp_path):
    """The general network interpreter (host operations for pooling and adds) alone outgrows
    the iCEBreaker's 8 KiB of SRAM: found before any synthesis, naming the memory."""
    require_toolchain()
    line = one_line_error(run("build", "--board", "icebreaker", "--out", str(tmp_path)), 2,
                          "firmware 'mnist_uart' does not fit the 8 KiB SRAM")
    assert "more bytes" in line
    assert not (tmp_path / "gateware").exists()


@pytest.mark.fpga
@pytest.mark.parametrize("variable", ["YOSYS", "NEXTPNR_ECP5", "ECPPACK"])
def test_missing_tool_is_found_before_any_work(tmp_path, variable):
    line = one_line_error(run("build", "--board", "ulx3s-85f", "--out", str(tmp_path),
                              env={variable: "no-such-tool"}), 1,
                          f"{variable}='no-such-tool' is not an executable")
    assert line and not any(tmp_path.iterdir())


def test_unknown_model():
    one_line_error(run("build", "--board", "ulx3s-85f", "--model", "nosuch.npz"), 2,
                   "nosuch.npz")


def _fake_build(tmp_path, board="ulx3s-85f", bitstream="ulx3s-85f.bit"):
    report = {"board": board, "bitstream": bitstream, "memory": {"model": "cnn"},
              "clock": {"target_mhz": 25.0}, "uart": {"baud": 115200}}
    (tmp_path / "report.json").write_text(json.dumps(report))
    (tmp_path / bitstream).write_bytes(b"\xff" * 16)
    return tmp_path


def test_program_without_a_build(tmp_path):
    one_line_error(run("program", "--board", "ulx3s-85f", "--out", str(tmp_path)), 2,
                   "no build in")


def test_program_a_build_of_another_board(tmp_path):
    _fake_build(tmp_path)
    one_line_error(run("program", "--board", "icebreaker", "--out", str(tmp_path)), 2,
                   "holds a build for 'ulx3s-85f', not 'icebreaker'")


def test_program_without_the_programmer(tmp_path):
    _fake_build(tmp_path)
    one_line_error(run("program", "--board", "ulx3s-85f", "--out", str(tmp_path),
                       env={"OPENFPGALOADER": "no-such-openfpgaloader"}), 1,
                   "openFPGALoader not found: install it (Debian: apt-get install "
                   "openfpgaloader)")


def test_program_when_the_programmer_finds_no_board(tmp_path):
    # `false` stands for a programmer that finds no board: it exits non-zero.
    _fake_build(tmp_path, "icebreaker", "icebreaker.bin")
    one_line_error(run("program", "--board", "icebreaker", "--out", str(tmp_path),
                       env={"ICEPROG": "false"}), 1,
                   "programming the iCEBreaker (Lattice iCE40UP5K) failed (no board "
                   "attached?): false exited with 1")


def test_demo_without_a_serial_port(tmp_path):
    _fake_build(tmp_path)
    one_line_error(run("demo", "--port", str(tmp_path / "ttyNONE"), "--out", str(tmp_path)), 1,
                   f"cannot open serial port '{tmp_path / 'ttyNONE'}'")
