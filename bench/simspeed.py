"""Simulation speed: clock cycles per second of the accelerator's RTL, Verilator vs Icarus, on
one design and one workload.

The workload is bench/gemm.py's resident GEMM: an untimed program loads A and B into the
scratchpad, then one program runs the preload/compute commands ``unroll`` times over before a
fence (the same RTL gives the same cycles on either simulator; the section checks it). Speeds
are marginal — (cycles with R copies - cycles with one copy) / (time of the R-copy simulation -
time of the one-copy simulation) — so simulator and cocotb start-up, the build and the setup
program cancel out. Time is the simulator process's CPU time (user + system, from
``getrusage(RUSAGE_CHILDREN)``), which other jobs on the machine barely change; wall time is
shown beside it. Both include the cocotb bench's Python work per cycle (command driver, Wishbone
memory model), which is what a user of `accel.runtime.rtl.run_programs` gets. A run with two copies,
checked against the golden model, comes first and also builds the simulation; the timed runs
skip the comparison. R grows until the difference lasts at least ``min_seconds`` of CPU.

Usage::

    python bench/simspeed.py --size 8 --gemm 32
"""

from __future__ import annotations

import argparse
import math
import resource
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from accel.config import AccelConfig  # noqa: E402
from bench.configs import cli_config  # noqa: E402
from bench.markdown import table  # noqa: E402

__all__ = ["Speed", "measure_speed", "speed_table"]

#: Rough cycles per CPU second, used only to choose the first copy count.
_GUESS = {"verilator": 20_000, "icarus": 1_000}
_MAX_UNROLL = 5_000


@dataclass(frozen=True)
class Speed:
    """One simulator's marginal speed on the workload: ``cycles`` more cycles (``unroll`` - 1
    more copies) took ``cpu_seconds`` more CPU and ``wall_seconds`` more wall time.
    ``check_cycles`` are the cycles of the checked two-copy run."""

    simulator: str
    check_cycles: int
    unroll: int
    cycles: int
    cpu_seconds: float
    wall_seconds: float

    @property
    def per_cpu_second(self) -> float:
        return self.cycles / self.cpu_seconds

    @property
    def per_wall_second(self) -> float:
        return self.cycles / self.wall_seconds


def _timed(config: AccelConfig, size: int, unroll: int, simulator: str
           ) -> tuple[int, float, float]:
    """(cycles, CPU seconds of the simulator process, wall seconds) of one unchecked run."""
    from bench.gemm import resident_run

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    cycles = resident_run(config, size, unroll=unroll, simulator=simulator, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return cycles, cpu, wall


def measure_speed(config: AccelConfig, size: int, simulator: str, *,
                  min_seconds: float = 3.0) -> Speed:
    """The marginal speed of ``simulator`` on the resident ``size``-cubed GEMM (see the module
    docstring).

    Raises
    ------
    RuntimeError
        When the checked run disagrees with the golden model.
    """
    from bench.gemm import resident_run

    check_cycles = resident_run(config, size, unroll=2, simulator=simulator)  # builds the sim
    base_cycles, base_cpu, base_wall = _timed(config, size, 1, simulator)
    per_copy = max(1, check_cycles - base_cycles)
    unroll = max(2, math.ceil(min_seconds * _GUESS[simulator] / per_copy))
    while True:
        cycles, cpu, wall = _timed(config, size, unroll, simulator)
        extra = cpu - base_cpu
        if extra >= min_seconds or unroll >= _MAX_UNROLL:
            break
        grow = min_seconds / max(extra, 0.05) * 1.3
        unroll = min(_MAX_UNROLL, math.ceil(unroll * min(grow, 50)))
    return Speed(simulator, check_cycles, unroll, cycles - base_cycles, extra, wall - base_wall)


def speed_table(config: AccelConfig, size: int, *, simulators=("verilator", "icarus"),
                min_seconds: float = 3.0, log=None) -> str:
    """The simulators' marginal speeds as a Markdown table, with ratios to the first.

    Raises
    ------
    RuntimeError
        When the simulators disagree on the cycles of the checked run.
    """
    speeds = []
    for simulator in simulators:
        speeds.append(measure_speed(config, size, simulator, min_seconds=min_seconds))
        if log is not None:
            log(f"simspeed {simulator}: {speeds[-1].per_cpu_second:,.0f} cycles per CPU second")
    first = speeds[0]
    if len({s.check_cycles for s in speeds}) != 1:
        raise RuntimeError("the simulators disagree on the cycles of one program: "
                           + ", ".join(f"{s.simulator} {s.check_cycles}" for s in speeds))
    intro = (f"Design: the {config.rows}x{config.cols} {config.dataflow} accelerator "
             f"({config.pe_count} MACs, default memories). Workload: resident {size}^3 GEMM "
             f"program; two copies take {first.check_cycles} cycles on every simulator.")
    head = ["simulator", "copies", "marginal cycles", "CPU s", "cycles / CPU s",
            f"vs {first.simulator}", "wall s", "cycles / wall s"]
    rows = [[s.simulator, f"{s.unroll} - 1", f"{s.cycles:,}", f"{s.cpu_seconds:.1f}",
             f"{s.per_cpu_second:,.0f}", f"{s.per_cpu_second / first.per_cpu_second:.3g}x",
             f"{s.wall_seconds:.1f}", f"{s.per_wall_second:,.0f}"] for s in speeds]
    return intro + "\n\n" + table(head, rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=8, help="array rows = cols")
    parser.add_argument("--gemm", type=int, default=32, help="GEMM size (M = K = N)")
    parser.add_argument("--min-seconds", type=float, default=3.0)
    args = parser.parse_args()
    print(speed_table(cli_config(args.size), args.gemm,
                      min_seconds=args.min_seconds,
                      log=lambda line: print(line, file=sys.stderr, flush=True)))


if __name__ == "__main__":
    main()
