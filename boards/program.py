"""Writing a bitstream to an attached board: openFPGALoader (ULX3S) or iceprog (iCEBreaker).

Neither tool comes from PyPI (Debian: ``openfpgaloader``, ``fpga-icestorm``); like the build
tools they may be named by an environment variable (``OPENFPGALOADER``, ``ICEPROG``).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from boards import BoardError
from boards.flow import ToolError, find_tool
from boards.spec import Board

__all__ = ["program_command", "program_board"]

#: Debian packages of the programmers.
_PACKAGES = {"openFPGALoader": "openfpgaloader", "iceprog": "fpga-icestorm"}


def program_command(board: Board, bitstream: Path, *, flash: bool = False) -> list[str]:
    """The programmer's command line (with the resolved executable).

    Raises
    ------
    BoardError
        The programmer is not installed.
    """
    name, *args = board.programmer
    try:
        tool = find_tool(name)
    except ToolError:
        raise BoardError(f"{name} not found: install it (Debian: apt-get install "
                         f"{_PACKAGES.get(name, name)}) or name it in "
                         f"{name.upper().replace('-', '_')}") from None
    if flash and board.family == "ecp5":
        args.append("--write-flash")
    return [tool.path, *args, str(bitstream)]


def program_board(board: Board, bitstream: Path, *, flash: bool = False,
                  timeout: float = 300.0) -> str:
    """Write ``bitstream`` to the attached board; returns the programmer's last output line.

    ULX3S: into the FPGA's configuration SRAM (lost at power-off), or with ``flash`` into its
    SPI flash. iCEBreaker: iceprog always writes the SPI flash.

    Raises
    ------
    BoardError
        No bitstream, no programmer, or the programmer failed (usually: no board attached);
        one line quoting the programmer's last line.
    """
    if not bitstream.is_file():
        raise BoardError(f"no bitstream {str(bitstream)!r}: run accelgen board build first")
    command = program_command(board, bitstream, flash=flash)
    try:
        proc = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise BoardError(f"{Path(command[0]).name} did not finish within {timeout:g} s") \
            from None
    output = [line.strip() for line in (proc.stdout + proc.stderr).splitlines() if line.strip()]
    last = output[-1] if output else "no output"
    if proc.returncode != 0:
        raise BoardError(f"programming the {board.title} failed (no board attached?): "
                         f"{Path(command[0]).name} exited with {proc.returncode}: {last}")
    return last
