"""``accelgen sweep``: design-space exploration over array size, dataflow and memory sizes.

A thin shell over `accel.sweep`: it parses the comma-separated lists, runs the sweep on a Dask
LocalCluster (or the cluster at ``--scheduler``), shows progress on stderr and prints the result
table and Pareto fronts. Bad input is one ``Error:`` line with exit code 2.
"""

from __future__ import annotations

from pathlib import Path

import click

from accel.cli.paths import OutputDir
from accel.config import DATAFLOWS, PRESETS, ConfigError, preset

__all__ = ["sweep"]


def _echo_err(line: str) -> None:
    click.echo(line, err=True)


@click.command()
@click.option("--rows", default="4,8,16", show_default=True, metavar="LIST",
              help="PE rows to sweep, comma-separated.")
@click.option("--cols", default="4,8,16", show_default=True, metavar="LIST",
              help="PE columns to sweep, comma-separated.")
@click.option("--dataflow", "dataflows", default="ws,os", show_default=True, metavar="LIST",
              help=f"Dataflows to sweep, comma-separated ({', '.join(DATAFLOWS)}).")
@click.option("--sp-kib", default=None, metavar="LIST",
              help="Scratchpad sizes in KiB to sweep (default: the preset's).")
@click.option("--acc-kib", default=None, metavar="LIST",
              help="Accumulator sizes in KiB to sweep (default: the preset's).")
@click.option("--preset", "preset_name", default="default", show_default=True, metavar="NAME",
              help=f"Configuration the unswept fields come from: {', '.join(PRESETS)}.")
@click.option("--workload", "workloads", multiple=True, metavar="W",
              help="cnn, mlp (the default MNIST models) or gemm:MxKxN; repeat or comma-separate "
                   "for several (default: cnn).")
@click.option("--metrics", default="cycles", show_default=True, metavar="LIST",
              help="Comma-separated: cycles (predicted by the analytical model, fast), "
                   "resources (LUT/FF/DSP/BRAM after Yosys synthesis for --fpga, cached), "
                   "fmax (achieved MHz after nextpnr-ecp5 place and route on an ECP5-85F, "
                   "slow), rtl (cycles simulated on the RTL, slow).")
@click.option("--fpga", "family", type=click.Choice(["ecp5", "ice40"]), default="ecp5",
              show_default=True, help="FPGA family of the resources metric.")
@click.option("--resource-top", type=click.Choice(["accelerator", "array"]),
              default="accelerator", show_default=True,
              help="What resources and fmax measure: the whole accelerator (minutes of "
                   "synthesis per configuration, even at 2x2) or the systolic array alone "
                   "(seconds: 2x4 ~2 s, 8x8 ~10 s; what the CI tests use).")
@click.option("--x-axis", type=click.Choice(["lut", "ff", "dsp", "bram", "pes"]), default=None,
              help="Resource axis of the Pareto plot [default: lut with resources, else pes "
                   "(rows x cols)].")
@click.option("--simulator", type=click.Choice(["verilator", "icarus"]), default="verilator",
              show_default=True, help="Simulator of the rtl metric.")
@click.option("--scheduler", metavar="ADDRESS",
              help="Run the jobs on the Dask cluster whose scheduler is at ADDRESS "
                   "(e.g. tcp://10.0.0.5:8786) instead of a LocalCluster.")
@click.option("--workers", type=click.IntRange(1, 1024), default=None,
              help="Worker processes of the LocalCluster [default: CPU count].")
@click.option("--out", type=OutputDir(), default=Path("sweep"), show_default=True,
              help="Directory for sweep.csv, sweep.json and pareto.png.")
def sweep(rows: str, cols: str, dataflows: str, sp_kib: str | None, acc_kib: str | None,
          preset_name: str, workloads: tuple[str, ...], metrics: str, family: str,
          resource_top: str, x_axis: str | None, simulator: str, scheduler: str | None,
          workers: int | None, out: Path) -> None:
    """Explore the design space: cycles, resources and Fmax of many configurations.

    The configurations are the cartesian product of the swept values. Each configuration is
    one Dask job measuring the --metrics for each --workload. Invalid combinations are listed
    and skipped. Writes OUT/sweep.csv and OUT/sweep.json (one row per
    configuration: fields, metrics, errors, in sweep order) and OUT/pareto.png (cycles per run
    against the --x-axis resource, Pareto-optimal configurations highlighted), then prints the
    table and the Pareto fronts. Progress goes to stderr.
    """
    from accel.sweep import METRICS, JobPlan, SweepError, SweepSpace, Workload, run_sweep
    from accel.sweep.cluster import ClusterError
    from accel.sweep.params import parse_choice_list, parse_int_list

    if scheduler is not None and workers is not None:
        raise click.UsageError("--workers sizes the LocalCluster; it does not apply with "
                               "--scheduler")
    try:
        base = preset(preset_name)
        values = {"rows": parse_int_list(rows, "--rows"),
                  "cols": parse_int_list(cols, "--cols"),
                  "dataflow": parse_choice_list(dataflows, "--dataflow", DATAFLOWS)}
        if sp_kib is not None:
            values["sp_kib"] = parse_int_list(sp_kib, "--sp-kib")
        if acc_kib is not None:
            values["acc_kib"] = parse_int_list(acc_kib, "--acc-kib")
        chosen = parse_choice_list(metrics, "--metrics", METRICS)
        names = [name for text in (workloads or ("cnn",)) for name in text.split(",")]
        parsed = tuple(Workload.parse(name) for name in names)
        if len({w.name for w in parsed}) != len(parsed):
            raise SweepError("--workload names a workload twice")
        plan = JobPlan(tuple(m for m in METRICS if m in chosen), parsed, family, resource_top,
                       simulator)
        result = run_sweep(SweepSpace(values, base), plan, out, x_axis=x_axis,
                           address=scheduler, workers=workers, progress=_echo_err)
    except (SweepError, ConfigError, ClusterError) as exc:
        raise click.UsageError(str(exc)) from None
    except OSError as exc:
        raise click.ClickException(f"cannot write to {str(out)!r}: {exc.strerror or exc}") \
            from None
    click.echo(result.report(), nl=False)
