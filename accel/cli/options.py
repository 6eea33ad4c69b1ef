"""What the ``accelgen`` commands share: configuration flags, model opening, seeds, JSON output.

Every command module imports from here and from the `accel` layers below it, never from another
command module nor from `accel.cli` itself, so the package has no import circle.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from accel.build.artifacts import write_atomically
from accel.config import DATAFLOWS, INT_RANGES, PRESETS, AccelConfig, ConfigError, preset

__all__ = ["CONFIG_FIELDS", "config_from_options", "config_options", "open_model",
           "seed_option", "write_json"]


def _range(name: str) -> str:
    lo, hi = INT_RANGES[name]
    return f"{lo}..{hi}"


#: The `AccelConfig` fields `config_options` adds a flag for (``--rows`` for ``rows``, ...).
CONFIG_FIELDS = ("rows", "cols", "dataflow", "input_width", "acc_width", "soc_sram_kib")


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
    overrides = {name: options.pop(name) for name in CONFIG_FIELDS}
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


def open_model(spec: str):
    """The `QuantizedNetwork` named by ``spec``: a model file, or ``cnn``/``mlp`` for a
    committed default model (a file of that name wins).

    Raises
    ------
    click.UsageError
        The file is missing or malformed (one line).
    """
    from accel.nn.model_file import DEFAULT_MODELS, ModelFileError, load, load_default

    try:
        if not Path(spec).exists() and spec in DEFAULT_MODELS:
            return load_default(spec)
        return load(spec)
    except ModelFileError as exc:
        raise click.UsageError(str(exc)) from None


def seed_option(help: str):
    """The ``--seed`` option (an integer, default 0) with the command's own ``help``."""
    return click.option("--seed", type=int, default=0, show_default=True, help=help)


def write_json(path: Path, data: Any) -> None:
    """Write ``data`` to ``path`` as indented JSON, atomically.

    Raises
    ------
    click.ClickException
        The file cannot be written (one line, exit code 1).
    """
    text = json.dumps(data, indent=2) + "\n"
    try:
        write_atomically(path.parent, {path.name: text.encode()})
    except OSError as exc:
        raise click.ClickException(f"cannot write {str(path)!r}: {exc.strerror or exc}") \
            from None
