"""Running the FPGA tools: which executable each tool is, and one step at a time with progress.

Amaranth's platforms render a build plan whose ``build_<name>.json`` lists the tool commands
(``yosys``, ``nextpnr-<family>``, ``ecppack``/``icepack``). `run_plan_commands` runs them one by
one, each with a progress line when it starts and when it ends (elapsed time) and a line every
minute while it runs, its output in ``<step>.log``. Tools are resolved by
`accel.build.fpga_tools.find_tool` (re-exported here with `~accel.build.fpga_tools.Tool` and
`~accel.build.fpga_tools.ToolError`): the variable named after the tool, ``PATH``, then YoWASP.
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path
from typing import Callable

from accel.build.fpga_tools import Tool, ToolError, find_tool, last_error_line, named_logs

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
            logs = [*named_logs(command[1:], build_dir), log]
            raise ToolError(f"{step} failed ({Path(tool.path).name} exited with "
                            f"{proc.returncode}): {last_error_line(*logs)} (see "
                            f"{', '.join(str(path) for path in logs)})")
        progress(f"[{time.monotonic() - start:7.1f} s] {step} done in {seconds:.1f} s")
        record = {"step": step, "tool": tool.name, "path": tool.path, "source": tool.source,
                  "seconds": round(seconds, 1)}
        records.append(record)
        if after_step is not None:
            after_step(record)
    return records
