"""``accelgen``: the command-line interface.

A click group whose commands mirror the phases of using a generated accelerator (``build`` now;
``sim``, ``run``, ``board``, ``bench`` slot in as further commands). Bad input is reported as ONE
line ``Error: ...`` with exit code 2, never a traceback.

``accelgen build`` renders every artifact in memory first (Verilog, C header, manifest), then
writes each to a temporary file in the output directory and moves them into place with
``os.replace``: on any failure no file is created or half-written.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
from pathlib import Path
from typing import Any

import click

from . import __version__
from .config import DATAFLOWS, INT_RANGES, PRESETS, AccelConfig, ConfigError, preset
from .verilog import TOPS, generate_verilog

__all__ = ["build", "main", "render_artifacts", "write_atomically"]

HEADER_NAME = "accelgen.h"
MANIFEST_NAME = "manifest.json"


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


def render_artifacts(config: AccelConfig, top: str = "array") -> dict[str, bytes]:
    """Every file ``accelgen build`` writes, rendered in memory, in writing order.

    Returns ``{file name: content}``: ``<top>.v``, ``accelgen.h`` and, last, ``manifest.json``,
    which records every configuration field, the derived values, the top, the ISA version, the
    accelgen version and the size and SHA-256 of each other file. Deterministic: no timestamps.

    Raises
    ------
    ConfigError
        When ``top`` is not a registered top level.
    """
    from .isa import ISA_VERSION, render_c_header

    files = {
        f"{top}.v": generate_verilog(config, top).encode(),
        HEADER_NAME: render_c_header(config).encode(),
    }
    manifest = {
        "generator": "accelgen",
        "accelgen_version": __version__,
        "isa_version": ISA_VERSION,
        "top": top,
        "config": config.to_dict(),
        "derived": config.derived(),
        "files": {name: {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
                  for name, data in files.items()},
    }
    files[MANIFEST_NAME] = (json.dumps(manifest, indent=2) + "\n").encode()
    return files


def write_atomically(out: Path, files: dict[str, bytes]) -> None:
    """Write ``files`` into ``out`` (created if missing) so that none is ever half-written.

    Every file goes to a temporary file in ``out`` first; only when all are written are they moved
    into place, in order, with ``os.replace``. On failure the temporary files are removed.
    """
    out.mkdir(parents=True, exist_ok=True)
    temps: list[tuple[str, Path]] = []
    try:
        for name, data in files.items():
            tmp = out / f".{name}.{secrets.token_hex(6)}.tmp"
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # mode honours umask
            temps.append((name, tmp))
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
        for name, tmp in temps:
            os.replace(tmp, out / name)
    finally:
        for _, tmp in temps:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()


def _config(preset_name: str | None, config_file: Path | None,
            overrides: dict[str, Any]) -> AccelConfig:
    if preset_name is not None and config_file is not None:
        raise click.UsageError("--preset and --config are mutually exclusive")
    if config_file is not None:
        base = AccelConfig.from_file(config_file)
    else:
        base = preset(preset_name if preset_name is not None else "default")
    changes = {name: value for name, value in overrides.items() if value is not None}
    return base.replace(**changes) if changes else base


@main.command()
@click.option("--rows", type=int, metavar="R",
              help=f"PE rows of the systolic array ({_range('rows')}).")
@click.option("--cols", type=int, metavar="C",
              help=f"PE columns of the systolic array ({_range('cols')}).")
@click.option("--dataflow", type=click.Choice(DATAFLOWS),
              help="Weight-stationary (ws) or output-stationary (os).")
@click.option("--input-width", type=int, metavar="BITS",
              help=f"Bits of a signed input element ({_range('input_width')}).")
@click.option("--acc-width", type=int, metavar="BITS",
              help=f"Bits of a signed accumulator ({_range('acc_width')}; "
                   f"at least 2 x input width).")
@click.option("--preset", "preset_name", metavar="NAME",
              help=f"Start from a preset: {', '.join(PRESETS)} (default: default).")
@click.option("--config", "config_file", type=click.Path(path_type=Path), metavar="FILE.json",
              help="Start from a JSON configuration file, or the manifest.json of an earlier "
                   "build (exclusive with --preset). Flags given override its fields.")
@click.option("--top", type=click.Choice(list(TOPS)), default="array", show_default=True,
              help="Top level to emit.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("build"),
              show_default=True, help="Output directory (created if missing).")
def build(rows: int | None, cols: int | None, dataflow: str | None, input_width: int | None,
          acc_width: int | None, preset_name: str | None, config_file: Path | None, top: str,
          out: Path) -> None:
    """Emit <top>.v, accelgen.h and manifest.json for one configuration.

    The configuration is the default preset (16x16, ws, int8 -> int32), or --preset, or
    --config, with the given flags overriding its fields. Files are written atomically.
    """
    try:
        config = _config(preset_name, config_file, dict(
            rows=rows, cols=cols, dataflow=dataflow, input_width=input_width,
            acc_width=acc_width))
        files = render_artifacts(config, top)
    except ConfigError as exc:
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


if __name__ == "__main__":  # pragma: no cover
    main()
