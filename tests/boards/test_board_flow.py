"""boards.flow: running a build plan's tool commands one step at a time, with progress.

The plans here name small stand-in executables (through the tool variables); the real tools run
in ``test_board_build.py``.
"""

import json

import pytest

from accel.build.fpga_tools import ToolError
from boards.flow import run_plan_commands


def _tool(path, body):
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)
    return path


def _plan(build_dir, commands):
    (build_dir / "build_top.json").write_text(json.dumps({"commands": commands}))


def test_steps_run_in_order_with_progress_and_records(tmp_path, monkeypatch):
    monkeypatch.setenv("YOSYS", str(_tool(tmp_path / "y", 'echo synth > top.json')))
    monkeypatch.setenv("NEXTPNR_ICE40", str(_tool(tmp_path / "n", 'cat top.json > top.asc')))
    monkeypatch.setenv("ICEPACK", str(_tool(tmp_path / "p", 'cp "$1" "$2"')))
    build = tmp_path / "build"
    build.mkdir()
    _plan(build, [["yosys", "top.ys"], ["nextpnr-ice40", "--asc", "top.asc"],
                  ["icepack", "top.asc", "top.bin"]])
    lines, seen = [], []
    records = run_plan_commands(build, "top", progress=lines.append,
                                after_step=lambda r: seen.append(r["step"]))
    assert [r["step"] for r in records] == seen == ["synthesis", "place and route", "bitstream"]
    assert all(r["source"] == "env" for r in records)
    assert (build / "top.bin").read_text() == "synth\n"
    assert any("synthesis done in" in line for line in lines)
    assert any("bitstream: p ..." in line for line in lines)


def test_failure_quotes_the_error_from_the_log_the_command_names(tmp_path, monkeypatch):
    """Yosys runs with ``-q -l top.rpt``: its own output is empty, the error is in top.rpt."""
    monkeypatch.setenv("YOSYS", str(_tool(
        tmp_path / "y", 'echo "Executing ABC9." > "$3"; '
                        'echo "ERROR: Assert failed in rtlil.cc:3091." >> "$3"; exit 1')))
    monkeypatch.setenv("NEXTPNR_ECP5", str(_tool(tmp_path / "n", "exit 0")))
    build = tmp_path / "build"
    build.mkdir()
    _plan(build, [["yosys", "-q", "-l", "top.rpt", "top.ys"], ["nextpnr-ecp5", "--json", "x"]])
    with pytest.raises(ToolError) as info:
        run_plan_commands(build, "top", progress=lambda line: None)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith("synthesis failed (y exited with 1): ERROR: Assert failed in "
                              "rtlil.cc:3091. (see ")
    assert str(build / "top.rpt") in message
    assert not (build / "place_and_route.log").exists()


def test_a_missing_tool_stops_before_any_step(tmp_path, monkeypatch):
    monkeypatch.setenv("YOSYS", str(_tool(tmp_path / "y", "touch ran")))
    monkeypatch.setenv("ECPPACK", str(tmp_path / "missing"))
    build = tmp_path / "build"
    build.mkdir()
    _plan(build, [["yosys"], ["ecppack"]])
    with pytest.raises(ToolError, match="ECPPACK="):
        run_plan_commands(build, "top", progress=lambda line: None)
    assert not (build / "ran").exists()
