"""FPGA resources and Fmax of the accelerator alone, per configuration, on an ECP5-85F.

For each configuration: the accelerator's Verilog (`accel.generate_verilog`), Yosys
``synth_ecp5``, then ``nextpnr-ecp5 --85k --out-of-context`` (no I/O buffers: the accelerator's
ports stay internal nets, as they are inside the SoC) with ``--report``. Resources and the
achieved Fmax come from nextpnr's report (`boards.report.place_and_route_figures`, percentages of
the ULX3S-85F's device). Tools are found and run by `accel.build.fpga_tools`
(``YOSYS``/``NEXTPNR_ECP5`` variables, ``PATH``, then the YoWASP builds). Every multiply maps to a
hard MULT18X18D here, so arrays past 156 PEs do not place; the SoC board build
(``accelgen board build``) moves the excess into LUTs.

Usage::

    python bench/fpga.py --size 2 --size 4
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from accel.config import AccelConfig  # noqa: E402
from bench.configs import cli_config  # noqa: E402
from bench.markdown import table  # noqa: E402

__all__ = ["place_and_route", "fpga_table"]

#: The clock nextpnr is asked for (MHz); the table reports what it achieved.
TARGET_MHZ = 50
BOARD = "ulx3s-85f"


def place_and_route(config: AccelConfig, work: Path) -> dict:
    """Synthesize, place and route the accelerator of ``config`` in ``work``; return
    ``{"utilization": ..., "clocks": ..., "seconds": {"synthesis": s, "place and route": s}}``.

    Raises
    ------
    accel.build.fpga_tools.ToolError
        When a tool is missing or fails (one line; the logs are in ``work``).
    """
    from accel import generate_verilog
    from accel.build.fpga_tools import find_tool, run_tool
    from boards import get_board
    from boards.report import place_and_route_figures

    find_tool("yosys"), find_tool("nextpnr-ecp5")   # both found before the long synthesis
    (work / "accelerator.v").write_text(generate_verilog(config))
    seconds = {}
    start = time.perf_counter()
    run_tool("yosys", ["-q", "-l", "synth.log", "-p",
                       "read_verilog accelerator.v; synth_ecp5 -top accelerator "
                       "-json accelerator.json"], work, "yosys.out")
    seconds["synthesis"] = time.perf_counter() - start
    start = time.perf_counter()
    run_tool("nextpnr-ecp5", ["--85k", "--out-of-context", "--json", "accelerator.json",
                              "--report", "report.json", "--freq", str(TARGET_MHZ),
                              "--timing-allow-fail", "--seed", "1"], work, "nextpnr.log")
    seconds["place and route"] = time.perf_counter() - start
    figures = place_and_route_figures(get_board(BOARD), work / "report.json")
    figures["seconds"] = seconds
    return figures


def fpga_table(sizes: list[int], *, kib: int | None = None, log=None) -> str:
    """One Markdown row per ``n x n`` default configuration (see the module docstring), its
    scratchpad and accumulator ``kib`` KiB each when given."""
    head = ["array", "LUT4", "FF", "MULT18X18D", "DP16KD (EBR)", "Fmax MHz", "synth s",
            "place and route s"]
    rows = []
    for size in sizes:
        config = cli_config(size)
        if kib is not None:
            config = config.replace(sp_kib=kib, acc_kib=kib)
        with tempfile.TemporaryDirectory(prefix=f"bench-fpga-{size}x{size}-") as tmp:
            figures = place_and_route(config, Path(tmp))
        use = figures["utilization"]
        cell = lambda name: f"{use[name]['used']:,} ({use[name]['percent']}%)"  # noqa: E731
        fmax = min((c["achieved_mhz"] for c in figures["clocks"].values()), default=None)
        rows.append([f"{size}x{size}", cell("LUT"), f"{use['FF']['used']:,}", cell("DSP"),
                     cell("BRAM"), "-" if fmax is None else f"{fmax:.1f}",
                     f"{figures['seconds']['synthesis']:.0f}",
                     f"{figures['seconds']['place and route']:.0f}"])
        if log is not None:
            log(f"fpga {size}x{size}: Fmax {fmax} MHz")
    return table(head, rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, action="append",
                        help="array rows = cols (repeatable; default 2, 4 and 8)")
    parser.add_argument("--kib", type=int, help="scratchpad and accumulator KiB (default: the "
                        "configuration's default)")
    args = parser.parse_args()
    print(fpga_table(args.size or [2, 4, 8], kib=args.kib,
                     log=lambda line: print(line, file=sys.stderr, flush=True)))


if __name__ == "__main__":
    main()
