"""``accelgen fuzz``: differential fuzzing of the RTL against the golden model.

The command is a thin shell over `accel.verify.fuzz`: it reads the options, shows progress,
prints the summary and the coverage table, and turns failures into exit codes (1: a mismatch;
2: bad input, as one ``Error:`` line).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from accel.cli.options import (CONFIG_FIELDS, config_flag, config_from_options, config_options,
                               json_option, seed_option, write_json)
from accel.cli.paths import OutputDir, OutputFile
from accel.cli.simulation import simulation_options

__all__ = ["fuzz"]


@click.command()
@config_options
@click.option("--programs", type=click.IntRange(1, 10_000_000), default=100, show_default=True,
              help="Random programs to run.")
@seed_option("Seed of everything (programs, memory, bus behaviour).")
@click.option("--length", type=click.IntRange(4, 10_000), default=30, show_default=True,
              help="Largest number of commands per program (before the state dump).")
@click.option("--illegal-rate", type=click.FloatRange(0, 1), default=0.05, show_default=True,
              help="Probability of a failing command at each step.")
@click.option("--batch", type=click.IntRange(1, 100_000), default=100, show_default=True,
              help="Programs per simulator run.")
@click.option("--buffers", type=click.FloatRange(0, 1), default=0.5, show_default=True,
              help="Share of the programs run from a command buffer (one exec_buffer).")
@click.option("--out", type=OutputDir(), default=Path("fuzz-out"), show_default=True,
              help="Directory for the reproducer of a failure.")
@json_option("the summary and the coverage counts")
@click.option("--coverage-json", type=OutputFile(), metavar="FILE",
              help="Also write the coverage counts alone as JSON.")
@click.option("--no-minimize", is_flag=True,
              help="Write the failing batch as it ran instead of a minimized program.")
@click.option("--replay", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE",
              help="Re-run a reproducer file instead of fuzzing (no configuration options).")
@click.option("--simulator", type=click.Choice(["verilator", "icarus"]), default="verilator",
              show_default=True)
@simulation_options("fuzz-replay")
def fuzz(programs: int, seed: int, length: int, illegal_rate: float, batch: int, buffers: float,
         out: Path, json_path: Path | None, coverage_json: Path | None, no_minimize: bool,
         replay: Path | None, simulator: str, waves, **options: Any) -> None:
    """Random legal and illegal programs on the golden model and the RTL.

    Programs run in batches (one simulator run each) with random bus stalls, wait states,
    command gaps, response back-pressure and bus error windows; a --buffers share of them
    runs from a command buffer (exec_buffer), chosen per program by the seed. The first
    difference stops the run: the failing program is minimized and written to --out as a
    reproducer that --replay re-runs. Prints programs, instructions, mismatches, programs/s
    and the functional coverage (instruction kinds x hazard kinds x error causes). Exits with
    status 1 on any mismatch. --waves records the waveform of a --replay run.
    """
    if waves is not None and replay is None:
        raise click.UsageError("--waves records a --replay run: give --replay FILE")
    if replay is not None:
        flags = {**{name: config_flag(name) for name in CONFIG_FIELDS},
                 "preset_name": "--preset", "config_file": "--config"}
        given = [flag for name, flag in flags.items() if options.get(name) is not None]
        if given:
            raise click.UsageError(f"--replay takes its configuration from the file, not "
                                   f"{given[0]}")
        _replay(replay, simulator, waves)
        return
    from accel.verify.fuzz import FuzzOptions
    from accel.verify.fuzz import fuzz as run_fuzz

    config = config_from_options(options)
    settings = FuzzOptions(programs=programs, seed=seed, length=length,
                           illegal_rate=illegal_rate, batch=batch, simulator=simulator,
                           buffers=buffers)
    stderr = click.get_text_stream("stderr")
    with click.progressbar(length=programs, label="fuzz", file=stderr) as bar:

        def progress(count: int) -> None:
            bar.update(count)
            if not stderr.isatty():  # no bar drawn: one line per batch instead
                click.echo(f"fuzz: {bar.pos}/{programs} programs", err=True)

        try:
            report = run_fuzz(config, settings, out_dir=out, progress=progress,
                              log=lambda line: click.echo(line, err=True),
                              minimize=not no_minimize)
        except (RuntimeError, AssertionError) as exc:  # build failure, missing simulator
            raise click.ClickException(str(exc).splitlines()[0]) from None
        except OSError as exc:
            raise click.ClickException(f"cannot write the reproducer to {str(out)!r}: "
                                       f"{exc.strerror or exc}") from None
    click.echo(report.summary())
    click.echo(report.coverage.table())
    if coverage_json is not None:
        try:
            coverage_json.write_text(report.coverage.to_json())
        except OSError as exc:
            raise click.ClickException(f"cannot write {str(coverage_json)!r}: "
                                       f"{exc.strerror or exc}") from None
    if json_path is not None:
        write_json(json_path, {
            "config": config.to_dict(), "seed": seed, "programs": report.programs,
            "instructions": report.instructions, "mismatches": report.mismatches,
            "seconds": report.seconds, "programs_per_second": report.programs_per_second,
            "failure": report.failure, "reproducer": None if report.reproducer_path is None
            else str(report.reproducer_path), "coverage": report.coverage.to_dict()})
    if report.reproducer is not None:
        _describe(report.reproducer)
        click.echo(f"reproducer: {report.reproducer_path} (replay: accelgen fuzz --replay "
                   f"{report.reproducer_path})")
    if report.mismatches:
        raise SystemExit(1)


def _describe(reproducer) -> None:
    from accel.verify.fuzz.reproducer import programs_text

    how = "each on a fresh accelerator" if reproducer.isolate else "back to back"
    click.echo(f"reproducer: {reproducer.commands} commands in {len(reproducer.programs)} "
               f"program(s), {how}; {reproducer.note}")
    if reproducer.commands <= 60:
        click.echo(programs_text(reproducer.programs))


def _replay(path: Path, simulator: str, waves) -> None:
    from accel.verify.fuzz import Reproducer, ReproducerError

    try:
        reproducer = Reproducer.load(path)
    except ReproducerError as exc:
        raise click.UsageError(str(exc)) from None
    _describe(reproducer)
    try:
        result = reproducer.run(simulator=simulator, waves=waves)
    except (RuntimeError, AssertionError) as exc:
        raise click.ClickException(str(exc).splitlines()[0]) from None
    for line in result.mismatches[:20]:
        click.echo(f"MISMATCH: {line}")
    if result.mismatches:
        click.echo(f"replay: fails with {len(result.mismatches)} mismatches")
        raise SystemExit(1)
    click.echo("replay: passes, no mismatch")
