"""``accelgen sim``: simulation runs of the emitted Verilog."""

from __future__ import annotations

import random
import time
from pathlib import Path
from typing import Any

import click
import numpy as np

from accel.cli.options import (config_from_options, config_options, json_option, seed_option,
                               write_json)
from accel.cli.simulation import progress, simulation_options

__all__ = ["sim"]


@click.group()
def sim() -> None:
    """Run the emitted Verilog under cocotb."""


@sim.command("random")
@config_options
@click.option("--programs", type=click.IntRange(1, 1_000_000), default=100, show_default=True,
              help="Random programs to run.")
@click.option("--length", type=click.IntRange(4, 10_000), default=30, show_default=True,
              help="Largest number of instructions per program (before the state dump).")
@click.option("--illegal-rate", type=click.FloatRange(0, 1), default=0.04, show_default=True,
              help="Probability of an illegal command at each step.")
@seed_option("Seed of everything.")
@click.option("--batch", type=click.IntRange(1, 100_000), default=250, show_default=True,
              help="Programs per simulator run.")
@click.option("--simulator", type=click.Choice(["verilator", "icarus"]), default="verilator",
              show_default=True)
@json_option("the counts and the first mismatches")
@simulation_options("sim-random")
def random_programs(programs: int, length: int, illegal_rate: float, seed: int, batch: int,
                    simulator: str, json_path: Path | None, waves, **options: Any) -> None:
    """Differential run: random programs on the RTL and on the golden model.

    Prints progress after each batch (one simulator run) to stderr. Exits with status 1 when
    any response or memory byte differs.
    """
    from accel.verify.randprog import ProgramSpace, random_program
    from accel.runtime.rtl import BusModel, Program, run_programs

    config = config_from_options(options)
    rng = random.Random(seed)
    space = ProgramSpace(data_size=2048, dump_addr=2048, max_rows=6)
    done = mismatches = instructions = 0
    first_mismatches: list[str] = []
    start = time.perf_counter()
    report = progress("programs", programs)
    while done < programs:
        count = min(batch, programs - done)
        memory = np.frombuffer(rng.randbytes(space.memory_size(config)), dtype=np.uint8).copy()
        chunk = [Program(random_program(config, rng, length=rng.randint(4, length),
                                        illegal_rate=illegal_rate, space=space))
                 for _ in range(count)]
        instructions += sum(len(p.commands) for p in chunk)
        bus = BusModel(stall_prob=0.2, max_wait=3, cmd_gap_prob=0.2, resp_stall_prob=0.2,
                       seed=rng.randrange(1 << 30))
        try:
            result = run_programs(config, memory, chunk, bus=bus, simulator=simulator,
                                  waves=waves)
        except (RuntimeError, AssertionError) as exc:  # build failure, missing simulator
            raise click.ClickException(str(exc).splitlines()[0]) from None
        for line in result.mismatches[:20]:
            click.echo(f"MISMATCH (batch at program {done}): {line}", err=True)
            if len(first_mismatches) < 20:
                first_mismatches.append(f"batch at program {done}: {line}")
        mismatches += len(result.mismatches)
        done += count
        report(count)
    elapsed = time.perf_counter() - start
    click.echo(f"programs {done}, instructions {instructions}, mismatches {mismatches}, "
               f"{elapsed:.0f} s, {done / elapsed:.1f} programs/s")
    if json_path is not None:
        write_json(json_path, {
            "config": config.to_dict(), "seed": seed, "programs": done,
            "instructions": instructions, "mismatches": mismatches, "seconds": elapsed,
            "programs_per_second": done / elapsed, "first_mismatches": first_mismatches})
    if mismatches:
        raise SystemExit(1)
