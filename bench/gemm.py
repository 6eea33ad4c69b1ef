"""GEMM utilization on the RTL: MACs / (cycles x PEs), resident and end to end, against the bound.

For each array size and square GEMM size this prints:

* resident: A and B already in the scratchpad (loaded by an untimed first program); the timed
  program is only preloads and computes, plus a final fence. Bound: MACs / PEs.
* end to end: `accel.matmul`'s tiled program from main memory (loads, computes, stores).
  Bound: max(MACs / PEs, bytes moved / bus bytes per cycle), with the bytes that program moves.

Every run is checked against the golden model. Usage::

    python bench/gemm.py                      # 4x4, 8x8, 16x16 x 64, 128, 256 (slow)
    python bench/gemm.py --arrays 16 --sizes 256 --no-e2e
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from accel.config import MAX_BLOCK_ROWS, AccelConfig  # noqa: E402
from accel.isa import Command, encode  # noqa: E402
from accel.matmul import matmul  # noqa: E402
from accel.rtl import Program, run_programs  # noqa: E402


def resident_config(size: int, dim: int, dataflow: str) -> AccelConfig:
    """A configuration whose scratchpad holds A and B and whose accumulator holds C."""
    sp_bytes = 2 * size * size
    acc_bytes = size * size * 4
    kib = lambda n: max(4, 1 << max(0, (n - 1).bit_length() - 10))  # noqa: E731
    return AccelConfig(rows=dim, cols=dim, dataflow=dataflow, sp_kib=kib(sp_bytes),
                       acc_kib=kib(acc_bytes), name=f"resident-{dim}x{dim}")


def resident_programs(config: AccelConfig, m: int, k: int, n: int
                      ) -> tuple[list[Command], list[Command], int]:
    """(setup, timed, c_addr in memory): setup loads A and B; timed computes and fences."""
    rows, cols = config.rows, config.cols
    a_addr, b_addr = 0, m * k
    setup: list[Command] = []
    timed: list[Command] = []
    sp = 0
    if config.dataflow == "ws":
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


def run_resident(dim: int, size: int, dataflow: str, largest: int) -> tuple[int, float]:
    config = resident_config(largest, dim, dataflow)  # one build serves every size
    rng = np.random.default_rng(size)
    a = rng.integers(-128, 128, (size, size)).astype(np.int8)
    b = rng.integers(-128, 128, (size, size)).astype(np.int8)
    setup, timed, end = resident_programs(config, size, size, size)
    memory = np.zeros(end + 64, dtype=np.uint8)
    memory[:size * size] = a.view(np.uint8).ravel()
    memory[size * size:2 * size * size] = b.view(np.uint8).ravel()
    result = run_programs(config, memory, [Program(setup), Program(timed)])
    if result.mismatches:
        raise RuntimeError(result.mismatches[0])
    cycles = result.cycles[1]
    return cycles, size ** 3 / (cycles * config.pe_count)


def run_e2e(dim: int, size: int, dataflow: str) -> tuple[int, float, float]:
    config = AccelConfig(rows=dim, cols=dim, dataflow=dataflow)
    rng = np.random.default_rng(size + 1)
    a = rng.integers(-128, 128, (size, size))
    b = rng.integers(-128, 128, (size, size))
    c, stats = matmul(a, b, config=config, backend="rtl", return_stats=True)
    assert (c == a @ b).all()
    bound = max(stats.macs / config.pe_count,
                (stats.load_bytes + stats.store_bytes) / config.bus_bytes)
    return stats.cycles, stats.utilization(config), bound


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arrays", type=int, nargs="+", default=[4, 8, 16])
    parser.add_argument("--sizes", type=int, nargs="+", default=[64, 128, 256])
    parser.add_argument("--dataflow", choices=["ws", "os"], default="ws")
    parser.add_argument("--no-e2e", action="store_true", help="Only the resident runs.")
    args = parser.parse_args()
    print("| array | GEMM | resident cycles | resident util | e2e cycles | e2e util | "
          "e2e bound | e2e / bound | wall s |")
    print("|---|---|---|---|---|---|---|---|---|")
    for dim in args.arrays:
        for size in args.sizes:
            start = time.perf_counter()
            cycles, util = run_resident(dim, size, args.dataflow, max(args.sizes))
            row = f"| {dim}x{dim} {args.dataflow} | {size}^3 | {cycles} | {util:.1%} |"
            if args.no_e2e:
                row += " - | - | - | - |"
            else:
                e_cycles, e_util, bound = run_e2e(dim, size, args.dataflow)
                row += f" {e_cycles} | {e_util:.1%} | {bound:.0f} | {bound / e_cycles:.1%} |"
            print(row + f" {time.perf_counter() - start:.0f} |", flush=True)


if __name__ == "__main__":
    main()
