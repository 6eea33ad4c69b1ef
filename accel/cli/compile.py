"""``accelgen compile`` and ``accelgen run``: bring your own model.

``compile`` imports a model (ONNX float, QDQ or QOperator; an accelgen model file; ``cnn`` /
``mlp``), compiles it for a configuration, prints the per-layer table and writes the artifacts
of `accel.runtime.model_artifacts` into ``--out``. ``run`` runs inputs from a ``.npy`` file on a
backend and prints (and saves) the outputs. Bad input (a malformed or unsupported model, bad
calibration data, inputs of the wrong shape) is one ``Error:`` line, exit code 2, before any
file is written.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
import numpy as np

from accel.cli.options import (config_from_options, config_options, json_option, onnx_options,
                               write_json)
from accel.cli.paths import OutputDir, OutputFile

__all__ = ["compile_command", "run_command"]


def open_compiled(model: str, options: dict[str, Any]):
    """Load and compile ``model`` for the configuration in ``options`` (one-line errors)."""
    from accel.runtime.model import compile_model

    config = config_from_options(options)
    calibration, mean, std = (options.pop(k) for k in ("calibration", "mean", "std"))
    try:
        return compile_model(model, config, calibration=calibration, mean=mean, std=std)
    except ValueError as exc:
        raise click.UsageError(str(exc).splitlines()[0]) from None


def _table(model) -> list[dict]:
    from accel.perf.bound import graph_bound, node_bounds

    rows = model.info()
    cfg = model.config
    bounds = node_bounds(cfg, model.graph)
    click.echo(f"{model.graph.name}: {len(model.graph.nodes)} layers, {model.compiled.macs:,} "
               f"MACs, {model.compiled.commands:,} commands, on {cfg.rows}x{cfg.cols} "
               f"{cfg.dataflow.value}")
    click.echo(f"{'layer':<16} {'op':<10} {'output':<14} {'MACs':>10} {'accel MACs':>11} "
               f"{'runs on':<8} {'cycles':>9} {'bound':>8} {'% bound':>8}")
    for row in rows:
        shape = "x".join(str(v) for v in row["shape"])
        cycles = "-" if row["cycles"] is None else f"{row['cycles']:,}"
        bound = bounds.get(row["name"])
        row["bound"] = None if bound is None else bound.cycles
        share = f"{100 * bound.fraction(row['cycles']):.1f}%" \
            if bound is not None and row["cycles"] else "-"
        click.echo(f"{row['name'][:16]:<16} {row['op']:<10} {shape:<14} {row['macs']:>10,} "
                   f"{row['accel_macs']:>11,} {row['where']:<8} {cycles:>9} "
                   f"{'-' if bound is None else f'{bound.cycles:,}':>8} {share:>8}"
                   + (f"  {row['note']}" if row.get("note") else ""))
    predicted = sum(r["cycles"] or 0 for r in rows)
    whole = model.compiled.predicted_cycles()
    total = graph_bound(cfg, model.graph)
    click.echo(f"predicted {predicted:,} accelerator cycles (host steps excluded; {whole:,} "
               f"as whole programs); bound {total.cycles:,} cycles = max(MACs / "
               f"{cfg.rows * cfg.cols} PEs {total.compute:,}, minimal bytes / bus "
               f"{total.traffic:,}; each tensor moved once, {total.min_bytes:,} bytes)")
    return rows


@click.command(name="compile")
@click.argument("model", metavar="MODEL")
@click.option("--out", type=OutputDir(), required=True, metavar="DIR",
              help="Where to write the model file, program, SoC blob and C header.")
@click.option("--no-soc", is_flag=True,
              help="Skip the SoC blob (it needs the RISC-V GCC to build the firmware).")
@onnx_options
@config_options
@json_option("the per-layer table")
def compile_command(model: str, out: Path, no_soc: bool, json_path: Path | None,
                    **options: Any) -> None:
    """Compile MODEL (.onnx float/QDQ/QOperator, an accelgen .npz, or cnn/mlp) for an
    accelerator configuration.

    Prints one row per layer (op, output shape, MACs, where it runs, the cycle model's cycles)
    and writes into DIR: MODEL.npz (accelgen's model file, reload with --model), MODEL.s (the
    program as assembler text), MODEL.blob + MODEL.json (what the SoC's mnist firmware runs, with
    its load addresses) and accelgen.h.
    """
    from accel.build.artifacts import write_atomically
    from accel.build.firmware import FirmwareError
    from accel.runtime.model_artifacts import render_model_artifacts
    from accel.runtime.soc_image import SramTooSmall

    compiled = open_compiled(model, options)
    try:
        files = render_model_artifacts(compiled, soc=not no_soc)
    except SramTooSmall as exc:
        raise click.UsageError(f"{exc} (or give --no-soc)") from None
    except FirmwareError as exc:
        raise click.ClickException(f"{str(exc).splitlines()[0]} (or give --no-soc)") from None
    rows = _table(compiled)
    try:
        write_atomically(out, files)
    except OSError as exc:
        raise click.ClickException(f"cannot write to {str(out)!r}: {exc.strerror or exc}") \
            from None
    click.echo(f"accelgen: wrote {', '.join(files)} in {out}/")
    if json_path is not None:
        write_json(json_path, {"model": compiled.graph.name, "layers": [
            dict(r, shape=list(r["shape"])) for r in rows]})


def _load_inputs(path: Path) -> np.ndarray:
    try:
        data = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError) as exc:
        raise click.UsageError(f"{path}: not a readable .npy/.npz file "
                               f"({str(exc).splitlines()[0] if str(exc) else exc})") from None
    if isinstance(data, np.lib.npyio.NpzFile):
        with data:
            if not data.files:
                raise click.UsageError(f"{path}: the .npz holds no array")
            data = data[data.files[0]]
    return data


@click.command(name="run")
@click.option("--model", required=True, metavar="cnn|mlp|FILE",
              help="An .onnx file, an accelgen .npz (from accelgen compile), or cnn/mlp.")
@click.option("--input", "input_path", required=True,
              type=click.Path(dir_okay=False, exists=True, path_type=Path), metavar="X.npy",
              help="Inputs: uint8 pixels (mapped by the model's mean/std), or float values in "
                   "the model's own layout (NCHW for ONNX image models); a leading batch "
                   "dimension is optional.")
@click.option("--backend", type=click.Choice(["golden", "rtl", "soc"]), default="golden",
              show_default=True, help="Golden model, accelerator RTL, or the SoC with firmware.")
@click.option("--simulator", type=click.Choice(["verilator", "icarus"]), default="verilator",
              show_default=True, help="Simulator of the rtl and soc backends.")
@click.option("--out", "out_path", type=OutputFile(), default=None, metavar="Y.npy",
              help="Also save the dequantized outputs (float64, model layout).")
@onnx_options
@config_options
@json_option("the outputs and cycles")
def run_command(model: str, input_path: Path, backend: str, simulator: str,
                out_path: Path | None, json_path: Path | None, **options: Any) -> None:
    """Run a model on inputs from a .npy file: prints each input's top class and output values
    (dequantized), and cycles on the rtl and soc backends (checked against the golden model)."""
    compiled = open_compiled(model, options)
    inputs = _load_inputs(input_path)
    try:
        compiled.quantize(inputs)  # every input problem is found before simulating
        result = compiled.run(inputs, backend, simulator=simulator)
    except ValueError as exc:
        raise click.UsageError(str(exc).splitlines()[0]) from None
    except RuntimeError as exc:
        raise click.ClickException(str(exc).splitlines()[0]) from None
    for index, values in enumerate(result.outputs):
        flat = np.asarray(values).reshape(-1)
        cycles = "" if result.cycles is None else f" cycles {result.cycles[index]}"
        shown = ", ".join(f"{v:.4g}" for v in flat[:10]) + (", ..." if flat.size > 10 else "")
        click.echo(f"input {index}: top {int(np.argmax(flat))}{cycles} output [{shown}]")
    if out_path is not None:
        try:
            np.save(out_path, result.outputs)
        except OSError as exc:
            raise click.ClickException(f"cannot write to {str(out_path)!r}: "
                                       f"{exc.strerror or exc}") from None
    if json_path is not None:
        write_json(json_path, {"model": compiled.graph.name, "backend": backend,
                               "outputs": np.asarray(result.outputs).tolist(),
                               "raw": np.asarray(result.raw).tolist(),
                               "cycles": result.cycles})
