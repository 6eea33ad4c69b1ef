"""GEMM utilization on the RTL: MACs / (cycles x PEs), resident and end to end, against the bound.

For each array size and square GEMM size this prints:

* resident: A and B already in the scratchpad (loaded by an untimed first program); the timed
  program is only preloads and computes, plus a final fence. Bound: MACs / PEs.
* end to end: `accel.runtime.matmul`'s tiled program from main memory (loads, computes, stores).
  Bound: the physical bound `accel.perf.bound.gemm_bound`, max(MACs / PEs, minimal bytes / bus
  bytes per cycle) with A and B read once and C written once; the program's own traffic bound
  (its bytes moved / bus bytes) is printed next to it.

Every run is checked against the golden model. The end-to-end runs are exactly
``accelgen matmul --backend rtl`` (its configuration, operands and figures). `gemm_table` is what
``python -m bench`` (bench/report.py) prints. Usage::

    python bench/gemm.py                      # 4x4, 8x8, 16x16 x 64, 128, 256 (slow)
    python bench/gemm.py --arrays 16 --sizes 256 --no-e2e
    python bench/gemm.py --arrays 8 --bus-width 32 --shapes 128x128x128 64x64x64 100x70x37
                                              # end to end only: cycles, bytes, commands
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from accel.config import MAX_BLOCK_ROWS, AccelConfig, Dataflow  # noqa: E402
from accel.isa import Command, encode  # noqa: E402
from accel.perf.bound import gemm_bound  # noqa: E402
from accel.runtime.matmul import matmul  # noqa: E402
from accel.runtime.rtl import Program, run_programs  # noqa: E402
from bench.configs import cli_config  # noqa: E402
from bench.markdown import table, versus  # noqa: E402


def resident_config(size: int, dim: int, dataflow: str) -> AccelConfig:
    """The default ``dim x dim`` configuration, its scratchpad and accumulator enlarged (to
    powers of two) where needed to hold A, B and C of a ``size``-cubed GEMM at once."""
    default = cli_config(dim, dim, dataflow)
    kib = lambda n: 1 << max(0, (n - 1).bit_length() - 10)  # noqa: E731
    return default.replace(sp_kib=max(default.sp_kib, kib(2 * size * size)),
                           acc_kib=max(default.acc_kib, kib(4 * size * size)))


def resident_programs(config: AccelConfig, m: int, k: int, n: int
                      ) -> tuple[list[Command], list[Command], int]:
    """(setup, timed, c_addr in memory): setup loads A and B; timed computes and fences."""
    rows, cols = config.rows, config.cols
    a_addr, b_addr = 0, m * k
    setup: list[Command] = []
    timed: list[Command] = []
    sp = 0
    if config.dataflow is Dataflow.WS:
        tk = rows
        a_rows = {}
        setup.append(encode("config_load", stride=k))
        for k0 in range(0, k, tk):
            a_rows[k0] = sp
            for m0 in range(0, m, MAX_BLOCK_ROWS):
                mm = min(MAX_BLOCK_ROWS, m - m0)
                setup.append(encode("load_sp", mem_addr=a_addr + m0 * k + k0, sp_addr=sp,
                                    rows=mm, cols=min(tk, k - k0)))
                sp += mm
        setup.append(encode("config_load", stride=n))
        b_rows = {}
        for k0 in range(0, k, tk):
            for n0 in range(0, n, cols):
                b_rows[k0, n0] = sp
                setup.append(encode("load_sp", mem_addr=b_addr + k0 * n + n0, sp_addr=sp,
                                    rows=min(tk, k - k0), cols=min(cols, n - n0)))
                sp += tk
        for n0 in range(0, n, cols):
            for index, k0 in enumerate(range(0, k, tk)):
                timed.append(encode("preload", b_addr=b_rows[k0, n0], k=min(tk, k - k0),
                                    n=min(cols, n - n0)))
                for m0 in range(0, m, MAX_BLOCK_ROWS):
                    timed.append(encode("compute_acc" if index else "compute",
                                        a_addr=a_rows[k0] + m0, m=min(MAX_BLOCK_ROWS, m - m0),
                                        c_addr=(n0 // cols) * m + m0))
    else:
        tk = MAX_BLOCK_ROWS
        a_rows = {}
        setup.append(encode("config_load", stride=k))
        for m0 in range(0, m, rows):
            for k0 in range(0, k, tk):
                a_rows[m0, k0] = sp
                setup.append(encode("load_sp_t", mem_addr=a_addr + m0 * k + k0, sp_addr=sp,
                                    rows=min(rows, m - m0), cols=min(tk, k - k0)))
                sp += min(tk, k - k0)
        setup.append(encode("config_load", stride=n))
        b_rows = {}
        for n0 in range(0, n, cols):
            for k0 in range(0, k, tk):
                b_rows[k0, n0] = sp
                setup.append(encode("load_sp", mem_addr=b_addr + k0 * n + n0, sp_addr=sp,
                                    rows=min(tk, k - k0), cols=min(cols, n - n0)))
                sp += min(tk, k - k0)
        for n0 in range(0, n, cols):
            for m0 in range(0, m, rows):
                for index, k0 in enumerate(range(0, k, tk)):
                    timed.append(encode("preload", b_addr=b_rows[k0, n0], k=min(tk, k - k0),
                                        n=min(cols, n - n0)))
                    timed.append(encode("compute_acc" if index else "compute",
                                        a_addr=a_rows[m0, k0], m=min(rows, m - m0),
                                        c_addr=(n0 // cols) * m + m0))
    assert sp <= config.sp_rows, "operands do not fit the scratchpad"
    setup.append(encode("fence"))
    timed.append(encode("fence"))
    return setup, timed, b_addr + k * n


def resident_run(config: AccelConfig, size: int, *, unroll: int = 1,
                 simulator: str = "verilator", check: bool = True) -> int:
    """Load a random ``size``-cubed A and B into the scratchpad (an untimed first program),
    then run the preload/compute program, its commands repeated ``unroll`` times before the
    final fence; return the cycles of that timed program (from the first command offered to
    the last response).

    Raises
    ------
    RuntimeError
        When the RTL disagrees with the golden model (with ``check``).
    """
    rng = np.random.default_rng(size)
    a = rng.integers(-128, 128, (size, size)).astype(np.int8)
    b = rng.integers(-128, 128, (size, size)).astype(np.int8)
    setup, timed, end = resident_programs(config, size, size, size)
    memory = np.zeros(end + 64, dtype=np.uint8)
    memory[:size * size] = a.view(np.uint8).ravel()
    memory[size * size:2 * size * size] = b.view(np.uint8).ravel()
    timed = timed[:-1] * unroll + timed[-1:]
    result = run_programs(config, memory, [Program(setup), Program(timed)],
                          simulator=simulator, check=check)
    if result.mismatches:
        raise RuntimeError(result.mismatches[0])
    return result.cycles[1]


def run_resident(dim: int, size: int, dataflow: str, largest: int) -> tuple[int, float]:
    """(cycles, MACs / (cycles x PEs)) of the resident ``size``-cubed GEMM on a ``dim`` square
    array (configured by `resident_config` for ``largest``, so one build serves every size)."""
    config = resident_config(largest, dim, dataflow)
    cycles = resident_run(config, size)
    return cycles, size ** 3 / (cycles * config.pe_count)


@dataclass(frozen=True)
class EndToEnd:
    """An `accel.runtime.matmul` run on the RTL, as ``accelgen matmul --backend rtl`` reports it."""

    cycles: int
    utilization: float
    bound: float
    instructions: int
    macs: int
    bytes_moved: int
    load_bytes: int = 0
    store_bytes: int = 0
    program_bound: float = 0.0


def random_operands(config: AccelConfig, m: int, k: int, n: int, seed: int = 0
                    ) -> tuple[np.ndarray, np.ndarray]:
    """The A and B ``accelgen matmul --seed SEED`` multiplies (same generator, same order)."""
    rng = np.random.default_rng(seed)
    lo, hi = -(1 << (config.input_width - 1)), 1 << (config.input_width - 1)
    return rng.integers(lo, hi, (m, k)), rng.integers(lo, hi, (k, n))


def run_end_to_end(config: AccelConfig, m: int, k: int, n: int, *, seed: int = 0,
                   simulator: str = "verilator") -> EndToEnd:
    """`accel.runtime.matmul`'s tiled program from main memory (loads, computes, stores) on the RTL,
    with ``accelgen matmul``'s operands and bound (`accel.perf.bound.gemm_bound`; the
    program-traffic bound max(MACs / PEs, bytes moved / bus bytes) as ``program_bound``).

    Raises
    ------
    RuntimeError
        When the result differs from NumPy's.
    """
    a, b = random_operands(config, m, k, n, seed)
    c, stats = matmul(a, b, config=config, backend="rtl", return_stats=True,
                      simulator=simulator)
    if not (c == a @ b).all():
        raise RuntimeError(f"{m}x{k}x{n} on {config.rows}x{config.cols}: RTL result differs "
                           "from NumPy")
    moved = stats.load_bytes + stats.store_bytes
    program_bound = max(stats.macs / config.pe_count, moved / config.bus_bytes)
    bound = gemm_bound(config, m, k, n).cycles
    return EndToEnd(stats.cycles, stats.utilization(config), bound, stats.instructions,
                    stats.macs, moved, stats.load_bytes, stats.store_bytes, program_bound)


def run_e2e(dim: int, size: int, dataflow: str) -> tuple[int, float, float]:
    """(cycles, utilization, bound) of ``accelgen matmul --rows dim --cols dim --m size --k size
    --n size --backend rtl``."""
    run = run_end_to_end(cli_config(dim, dim, dataflow), size, size, size)
    return run.cycles, run.utilization, run.bound


def gemm_table(arrays: list[int], sizes: list[int], dataflow: str = "ws", *, e2e: bool = True,
               log=None) -> str:
    """Resident and end-to-end runs of every square GEMM size on every square array, as a
    Markdown table. End-to-end rows are ``accelgen matmul --rows D --cols D --m S --k S --n S
    --dataflow DF --backend rtl`` (same configuration, operands and figures); the model column
    is `accel.perf.predict_matmul`, with its difference from the RTL."""
    from accel.perf import predict_matmul

    head = ["array", "GEMM", "resident cycles", "resident util (bound 100%)"]
    if e2e:
        head += ["e2e cycles", "e2e util", "e2e bound", "e2e bound / cycles",
                 "program-traffic bound", "model cycles (vs RTL)"]
    rows = []
    for dim in arrays:
        for size in sizes:
            start = time.perf_counter()
            cycles, util = run_resident(dim, size, dataflow, max(sizes))
            row = [f"{dim}x{dim} {dataflow}", f"{size}^3", f"{cycles}", f"{util:.1%}"]
            if e2e:
                config = cli_config(dim, dim, dataflow)
                run = run_end_to_end(config, size, size, size)
                model = versus(predict_matmul(config, size, size, size).cycles, run.cycles)
                row += [f"{run.cycles}", f"{run.utilization:.1%}", f"{run.bound:.0f}",
                        f"{run.bound / run.cycles:.1%}", f"{run.program_bound:.0f}", model]
            wall = time.perf_counter() - start
            rows.append(row + [f"{wall:.0f}"])
            if log is not None:
                log(f"gemm {dim}x{dim} {size}^3: resident {cycles} cycles ({wall:.0f} s)")
    return table(head + ["wall s"], rows)


def shapes_table(config: AccelConfig, shapes: list[tuple[int, int, int]], log=None) -> str:
    """End-to-end runs of each ``(m, k, n)`` on ``config`` as a Markdown table: RTL cycles
    against the physical bound, bytes loaded and stored (and the minimum), commands, the
    program-traffic bound and the cycle model."""
    from accel.perf import predict_matmul

    head = ["array", "bus", "GEMM", "cycles", "bound", "bound / cycles", "loaded", "stored",
            "minimal bytes", "commands", "program-traffic bound", "model cycles (vs RTL)"]
    rows = []
    for m, k, n in shapes:
        run = run_end_to_end(config, m, k, n)
        physical = gemm_bound(config, m, k, n)
        model = versus(predict_matmul(config, m, k, n).cycles, run.cycles)
        rows.append([f"{config.rows}x{config.cols} {config.dataflow}", f"{config.bus_width}",
                     f"{m}x{k}x{n}", f"{run.cycles}", f"{physical.cycles}",
                     f"{physical.fraction(run.cycles):.1%}", f"{run.load_bytes}",
                     f"{run.store_bytes}", f"{physical.min_bytes}", f"{run.instructions}",
                     f"{run.program_bound:.0f}", model])
        if log is not None:
            log(f"gemm {m}x{k}x{n}: {run.cycles} cycles, bound {physical.cycles}")
    return table(head, rows)


def _shape(text: str) -> tuple[int, int, int]:
    m, k, n = (int(v) for v in text.lower().split("x"))
    return m, k, n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arrays", type=int, nargs="+", default=[4, 8, 16])
    parser.add_argument("--sizes", type=int, nargs="+", default=[64, 128, 256])
    parser.add_argument("--dataflow", choices=["ws", "os"], default="ws")
    parser.add_argument("--no-e2e", action="store_true", help="Only the resident runs.")
    parser.add_argument("--shapes", type=_shape, nargs="+", metavar="MxKxN",
                        help="End to end only, these shapes on each array.")
    parser.add_argument("--bus-width", type=int, help="Bus width of the --shapes runs.")
    args = parser.parse_args()
    log = lambda line: print(line, file=sys.stderr, flush=True)  # noqa: E731
    if args.shapes:
        for dim in args.arrays:
            config = cli_config(dim, dim, args.dataflow)
            if args.bus_width:
                config = config.replace(bus_width=args.bus_width)
            print(shapes_table(config, args.shapes, log=log))
        return
    print(gemm_table(args.arrays, args.sizes, args.dataflow, e2e=not args.no_e2e, log=log))


if __name__ == "__main__":
    main()
