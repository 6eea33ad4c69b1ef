"""``accelgen predict``: cycles from the analytical model (`accel.perf`), without simulating.

Exactly one workload: ``--gemm MxKxN`` (the program `accel.compiler.tiler.plan_matmul` emits,
optionally with ``--bias`` and ``--requant``), ``--model`` (a compiled MNIST network: a model
file or a committed default, ``cnn``/``mlp``) or ``--asm`` (an assembly program). Prints the
predicted cycles against the physical bound (`accel.perf.bound`; not for ``--asm``), the
program's own traffic bound, and the breakdown (and a table of steps for a network);
``--json`` writes the same as JSON. Bad input is one ``Error:`` line, exit code 2.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import click

from accel.cli.options import (config_from_options, config_options, json_option, model_option,
                               open_model, write_json)
from accel.cli.timeline import timeline_option, write_timeline

__all__ = ["predict"]

_GEMM = re.compile(r"^\s*(\d+)\s*[xX]\s*(\d+)\s*[xX]\s*(\d+)\s*$")


def _parse_gemm(text: str) -> tuple[int, int, int]:
    match = _GEMM.match(text)
    if not match or min(int(g) for g in match.groups()) < 1:
        raise click.UsageError(f"--gemm must be MxKxN with positive integers, e.g. 64x64x64, "
                               f"not {text!r}")
    m, k, n = (int(g) for g in match.groups())
    return m, k, n


def _echo_estimate(estimate, bound) -> None:
    click.echo(f"cycles      {estimate.cycles:>12,}")
    if bound is not None:
        click.echo(f"bound       {bound.cycles:>12,}  ({100 * bound.fraction(estimate.cycles):.1f}%"
                   f" of the bound = max(MACs/PEs {bound.compute:,}, minimal bytes/bus "
                   f"{bound.traffic:,}))")
    click.echo(f"program-traffic bound {estimate.bound:,}  ({100 * estimate.utilization:.1f}%; "
               f"max(MACs/PEs, this program's bus words, commands))")
    click.echo(f"commands    {estimate.commands:>12,}")
    click.echo(f"MACs        {estimate.macs:>12,}")
    minimal = f" (minimal {bound.min_bytes:,})" if bound is not None else ""
    click.echo(f"bytes       {estimate.load_bytes:>12,} loaded, {estimate.store_bytes:,} stored"
               + minimal)
    click.echo("breakdown   " + ", ".join(f"{key} {value:,}"
                                          for key, value in estimate.breakdown.items()))


@click.command()
@config_options
@click.option("--gemm", metavar="MxKxN",
              help="Predict C (MxN) = A (MxK) @ B (KxN) as accel.compiler.tiler plans it.")
@click.option("--bias", is_flag=True, help="--gemm: add a bias row.")
@click.option("--requant", is_flag=True,
              help="--gemm: send C through the activation unit (int8 output).")
@model_option(None, "Predict one inference of a network: a model file, or cnn / mlp.")
@click.option("--asm", "asm_file", type=click.Path(dir_okay=False, path_type=Path),
              metavar="FILE.s", help="Predict an assembly program (accel.isa syntax).")
@json_option("the prediction")
@timeline_option("from the cycle model")
def predict(gemm: str | None, bias: bool, requant: bool, model: str | None,
            asm_file: Path | None, json_path: Path | None, timeline_path: Path | None,
            **options: Any) -> None:
    """Predict accelerator cycles with the analytical cycle model (no simulation).

    The count is what the RTL backend measures (accel.runtime.rtl.run_programs): from the first
    command to the last response (programs end with a fence, so until the accelerator is idle),
    with a zero-wait-state main memory. Host steps of a network (pooling) cost 0 accelerator
    cycles. Memory sizes and the bus width come from the flags, --config or --preset.
    """
    chosen = [flag for flag, value in (("--gemm", gemm), ("--model", model),
                                       ("--asm", asm_file)) if value is not None]
    if len(chosen) != 1:
        raise click.UsageError("give exactly one of --gemm, --model and --asm"
                               + (f" (not {' and '.join(chosen)})" if chosen else ""))
    if (bias or requant) and gemm is None:
        raise click.UsageError("--bias and --requant apply to --gemm only")
    config = config_from_options(options)
    shape = _parse_gemm(gemm) if gemm is not None else None
    from accel import perf
    from accel.perf.bound import gemm_bound, network_layer_bounds

    # Everything that can fail on bad input happens before anything is printed.
    if shape is not None:
        from accel.compiler.tiler import Requant

        m, k, n = shape
        try:
            estimate = perf.predict_matmul(config, m, k, n, bias=bias,
                                           requant=Requant() if requant else None)
        except ValueError as exc:
            raise click.UsageError(str(exc)) from None
        title = f"GEMM {m}x{k} @ {k}x{n}" + (" + bias" if bias else "") \
            + (" -> requant" if requant else "")
        physical = gemm_bound(config, m, k, n, bias=bias,
                              requant=Requant() if requant else None)
        report = {"gemm": [m, k, n], "bias": bias, "requant": requant, **estimate.to_dict(),
                  "bound": physical.cycles, "physical_bound": physical.to_dict(),
                  "program_bound": estimate.bound}
    elif asm_file is not None:
        from accel.isa import AssemblyError, assemble

        try:
            program = assemble(asm_file.read_text())
        except OSError as exc:
            raise click.UsageError(f"cannot read {str(asm_file)!r}: "
                                   f"{exc.strerror or exc}") from None
        except (AssemblyError, UnicodeDecodeError) as exc:
            raise click.UsageError(f"{asm_file}: {exc}") from None
        estimate = perf.predict_program(config, program)
        title = f"program {asm_file} ({len(program)} commands)"
        physical = None
        report = {"asm": str(asm_file), **estimate.to_dict(), "program_bound": estimate.bound}
    else:
        from accel.nn.compiler import compile_network

        network = open_model(model)
        try:
            compiled = compile_network(network, config)
        except ValueError as exc:
            raise click.UsageError(str(exc)) from None
        estimate = perf.predict_network(config, compiled)
        title = (f"network {network.name}: {len(network.layers)} layers, "
                 f"{estimate.commands:,} commands")
        layer_bounds = network_layer_bounds(config, network)
        steps = [sum((layer_bounds[i] for i in step.layers[1:]), layer_bounds[step.layers[0]])
                 for step in estimate.layers]
        physical = sum(steps[1:], steps[0])
        report = {"model": network.name, **estimate.to_dict(), "bound": physical.cycles,
                  "physical_bound": physical.to_dict(), "program_bound": estimate.bound}
        for row, bound in zip(report["layers"], steps):
            row["program_bound"] = row.pop("bound", None)
            row["bound"] = bound.cycles

    click.echo(f"accelgen predict: {config.rows}x{config.cols} {config.dataflow}, "
               f"bus {config.bus_width} bits")
    click.echo(title)
    if isinstance(estimate, perf.NetworkEstimate):
        click.echo(f"{'step':<24} {'commands':>9} {'cycles':>10} {'bound':>10} "
                   f"{'% of bound':>10} {'program-traffic bound':>22}")
        for layer, bound in zip(estimate.layers, steps):
            program = f"{layer.estimate.bound:,}" if layer.estimate is not None else "-"
            share = f"{100 * bound.fraction(layer.cycles):.1f}%" if layer.cycles else "-"
            click.echo(f"{layer.name:<24} {layer.commands:>9,} {layer.cycles:>10,} "
                       f"{bound.cycles:>10,} {share:>10} {program:>22}")
        click.echo(f"{'total':<24} {estimate.commands:>9,} {estimate.cycles:>10,} "
                   f"{physical.cycles:>10,} {100 * physical.fraction(estimate.cycles):>9.1f}% "
                   f"{estimate.bound:>22,}")
        click.echo(f"bound = max(MACs/PEs {physical.compute:,}, minimal bytes/bus "
                   f"{physical.traffic:,}); minimal bytes {physical.min_bytes:,} (each tensor "
                   f"moved once; host steps cost 0 cycles here)")
    else:
        _echo_estimate(estimate, physical)
    if json_path is not None:
        write_json(json_path, {"config": config.to_dict(), **report})
    if timeline_path is not None:
        from accel.perf import timeline as perf_timeline

        if shape is not None:
            drawn = perf_timeline.matmul_timeline(config, *shape, bias=bias,
                                                  requant=Requant() if requant else None)[0]
        elif asm_file is not None:
            drawn = perf_timeline.program_timeline(config, program, title)[0]
        else:
            drawn = perf_timeline.network_timeline(config, compiled,
                                                   f"network {network.name}: one inference")
        write_timeline(timeline_path, drawn, config)
