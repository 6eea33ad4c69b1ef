"""Firmware-driven matmul on the SoC (PCPI and MMIO) against the same matmul on the command port.

The firmware ``accel/build/firmware/src/apps/bench_matmul.c`` fills A and B from a fixed-seed LCG,
runs ``accel_matmul`` through PCPI and then through MMIO, timing each with the SoC timer, and prints
``pcpi_cycles=``, ``mmio_cycles=``, ``checksum_pcpi=``, ``checksum_mmio=`` (plus the
accelerator's counters), then ``DONE``. This script

1. builds that firmware for the configuration and runs it on the SoC (PicoRV32 + accelerator)
   under Verilator through ``sim.bench_soc`` (one SoC build with empty SRAM; the image is loaded
   at reset through ``SOC_IMAGE``);
2. replays the LCG in Python and checks both checksums (and the MAC counters) against NumPy;
3. runs ``accel.runtime.matmul(a, b, config=config, backend="rtl")`` on the same A and B: the same
   tiled program driven straight into the accelerator's command port from cocotb;
4. prints a Markdown table: path, cycles, MACs / (cycles x PEs), overhead vs the direct run,
   and the physical bound (`accel.perf.bound.gemm_bound`: max(MACs / PEs, minimal bytes / bus
   bytes per cycle), A and B read once, C written once), with the program's own traffic bound
   max(MACs / PEs, bytes moved / bus bytes per cycle) after it.

Usage::

    python bench/soc_matmul.py                    # 64x64x64 on an 8x8 weight-stationary array
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from accel.config import AccelConfig  # noqa: E402
from accel.build.firmware import build_firmware  # noqa: E402
from accel.perf.bound import gemm_bound  # noqa: E402
from accel.runtime.matmul import matmul  # noqa: E402
from accel.soc.soc import SoC, picorv32_source  # noqa: E402
from sim.runner import emit_cached, run_cocotb  # noqa: E402

#: The firmware's problem size and LCG (accel/build/firmware/src/apps/bench_matmul.c).
M = K = N = 64
SEED = 12345
APP = (Path(__file__).resolve().parent.parent / "accel" / "build" / "firmware" / "src" / "apps"
       / "bench_matmul.c")


def lcg_int8(count: int, state: int) -> tuple[np.ndarray, int]:
    """``count`` values of the firmware's LCG: state = state * 1103515245 + 12345 (mod 2^32),
    value = (int8)(state >> 16). Returns (values, state after)."""
    out = np.empty(count, dtype=np.int64)
    for i in range(count):
        state = (state * 1103515245 + 12345) & 0xFFFF_FFFF
        byte = (state >> 16) & 0xFF
        out[i] = byte - 256 if byte >= 128 else byte
    return out, state


def operands() -> tuple[np.ndarray, np.ndarray]:
    a, state = lcg_int8(M * K, SEED)
    b, _ = lcg_int8(K * N, state)
    return a.reshape(M, K), b.reshape(K, N)


def checksum(c: np.ndarray) -> int:
    """sum of C[i][j] * (i * N + j + 1) mod 2^32, as the firmware computes it."""
    weights = np.arange(1, c.size + 1, dtype=np.int64).reshape(c.shape)
    return int((c.astype(np.int64) * weights).sum()) % (1 << 32)


def run_soc(config: AccelConfig, image: bytes, *, divisor: int, max_cycles: int,
            transcript: Path, simulator: str) -> str:
    """Run the image on the SoC (empty-SRAM build + SOC_IMAGE); return the UART transcript."""
    key = f"soc-{config.rows}x{config.cols}-{config.dataflow}-accel-blank"
    verilog = emit_cached(key, lambda: SoC(config, None, uart_divisor=divisor), name="soc")
    image_path = transcript.with_name("image.bin")
    image_path.write_bytes(image)
    env = {"SOC_DIVISOR": str(divisor), "SOC_IMAGE": str(image_path),
           "SOC_TRANSCRIPT": str(transcript), "SOC_END": "^DONE$",
           "SOC_EXPECT": "^DONE$", "SOC_MAX_CYCLES": str(max_cycles)}
    try:
        run_cocotb(sources=[verilog, picorv32_source()], toplevel="soc",
                   test_module="sim.bench_soc", build_key=key, simulator=simulator, env=env)
    finally:
        if transcript.is_file():
            print(f"transcript ({transcript}):\n{transcript.read_text()}", file=sys.stderr)
    return transcript.read_text()


def parse(transcript: str) -> dict[str, int]:
    values = {}
    for key, value in re.findall(r"^(\w+)=(0x[0-9a-fA-F]+|\d+)$", transcript, re.M):
        values[key] = int(value, 0)
    return values


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=8)
    parser.add_argument("--cols", type=int, default=8)
    parser.add_argument("--dataflow", choices=["ws", "os"], default="ws")
    parser.add_argument("--sram-kib", type=int, default=64)
    parser.add_argument("--divisor", type=int, default=8, help="UART clock cycles per bit")
    parser.add_argument("--max-cycles", type=int, default=30_000_000)
    parser.add_argument("--simulator", choices=["verilator", "icarus"], default="verilator")
    parser.add_argument("--out", type=Path, help="Build directory (default: a temporary one)")
    args = parser.parse_args()

    config = AccelConfig(rows=args.rows, cols=args.cols, dataflow=args.dataflow,
                         soc_sram_kib=args.sram_kib, name=f"soc-bench-{args.rows}x{args.cols}")
    a, b = operands()
    expect = a @ b
    expect_sum = checksum(expect)
    macs = M * K * N

    with tempfile.TemporaryDirectory(prefix="soc-matmul-") as tmp:
        out = (args.out or Path(tmp)).resolve()
        out.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        elf = build_firmware(config, str(APP), out / "firmware")
        image = elf.with_suffix(".bin").read_bytes()
        t1 = time.perf_counter()
        text = run_soc(config, image, divisor=args.divisor, max_cycles=args.max_cycles,
                       transcript=out / "uart.txt", simulator=args.simulator)
        t2 = time.perf_counter()
    values = parse(text)
    soc_total = int(re.search(r"^# cycles (\d+)", text, re.M).group(1))

    problems = []
    for path in ("pcpi", "mmio"):
        got = values.get(f"checksum_{path}")
        if got != expect_sum:
            problems.append(f"checksum_{path} = {got if got is None else hex(got)} != "
                            f"{expect_sum:#010x} (NumPy)")
        if values.get(f"{path}_status"):
            problems.append(f"{path}_status = {values[f'{path}_status']:#010x}")
        if values.get(f"{path}_macs") != macs:
            problems.append(f"{path}_macs = {values.get(f'{path}_macs')} != {macs}")

    c, stats = matmul(a, b, config=config, backend="rtl",
                      return_stats=True, simulator=args.simulator)
    t3 = time.perf_counter()
    if not (c == expect).all():
        problems.append("the direct RTL result differs from NumPy")
    for path in ("pcpi", "mmio"):
        # The firmware's INSTRUCTIONS counter also counts accel_matmul's final status read.
        for what, direct in (("load_bytes", stats.load_bytes), ("store_bytes", stats.store_bytes),
                             ("instructions", stats.instructions + 1)):
            got = values.get(f"{path}_{what}")
            if got != direct:
                problems.append(f"{path}_{what} = {got} != {direct} (direct program)")

    moved = stats.load_bytes + stats.store_bytes
    physical = gemm_bound(config, M, K, N)
    program_bound = max(macs / config.pe_count, moved / config.bus_bytes)
    direct = stats.cycles
    print(f"\n{M}x{K}x{N} int8 on {config.rows}x{config.cols} {config.dataflow} "
          f"(input {config.input_width} b, acc {config.acc_width} b, bus {config.bus_width} b, "
          f"SoC SRAM {config.soc_sram_kib} KiB), {stats.instructions} commands; "
          f"checksum {expect_sum:#010x}\n")
    print("| path | cycles | utilization MACs/(cycles*PEs) | overhead vs direct |")
    print("|---|---|---|---|")
    rows = [("SoC firmware, PCPI", values.get("pcpi_cycles")),
            ("SoC firmware, MMIO", values.get("mmio_cycles")),
            ("direct command port (accel.runtime.matmul rtl)", direct)]
    for name, cycles in rows:
        if cycles is None:
            print(f"| {name} | (missing) | - | - |")
            continue
        util = macs / (cycles * config.pe_count)
        over = f"{cycles / direct:.2f}x (+{cycles - direct})" if direct else "-"
        print(f"| {name} | {cycles} | {util:.1%} | {over} |")
    print(f"\nbound: max(MACs/{config.pe_count} = {physical.compute}, minimal bytes/"
          f"{config.bus_bytes} = {physical.min_bytes}/{config.bus_bytes} = {physical.traffic}) "
          f"= {physical.cycles} cycles")
    print(f"program-traffic bound: max(MACs/{config.pe_count}, bytes moved/{config.bus_bytes} = "
          f"{moved}/{config.bus_bytes} = {moved / config.bus_bytes:.0f}) = {program_bound:.0f} "
          f"cycles (load {stats.load_bytes} B, store {stats.store_bytes} B)")
    for path in ("pcpi", "mmio"):
        if f"{path}_busy_cycles" in values:
            print(f"{path}: accelerator busy {values[f'{path}_busy_cycles']} cycles of "
                  f"{values.get(f'{path}_cycles')}")
    print(f"whole SoC run {soc_total} cycles (reset to DONE)")
    print(f"checks: {'all passed' if not problems else '; '.join(problems)}")
    print(f"wall: firmware {t1 - t0:.1f} s, SoC sim {t2 - t1:.1f} s, direct rtl {t3 - t2:.1f} s, "
          f"total {t3 - t0:.1f} s")
    if problems:
        sys.exit(1)


if __name__ == "__main__":
    main()
