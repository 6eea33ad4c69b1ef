"""``accelgen matmul``: run one random GEMM on a backend and check it against NumPy."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import click
import numpy as np

from accel.cli.options import (config_from_options, config_options, json_option, seed_option,
                               write_json)
from accel.cli.simulation import simulation_options
from accel.cli.timeline import timeline_option, write_timeline

__all__ = ["matmul_command"]


@click.command("matmul")
@config_options
@click.option("--m", "m", type=click.IntRange(1, 1 << 16), default=64, show_default=True,
              help="Rows of A and C.")
@click.option("--k", "k", type=click.IntRange(1, 1 << 16), default=64, show_default=True,
              help="Columns of A, rows of B.")
@click.option("--n", "n", type=click.IntRange(1, 1 << 16), default=64, show_default=True,
              help="Columns of B and C.")
@click.option("--backend", type=click.Choice(["golden", "rtl"]), default="golden",
              show_default=True, help="NumPy golden model, or the emitted Verilog under cocotb.")
@click.option("--simulator", type=click.Choice(["verilator", "icarus"]), default="verilator",
              show_default=True, help="Simulator of the rtl backend.")
@seed_option("Seed of the random A, B.")
@click.option("--bias/--no-bias", default=False, help="Add a random int32 bias row.")
@json_option()
@timeline_option("rtl backend: from the RTL's monitors")
@simulation_options("matmul")
def matmul_command(m: int, k: int, n: int, backend: str, simulator: str, seed: int, bias: bool,
                   json_path: Path | None, timeline_path: Path | None, waves,
                   **options: Any) -> None:
    """Multiply random int8 matrices on the accelerator and compare with NumPy.

    Prints instructions, MACs, cycles and utilization (rtl) next to the bound
    max(MACs / PEs, minimal bytes / bus bytes per cycle), minimal bytes moving A, B (and the
    bias) once and writing C once (accel.perf.bound), and the program's own traffic bound.
    Exits with status 1 on a mismatch.
    """
    from accel.perf.bound import gemm_bound
    from accel.runtime.matmul import matmul

    if waves is not None and backend != "rtl":
        raise click.UsageError("--waves needs --backend rtl")
    if timeline_path is not None and backend != "rtl":
        raise click.UsageError("--timeline needs --backend rtl (accelgen predict --timeline "
                               "draws the cycle model's)")
    config = config_from_options(options)
    rng = np.random.default_rng(seed)
    lo, hi = -(1 << (config.input_width - 1)), 1 << (config.input_width - 1)
    a = rng.integers(lo, hi, (m, k))
    b = rng.integers(lo, hi, (k, n))
    bias_row = rng.integers(-(1 << 20), 1 << 20, n) if bias else None
    click.echo(f"accelgen matmul: {m}x{k} @ {k}x{n} on {config.rows}x{config.cols} "
               f"{config.dataflow}, backend {backend}", err=True)
    start = time.perf_counter()
    try:
        result, stats = matmul(a, b, config=config, backend=backend, bias=bias_row,
                               return_stats=True, simulator=simulator, waves=waves,
                               timeline=timeline_path is not None)
    except (ValueError, RuntimeError, AssertionError) as exc:  # bad input, build, simulator
        raise click.ClickException(str(exc).splitlines()[0]) from None
    elapsed = time.perf_counter() - start
    expected = a @ b + (bias_row if bias_row is not None else 0)
    wrong = int(np.count_nonzero(result != expected))
    moved = stats.load_bytes + stats.store_bytes
    physical = gemm_bound(config, m, k, n, bias=bias)
    bound = physical.cycles
    program_bound = max(stats.macs / config.pe_count, moved / config.bus_bytes)
    click.echo(f"instructions {stats.instructions}")
    click.echo(f"MACs         {stats.macs}")
    click.echo(f"bytes moved  {moved} (loads {stats.load_bytes}, stores {stats.store_bytes}; "
               f"minimal {physical.min_bytes})")
    click.echo(f"bound        {bound} cycles = max(MACs/PEs {physical.compute}, minimal "
               f"bytes/bus {physical.traffic})")
    click.echo(f"program-traffic bound {program_bound:.0f} cycles (this program's bytes/bus "
               f"{moved / config.bus_bytes:.0f})")
    if stats.cycles is not None:
        click.echo(f"cycles       {stats.cycles}")
        click.echo(f"utilization  {stats.utilization(config):.1%} of peak, "
                   f"{bound / stats.cycles:.1%} of bound")
    click.echo(f"wall time    {elapsed:.1f} s")
    if timeline_path is not None:
        write_timeline(timeline_path, stats.timeline, config)
    if json_path is not None:
        write_json(json_path, {
            "config": config.to_dict(), "m": m, "k": k, "n": n, "backend": backend,
            "seed": seed, "bias": bias, "instructions": stats.instructions, "macs": stats.macs,
            "load_bytes": stats.load_bytes, "store_bytes": stats.store_bytes, "bound": bound,
            "min_bytes": physical.min_bytes, "program_bound": program_bound,
            "cycles": stats.cycles,
            "utilization": None if stats.cycles is None else stats.utilization(config),
            "seconds": elapsed, "wrong_elements": wrong, "matches": not wrong})
    if wrong:
        click.echo(f"MISMATCH: {wrong} of {m * n} elements differ from NumPy", err=True)
        raise SystemExit(1)
    click.echo("result       matches NumPy")
