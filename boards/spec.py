"""What the board flow knows about each supported board: platform, clocks, device capacity and
the default accelerator configuration.

A `Board` is plain data; `boards.top.BoardTop` turns it into hardware and `boards.build` into a
bitstream. Capacities are the device's, as nextpnr counts them (its ``--report`` names the same
cell types), so a report can say how full the device is without a second table.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from accel.config import AccelConfig

__all__ = ["Board", "Capacity"]


@dataclass(frozen=True)
class Capacity:
    """Resources of one FPGA, keyed by the cell types nextpnr reports.

    Members
    -------
    logic : tuple[str, int]
        The logic cell type (``TRELLIS_COMB``: one LUT4 each; ``ICESTORM_LC``: one LUT4 + FF)
        and how many the device has.
    dsp : tuple[str, int]
        Hard multipliers (``MULT18X18D``, ``ICESTORM_DSP``) and their number.
    bram : tuple[str, int]
        Block RAMs (``DP16KD``: 18 Kib; ``ICESTORM_RAM``: 4 Kib) and their number.
    spram : tuple[str, int] or None
        Single-port RAMs (``ICESTORM_SPRAM``: 256 Kib each), when the device has them.
    """

    logic: tuple[str, int]
    dsp: tuple[str, int]
    bram: tuple[str, int]
    spram: tuple[str, int] | None = None

    def resources(self) -> dict[str, tuple[str, int]]:
        """``{"LUT": (cell, count), "DSP": ..., "BRAM": ...[, "SPRAM": ...]}``."""
        out = {"LUT": self.logic, "DSP": self.dsp, "BRAM": self.bram}
        if self.spram is not None:
            out["SPRAM"] = self.spram
        return out


@dataclass(frozen=True)
class Board:
    """One supported board.

    Members
    -------
    name : str
        What ``accelgen board build --board`` takes (``ulx3s-85f``, ``icebreaker``).
    title : str
        Human-readable board and device name.
    family : {"ecp5", "ice40"}
    platform : callable
        Returns a fresh amaranth-boards platform instance (imported lazily).
    clock : str
        The oscillator's resource name (``clk25``, ``clk12``).
    clock_hz : int
        The oscillator's frequency.
    sys_hz : int
        The system clock the SoC runs at: ``clock_hz``, or a PLL's output when higher.
    capacity : Capacity
    default_config : AccelConfig
        The largest array that fits and meets timing at ``sys_hz`` (the SoC's SRAM size is set by
        the build to what the firmware and network need).
    max_sram_kib : int
        Largest SoC SRAM the board's memories hold beside the accelerator.
    leds : tuple of int
        Platform ``led`` resource numbers, one per bit of the SoC's LED register (bit 0 first).
    synth_opts : str
        Extra options for Yosys' ``synth_<family>``.
    pnr_opts : str
        Extra options for nextpnr (the flow adds ``--report`` and ``--timing-allow-fail``).
    programmer : tuple of str
        The command that writes a bitstream (the file name is appended).
    extra_resources : callable, optional
        Adds resources the platform keeps apart (the iCEBreaker's snap-off LEDs) to a platform
        instance.
    notes : str
        Why the default configuration is what it is (shown by ``accelgen board list``).
    """

    name: str
    title: str
    family: str
    platform: Callable[[], object]
    clock: str
    clock_hz: int
    sys_hz: int
    capacity: Capacity
    default_config: AccelConfig
    max_sram_kib: int
    leds: tuple[int, ...]
    synth_opts: str
    pnr_opts: str
    programmer: tuple[str, ...]
    extra_resources: Callable[[object], None] | None = None
    notes: str = ""

    @property
    def uses_pll(self) -> bool:
        return self.sys_hz != self.clock_hz
