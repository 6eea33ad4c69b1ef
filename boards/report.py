"""Build reports: resource use and clock rates from the tools' own reports, as JSON and a table.

Place-and-route figures come from nextpnr's ``--report`` JSON (``utilization``: used and
available cells per type; ``fmax``: achieved and constrained MHz per clock). Before place and
route, the cell counts Yosys printed at the end of synthesis
(`accel.build.fpga_tools.yosys_stat_cells`) give lower bounds on what placement will need
(`check_fits` turns a bound above the device into a `~boards.BoardError` naming the resource).
"""

from __future__ import annotations

import json
from pathlib import Path

from boards import BoardError
from boards.spec import Board

__all__ = ["SYNTH_CELLS", "check_fits", "place_and_route_figures",
           "render_table"]

#: Per family and resource: the Yosys cells that end up in it, and how many of the resource
#: each takes at least (a CCU2C carry cell fills two ECP5 LUT4 sites).
SYNTH_CELLS = {
    "ecp5": {"LUT": {"LUT4": 1, "CCU2C": 2}, "DSP": {"MULT18X18D": 1}, "BRAM": {"DP16KD": 1}},
    "ice40": {"LUT": {"SB_LUT4": 1}, "DSP": {"SB_MAC16": 1}, "BRAM": {"SB_RAM40_4K": 1},
              "SPRAM": {"SB_SPRAM256KA": 1}},
}

def check_fits(board: Board, cells: dict[str, int], what: str) -> dict[str, int]:
    """Lower bounds per resource from synthesis ``cells``; raises `~boards.BoardError` (one
    line, naming the resource) when one exceeds the device. ``what`` names the design."""
    needs = {}
    for resource, weights in SYNTH_CELLS[board.family].items():
        needs[resource] = sum(cells.get(cell, 0) * weight for cell, weight in weights.items())
    for resource, (cell, available) in board.capacity.resources().items():
        if needs.get(resource, 0) > available:
            raise BoardError(
                f"{what} does not fit the {board.title}: synthesis gives at least "
                f"{needs[resource]:,} {cell} ({resource}), the device has {available:,}")
    return needs


def place_and_route_figures(board: Board, report_path: Path) -> dict:
    """``utilization`` (per resource: cell, used, available, percent) and ``clocks`` (per
    clock: achieved and target MHz, met) from nextpnr's ``--report`` file."""
    data = json.loads(report_path.read_text())
    cells = data.get("utilization", {})
    utilization = {}
    resources = dict(board.capacity.resources())
    if board.family == "ecp5":
        resources["FF"] = ("TRELLIS_FF", 0)
    for resource, (cell, _) in resources.items():
        entry = cells.get(cell, {"used": 0, "available": 0})
        used, available = int(entry["used"]), int(entry["available"])
        utilization[resource] = {"cell": cell, "used": used, "available": available,
                                 "percent": round(100.0 * used / available, 1) if available
                                 else 0.0}
    clocks = {}
    for name, entry in data.get("fmax", {}).items():
        achieved, target = float(entry["achieved"]), float(entry["constraint"])
        clocks[name] = {"achieved_mhz": round(achieved, 2), "target_mhz": round(target, 2),
                        "met": achieved >= target}
    return {"utilization": utilization, "clocks": clocks}


def render_table(report: dict) -> str:
    """The report as a short readable table."""
    cfg = report["config"]
    design = (f"{cfg['rows']}x{cfg['cols']} {cfg['dataflow']} array"
              if report.get("with_accelerator", True) else "SoC without the accelerator")
    lines = [f"{report['title']}: {design}, SoC SRAM {cfg['soc_sram_kib']} KiB, system clock "
             f"{report['clock']['target_mhz']:g} MHz"
             f"{' (PLL)' if report['clock']['pll'] else ''}",
             f"  {'resource':<9}{'cell':<16}{'used':>10}{'available':>11}{'use':>8}"]
    for resource, u in report["utilization"].items():
        available = f"{u['available']:,}" if u["available"] else "-"
        percent = f"{u['percent']:.1f} %" if u["available"] else ""
        lines.append(f"  {resource:<9}{u['cell']:<16}{u['used']:>10,}{available:>11}"
                     f"{percent:>8}")
    for name, c in report["clocks"].items():
        verdict = "met" if c["met"] else "NOT MET"
        lines.append(f"  clock {name}: achieved {c['achieved_mhz']:.2f} MHz, target "
                     f"{c['target_mhz']:.2f} MHz: {verdict}")
    lines.append(f"  multipliers: {report['multipliers']}")
    if report.get("lut_mapper", "synth default") != "synth default":
        lines.append(f"  LUT mapping: {report['lut_mapper']}")
    memory = report["memory"]
    lines.append(f"  memory: firmware {memory['firmware_bytes']:,} B, network and tables "
                 f"{memory['network_bytes']:,} B, image end {memory['image_bytes']:,} B of "
                 f"{cfg['soc_sram_kib'] * 1024:,} B SRAM")
    steps = ", ".join(f"{s['step']} {s['seconds']:.0f} s" for s in report["steps"])
    lines.append(f"  build: {report['build_seconds']:.0f} s ({steps})")
    return "\n".join(lines) + "\n"
