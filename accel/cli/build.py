"""``accelgen build``: emit the Verilog, C header and manifest of one configuration.

Every artifact is rendered in memory first (`accel.build.artifacts`), then written atomically:
on any failure no file is created or half-written.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from click.core import ParameterSource

from accel.build.artifacts import render_artifacts, write_build
from accel.build.verilog import DEFAULT_TOP, TOPS
from accel.cli.build_inputs import firmware_image, manifest_of
from accel.cli.options import config_from_options, config_options
from accel.cli.paths import OutputDir
from accel.config import ConfigError

__all__ = ["build"]

#: What each top level is, for the --top help; a top missing here is still listed by name.
_TOP_HELP = {"accelerator": "the whole accelerator", "array": "the systolic array alone",
             "soc": "the SoC, PicoRV32 with SRAM, UART and the accelerator"}


def _top_help() -> str:
    tops = "; ".join(f"{name}: {_TOP_HELP[name]}" if name in _TOP_HELP else name for name in TOPS)
    return f"Top level to emit ({tops})."


@click.command()
@config_options
@click.option("--top", type=click.Choice(list(TOPS)), default=DEFAULT_TOP,
              show_default=True,
              help=_top_help())
@click.option("--out", type=OutputDir(), default=Path("build"),
              show_default=True, help="Output directory (created if missing).")
@click.option("--firmware", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              metavar="IMAGE.bin",
              help="soc top only: bake this firmware image (from `accelgen firmware build`) "
                   "into the SRAM's initial contents.")
def build(top: str, out: Path, firmware: Path | None, **options: Any) -> None:
    """Emit <top>.v, accelgen.h and manifest.json for one configuration.

    The configuration is the default preset (16x16, ws, int8 -> int32), or --preset, or
    --config, with the given flags overriding its fields. Files are written atomically. A
    manifest.json as --config reproduces its build: its top unless --top is given, and its
    firmware image (beside it, or given again with --firmware).
    """
    config_file = options["config_file"]
    config = config_from_options(options)
    manifest = manifest_of(config_file)
    source = click.get_current_context().get_parameter_source("top")
    if manifest is not None and source is ParameterSource.DEFAULT:
        top = manifest["top"]
        if top not in TOPS:
            raise click.UsageError(f"{str(config_file)!r} records the top {top!r}, which is not "
                                   f"one of {', '.join(TOPS)}")
    image = firmware_image(firmware, config, top, manifest, config_file)
    try:
        files = render_artifacts(config, top, firmware=image)
    except (ConfigError, ValueError) as exc:
        raise click.UsageError(str(exc)) from None
    try:
        write_build(out, files)
    except OSError as exc:
        raise click.ClickException(f"cannot write to {str(out)!r}: {exc.strerror or exc}") \
            from None
    click.echo(f"accelgen: {top} {config.rows}x{config.cols} {config.dataflow}, "
               f"{config.pe_count} PEs, int{config.input_width} -> int{config.acc_width}, "
               f"in {out}/")
    for name, data in files.items():
        click.echo(f"  {name:<16} {len(data):>10,} bytes")
