"""The bench suite's one entry point: ``python -m bench`` prints a Markdown report.

Sections (``--sections`` picks some, in this order):

``emit``
    Verilog emission time and peak memory vs array size (bench/emit.py; a fresh process each).
``gemm``
    GEMM utilization, resident and end to end, vs the bound on Verilator (bench/gemm.py).
``mnist``
    Cycles per MNIST inference vs the bound for the default CNN and MLP on the RTL, with the
    analytical model's prediction when `accel.perf` exists (bench/mnist_rtl.py).
``simspeed``
    Simulation speed, cycles/s on Verilator vs Icarus, same design and workload
    (bench/simspeed.py).
``fpga``
    ECP5 resources and Fmax per configuration (bench/fpga.py); slow, so only with ``--fpga``.

``--quick`` uses CI-sized configurations (about a minute with the simulator builds cached); the
default is the full report. A section that fails prints its error in the report and the command
exits with status 1 after the other sections ran.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

__all__ = ["SECTIONS", "Settings", "main", "render"]


@dataclass(frozen=True)
class Settings:
    """What the sections measure: ``quick`` (CI-sized) or full; ``fpga`` opts into the FPGA
    section."""

    quick: bool = False
    fpga: bool = False


@dataclass(frozen=True)
class Section:
    """One report section: its heading, what it shows, and the function measuring it
    (``(settings, log) -> Markdown body``)."""

    title: str
    about: str
    body: Callable[[Settings, Callable[[str], None]], str]


def _emit(settings: Settings, log) -> str:
    from bench.emit import markdown_table, measure_sizes

    if settings.quick:
        return ("Quick: 4 KiB scratchpad and accumulator (the default 64 KiB memories dominate "
                "emission time at these sizes).\n\n"
                + markdown_table(measure_sizes([2, 4], kib=4, log=log)))
    return markdown_table(measure_sizes([4, 8, 16, 32], log=log))


def _gemm(settings: Settings, log) -> str:
    from bench.gemm import gemm_table

    if settings.quick:
        return gemm_table([4], [16], log=log)
    return gemm_table([4, 8, 16], [32, 64, 128], log=log)


def _mnist(settings: Settings, log) -> str:
    from bench.mnist_rtl import mnist_table

    if settings.quick:
        return mnist_table([4], images=1, log=log)
    return mnist_table([8, 16], images=2, log=log)


def _simspeed(settings: Settings, log) -> str:
    from bench.configs import cli_config
    from bench.simspeed import speed_table

    if settings.quick:
        return speed_table(cli_config(4), 16, min_seconds=1.5, log=log)
    return speed_table(cli_config(8), 32, min_seconds=5.0, log=log)


def _fpga(settings: Settings, log) -> str:
    from bench.fpga import fpga_table

    if not settings.fpga:
        return "skipped: pass --fpga (Yosys + nextpnr, minutes per configuration)"
    if settings.quick:
        return ("Quick: 4 KiB scratchpad and accumulator.\n\n"
                + fpga_table([2], kib=4, log=log))
    return fpga_table([2, 4, 8], log=log)


SECTIONS: dict[str, Section] = {
    "emit": Section(
        "Verilog emission", "Time and memory of `accel.generate_verilog` for the default "
        "weight-stationary accelerator, one fresh Python process per size (after a 1x1 warm-up "
        "that fills the WebAssembly caches). Peak RSS is `ru_maxrss` of that process; \"over "
        "imports\" subtracts the peak reached by the imports alone. Yosys runs in WebAssembly "
        "inside the same process.", _emit),
    "gemm": Section(
        "GEMM utilization", "Verilator, default configuration per array (scratchpad 64 KiB, "
        "accumulator 64 KiB, 32-bit bus). Resident: A and B already in the scratchpad, the "
        "timed program only preloads and computes; its bound is MACs / PEs (100%). End to end: "
        "`accel.runtime.matmul`'s tiled program from main memory, exactly `accelgen matmul "
        "--rows D --cols D --m S --k S --n S --backend rtl` (same operands, same figures); bound = "
        "max(MACs / PEs, bytes moved / bus bytes per cycle). Every run is checked against the "
        "golden model.", _gemm),
    "mnist": Section(
        "MNIST cycles per inference", "The committed default int8 networks on the "
        "accelerator's RTL (Verilator), each row exactly `accelgen mnist eval --model NET "
        "--backend rtl --rows N --cols N --images I` (logits identical to the golden model's). "
        "Cycles count the accelerator alone; max pooling is a host step between programs. "
        "Bound = max(MACs / PEs, bytes moved / bus bytes per cycle).", _mnist),
    "simspeed": Section(
        "Simulation speed", "Marginal clock cycles per second of a cocotb run of "
        "`accel.runtime.rtl.run_programs` (bench Python included): (cycles with R copies of a "
        "program - cycles with one) / (time difference), so start-up and builds cancel out. "
        "Time is the simulator process's CPU time (robust to other jobs on the machine); wall time "
        "beside it.", _simspeed),
    "fpga": Section(
        "FPGA resources and Fmax", "The accelerator alone, default configuration per array: "
        "Yosys `synth_ecp5`, then `nextpnr-ecp5 --85k --out-of-context` (ports stay internal, "
        "as in the SoC), asked for 50 MHz; figures from nextpnr's `--report` (percent of the "
        "LFE5U-85F).", _fpga),
}


def render(names: list[str], settings: Settings, argv: list[str],
           log: Callable[[str], None]) -> tuple[str, bool]:
    """The report's Markdown for sections ``names``, and whether every section succeeded."""
    from bench.environment import header_lines

    out = ["# accelgen bench report", "", *header_lines(argv),
           f"- mode: {'quick (CI-sized)' if settings.quick else 'full'}", ""]
    ok = True
    for number, name in enumerate(names, 1):
        section = SECTIONS[name]
        log(f"== {section.title}")
        start = time.perf_counter()
        try:
            body = section.body(settings, log)
        except Exception as exc:  # noqa: BLE001 - reported, and the other sections still run
            ok = False
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            body = f"**failed**: {type(exc).__name__}: {first}"
        out += [f"## {number}. {section.title}", "", section.about, "", body, "",
                f"_section wall time {time.perf_counter() - start:.0f} s_", ""]
    return "\n".join(out).rstrip("\n"), ok


def _sections(text: str) -> list[str]:
    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in SECTIONS]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"unknown section {unknown[0]!r}; choose from {', '.join(SECTIONS)}" if unknown
            else "no section named")
    return [name for name in SECTIONS if name in names]


class _Parser(argparse.ArgumentParser):
    """Bad arguments are one ``Error:`` line and exit status 2."""

    def error(self, message: str):
        self.exit(2, f"Error: {message}\n")


def main(argv: list[str] | None = None) -> int:
    """Parse ``argv``, print the report (and write it to ``--out``); return the exit status."""
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = _Parser(
        prog="python -m bench", description="Print the accelgen bench report (Markdown).")
    parser.add_argument("--quick", action="store_true",
                        help="CI-sized configurations (about a minute with cached builds)")
    parser.add_argument("--sections", type=_sections, default=list(SECTIONS),
                        help=f"comma-separated subset of {','.join(SECTIONS)} (default: all)")
    parser.add_argument("--fpga", action="store_true",
                        help="run the FPGA section (Yosys + nextpnr; slow)")
    parser.add_argument("--out", type=Path, metavar="FILE", help="also write the report here")
    args = parser.parse_args(argv)
    if args.out is not None and not args.out.parent.is_dir():
        parser.error(f"cannot write {str(args.out)!r}: directory {str(args.out.parent)!r} "
                     "does not exist")
    text, ok = render(args.sections, Settings(quick=args.quick, fpga=args.fpga), argv,
                      lambda line: print(line, file=sys.stderr, flush=True))
    print(text)
    if args.out is not None:
        args.out.write_text(text + "\n")
    return 0 if ok else 1
