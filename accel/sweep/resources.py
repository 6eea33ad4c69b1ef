"""FPGA resources of one configuration from Yosys synthesis: LUT, FF, DSP and BRAM counts.

The chosen top level (`accel.build.verilog.build_top`) is synthesized for an FPGA family (ECP5 by
default) from Amaranth's RTLIL, and the cell counts of Yosys' ``stat`` are summed into resources
(an ECP5 ``CCU2C`` carry cell fills two LUT4 sites). Results are cached by a hash of the RTLIL
text, the script and the Yosys version, so a repeated sweep, or two configurations with
identical hardware, synthesize once.

ECP5 synthesis is ``synth_ecp5`` with Yosys' classic ``abc -lut 4`` in place of its ``abc9``
LUT mapping (`accel.build.fpga_tools.ecp5_synth_abc_lut`): in the YoWASP build, ``abc9`` exits with
an error and no message on arrays from 4x16 up, and one mapper for every configuration keeps
the LUT counts comparable.

Time matters: synthesis of the systolic array alone (``top="array"``) takes seconds (about 2 s
for 2x4, 10 s for 8x8 here), while the whole accelerator (scratchpad, accumulator, DMA and
controller around the array) takes minutes even at 2x2.
"""

from __future__ import annotations

import re
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from accel.config import AccelConfig
from accel.sweep.cache import cached, content_key
from accel.build.fpga_tools import ecp5_synth_abc_lut, run_tool, tool_version, yosys_stat_cells

__all__ = ["FAMILIES", "RESOURCES", "RESOURCE_TOPS", "Family", "count_resources",
           "design_rtlil", "synthesize"]

#: Resource columns, in table order.
RESOURCES = ("lut", "ff", "dsp", "bram")

#: Top levels whose resources a sweep can measure (keys of `accel.build.verilog.TOPS`).
RESOURCE_TOPS = ("accelerator", "array")


@dataclass(frozen=True)
class Family:
    """How to synthesize for one FPGA family and read its cells as resources.

    Members
    -------
    name : str
    synth : str
        The Yosys synthesis commands; ``{top}`` stands for the top module's name.
    cells : dict of str to dict of str to int
        Per resource: a regular expression matching cell types, and how many of the resource
        one such cell takes.
    """

    name: str
    synth: str
    cells: dict[str, dict[str, int]]


FAMILIES = {
    "ecp5": Family("ecp5", "; ".join(ecp5_synth_abc_lut("{top}")), {
        "lut": {"LUT4": 1, "CCU2C": 2}, "ff": {"TRELLIS_FF": 1},
        "dsp": {"MULT18X18D": 1}, "bram": {"DP16KD": 1}}),
    "ice40": Family("ice40", "synth_ice40 -dsp -top {top}", {
        "lut": {"SB_LUT4": 1}, "ff": {r"SB_DFF\w*": 1},
        "dsp": {"SB_MAC16": 1}, "bram": {"SB_RAM40_4K": 1}}),
}

def count_resources(family: Family, cells: dict[str, int]) -> dict[str, int]:
    """Resources (`RESOURCES`) used by synthesized ``cells`` of ``family``."""
    out = {}
    for resource in RESOURCES:
        total = 0
        for pattern, weight in family.cells[resource].items():
            total += weight * sum(n for cell, n in cells.items() if re.fullmatch(pattern, cell))
        out[resource] = total
    return out


def design_rtlil(config: AccelConfig, top: str) -> tuple[str, list[dict]]:
    """RTLIL text of top level ``top`` of ``config`` and its `~accel.build.verilog.port_table`.

    Synthesis reads RTLIL, as Amaranth's own FPGA platform builds do (``read_rtlil``), which
    also skips the Verilog backend's Yosys run (about three times faster). Counts differ a few
    percent from synthesizing the emitted Verilog, which Yosys has already optimized once
    (the 4x4 weight-stationary array: 349 LUT and 1,038 FF from RTLIL, 293 and 982 from
    Verilog).
    """
    from amaranth.back import rtlil

    from accel.build.verilog import build_top, port_table

    component = build_top(config, top)
    return rtlil.convert(component, name=top, emit_src=False), port_table(component)


def _synthesize(design: str, top: str, family: Family) -> dict:
    began = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="accelgen-synth-") as tmp:
        cwd = Path(tmp)
        (cwd / "design.il").write_text(design)
        script = (f"read_rtlil design.il; {family.synth.format(top=top)}; "
                  f"tee -q -o stat.txt stat")
        run_tool("yosys", ["-p", script], cwd, "yosys.log")
        cells = yosys_stat_cells((cwd / "stat.txt").read_text())
    return {**count_resources(family, cells), "cells": cells,
            "synth_seconds": round(time.monotonic() - began, 1)}


def synthesize(config: AccelConfig, top: str = "accelerator", family: str = "ecp5") -> dict:
    """Resources of top level ``top`` of ``config`` on ``family``.

    Returns
    -------
    dict
        ``lut``, ``ff``, ``dsp``, ``bram`` (ints), ``cells`` (Yosys cell counts),
        ``synth_seconds`` (of the run that produced the result) and ``cached`` (whether it
        came from the cache).

    Raises
    ------
    ToolError
        When Yosys is missing or fails.
    """
    spec = FAMILIES[family]
    design, _ = design_rtlil(config, top)
    key = content_key(design, top, spec.synth, tool_version("yosys"))
    result, hit = cached(f"synth-{family}", key, lambda: _synthesize(design, top, spec))
    return {**result, "cached": hit}
