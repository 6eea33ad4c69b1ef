"""``accelgen``: the command-line interface.

A click group whose commands mirror the phases of using a generated accelerator (``build`` now;
``sim``, ``run``, ``board``, ``bench`` slot in as further commands). Bad input is reported as ONE
line ``Error: ...`` with exit code 2, never a traceback.

``accelgen build`` renders every artifact in memory first (`accel.build.artifacts`), then writes them
atomically: on any failure no file is created or half-written.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from accel import __version__
from accel.config import DATAFLOWS, INT_RANGES, PRESETS, AccelConfig, ConfigError, preset
from accel.build.artifacts import render_artifacts, write_atomically
from accel.build.verilog import DEFAULT_TOP, TOPS

__all__ = ["build", "main"]

#: Raised (click >= 8.2) to print the help when a group gets no arguments; it needs its context.
_HELP_REQUESTS = getattr(click.exceptions, "NoArgsIsHelpError", ())


class _OneLineErrors(click.Group):
    """A group whose usage errors print only ``Error: ...`` (no usage block), exit code 2."""

    def make_context(self, *args: Any, **kwargs: Any) -> click.Context:
        try:
            return super().make_context(*args, **kwargs)
        except click.UsageError as exc:
            if not isinstance(exc, _HELP_REQUESTS):
                exc.ctx = None
            raise

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.UsageError as exc:
            if not isinstance(exc, _HELP_REQUESTS):
                exc.ctx = None
            raise


@click.group(cls=_OneLineErrors)
@click.version_option(__version__, prog_name="accelgen")
def main() -> None:
    """accelgen: generate systolic-array AI accelerators (Amaranth HDL -> Verilog)."""


def _range(name: str) -> str:
    lo, hi = INT_RANGES[name]
    return f"{lo}..{hi}"


_CONFIG_FIELDS = ("rows", "cols", "dataflow", "input_width", "acc_width", "soc_sram_kib")


def config_options(command):
    """Add the options that choose a configuration (--rows ... --preset, --config)."""
    options = [
        click.option("--rows", type=int, metavar="R",
                     help=f"PE rows of the systolic array ({_range('rows')})."),
        click.option("--cols", type=int, metavar="C",
                     help=f"PE columns of the systolic array ({_range('cols')})."),
        click.option("--dataflow", type=click.Choice(DATAFLOWS),
                     help="Weight-stationary (ws) or output-stationary (os)."),
        click.option("--input-width", type=int, metavar="BITS",
                     help=f"Bits of a signed input element ({_range('input_width')})."),
        click.option("--acc-width", type=int, metavar="BITS",
                     help=f"Bits of a signed accumulator ({_range('acc_width')}; "
                          f"at least 2 x input width)."),
        click.option("--soc-sram-kib", type=int, metavar="KIB",
                     help=f"SoC on-chip SRAM in KiB, a power of two "
                          f"({_range('soc_sram_kib')})."),
        click.option("--preset", "preset_name", metavar="NAME",
                     help=f"Start from a preset: {', '.join(PRESETS)} (default: default)."),
        click.option("--config", "config_file", type=click.Path(path_type=Path),
                     metavar="FILE.json",
                     help="Start from a JSON configuration file, or the manifest.json of an "
                          "earlier build (exclusive with --preset). Flags given override its "
                          "fields."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def config_from_options(options: dict[str, Any]) -> AccelConfig:
    """The configuration chosen by `config_options`' values (popped from ``options``).

    Raises
    ------
    click.UsageError
        On any invalid choice (one line, exit code 2).
    """
    preset_name = options.pop("preset_name")
    config_file = options.pop("config_file")
    overrides = {name: options.pop(name) for name in _CONFIG_FIELDS}
    if preset_name is not None and config_file is not None:
        raise click.UsageError("--preset and --config are mutually exclusive")
    try:
        if config_file is not None:
            base = AccelConfig.from_file(config_file)
        else:
            base = preset(preset_name if preset_name is not None else "default")
        changes = {name: value for name, value in overrides.items() if value is not None}
        return base.replace(**changes) if changes else base
    except ConfigError as exc:
        raise click.UsageError(str(exc)) from None


@main.command()
@config_options
@click.option("--top", type=click.Choice(list(TOPS)), default=DEFAULT_TOP,
              show_default=True,
              help="Top level to emit: the whole accelerator, or the systolic array alone.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("build"),
              show_default=True, help="Output directory (created if missing).")
@click.option("--firmware", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              metavar="IMAGE.bin",
              help="soc top only: bake this firmware image (from `accelgen firmware build`) "
                   "into the SRAM's initial contents.")
def build(top: str, out: Path, firmware: Path | None, **options: Any) -> None:
    """Emit <top>.v, accelgen.h and manifest.json for one configuration.

    The configuration is the default preset (16x16, ws, int8 -> int32), or --preset, or
    --config, with the given flags overriding its fields. Files are written atomically.
    """
    config = config_from_options(options)
    image = firmware.read_bytes() if firmware is not None else None
    try:
        files = render_artifacts(config, top, firmware=image)
    except (ConfigError, ValueError) as exc:
        raise click.UsageError(str(exc)) from None
    try:
        write_atomically(out, files)
    except OSError as exc:
        raise click.ClickException(f"cannot write to {str(out)!r}: {exc.strerror or exc}") \
            from None
    click.echo(f"accelgen: {top} {config.rows}x{config.cols} {config.dataflow}, "
               f"{config.pe_count} PEs, int{config.input_width} -> int{config.acc_width}, "
               f"in {out}/")
    for name, data in files.items():
        click.echo(f"  {name:<16} {len(data):>10,} bytes")


def _register_commands() -> None:
    # Each module adds its commands to `main`.
    from accel.cli import (board, firmware, fuzz, isa, matmul,  # noqa: F401
                           mnist, predict, sim, sweep)


_register_commands()
