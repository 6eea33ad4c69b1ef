"""What the ``accelgen`` commands share: configuration flags, model opening, seeds, JSON output.

Every command module imports from here and from the `accel` layers below it, never from another
command module nor from `accel.cli` itself, so the package has no import circle.
"""

from __future__ import annotations

import contextlib
import copy
import json
import re
from dataclasses import fields
from pathlib import Path
from typing import Any, Sequence

import click

from accel.build.artifacts import write_atomically
from accel.cli.paths import OutputFile
from accel.config import DATAFLOWS, INT_RANGES, PRESETS, AccelConfig, ConfigError, preset

__all__ = ["AliasOption", "CONFIG_FIELDS", "config_flag", "config_from_options", "config_options",
           "flag_names", "json_option", "model_option", "open_model", "replace_config",
           "reported_errors", "seed_option", "write_json"]


def _range(name: str) -> str:
    lo, hi = INT_RANGES[name]
    return f"{lo}..{hi}"


class AliasOption(click.Option):
    """An option that also answers to older spellings (``aliases``) which its help does not show.

    Usage errors name only the shown spellings too.
    """

    def __init__(self, param_decls: Sequence[str], *, aliases: Sequence[str] = (),
                 **kwargs: Any) -> None:
        super().__init__([*param_decls, *aliases], **kwargs)
        self.aliases = tuple(aliases)

    def _shown(self) -> click.Option:
        shown = copy.copy(self)
        shown.opts = [name for name in self.opts if name not in self.aliases]
        return shown

    def get_help_record(self, ctx: click.Context) -> tuple[str, str] | None:
        return click.Option.get_help_record(self._shown(), ctx)

    def get_error_hint(self, ctx: click.Context) -> str:
        return click.Option.get_error_hint(self._shown(), ctx)


#: For every `AccelConfig` field: metavar and help of its flag; ``{range}`` becomes the field's
#: range from `INT_RANGES`. The flags themselves are made from `dataclasses.fields(AccelConfig)`,
#: so a new field gets a flag even before it gets a line here.
_FIELD_HELP: dict[str, tuple[str, str]] = {
    "rows": ("R", "PE rows of the systolic array ({range})."),
    "cols": ("C", "PE columns of the systolic array ({range})."),
    "dataflow": ("", "Weight-stationary (ws) or output-stationary (os)."),
    "input_width": ("BITS", "Bits of a signed input element ({range})."),
    "acc_width": ("BITS", "Bits of a signed accumulator ({range}; at least 2 x input width)."),
    "sp_kib": ("KIB", "Scratchpad capacity in KiB ({range})."),
    "acc_kib": ("KIB", "Accumulator capacity in KiB ({range})."),
    "sp_banks": ("N", "Scratchpad banks, a power of two ({range})."),
    "acc_banks": ("N", "Accumulator banks, a power of two ({range})."),
    "bus_width": ("BITS", "Main-memory (Wishbone) data width in bits: 8, 16, 32, 64, 128 or 256."),
    "mem_addr_width": ("BITS", "Bits of a main-memory byte address ({range})."),
    "soc_sram_kib": ("KIB", "SoC on-chip SRAM (firmware and data) in KiB, a power of two "
                            "({range})."),
    "name": ("NAME", "Free-form name recorded in the manifest."),
}

#: Older spellings of config flags, still accepted (not shown in the help).
_FIELD_ALIASES: dict[str, tuple[str, ...]] = {"soc_sram_kib": ("--sram-kib",)}

#: Every `AccelConfig` field, in declaration order; `config_options` adds a flag for each.
CONFIG_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(AccelConfig))


def config_flag(name: str) -> str:
    """The flag that sets the `AccelConfig` field ``name``: ``--`` and the name with dashes."""
    return "--" + name.replace("_", "-")


def _field_option(name: str):
    metavar, text = _FIELD_HELP.get(name, ("VALUE", f"The configuration's {name}."))
    kind: Any = str
    if name == "dataflow":
        kind = click.Choice(DATAFLOWS)
    elif name in INT_RANGES:
        kind = int
        text = text.replace("{range}", _range(name))
    return click.option(config_flag(name), name, cls=AliasOption,
                        aliases=_FIELD_ALIASES.get(name, ()), type=kind,
                        metavar=metavar or None, help=text)


def config_options(command):
    """Add the options that choose a configuration: a flag per `AccelConfig` field (`CONFIG_FIELDS`,
    see `config_flag`), --preset and --config."""
    options = [_field_option(name) for name in CONFIG_FIELDS]
    options += [
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
    except ConfigError as exc:
        raise click.UsageError(str(exc)) from None
    return replace_config(base, {name: value for name, value in overrides.items()
                                 if value is not None})


_FIELDS = "|".join(sorted(CONFIG_FIELDS, key=len, reverse=True))
#: A field as the subject of a rule (``rows must``, ``sp_kib=4``) or in a formula (``2 * rows``).
_FIELD_IN_RULE = re.compile(rf"(?<![\w-])({_FIELDS})(?= must\b|=)|(?<=\* )({_FIELDS})\b")


def flag_names(message: str) -> str:
    """``message`` (a `ConfigError`'s) with the fields it names spelt as their flags:
    ``soc_sram_kib must be ...`` becomes ``--soc-sram-kib must be ...``."""
    return _FIELD_IN_RULE.sub(lambda match: config_flag(match.group(1) or match.group(2)),
                              message)


def replace_config(base: AccelConfig, changes: dict[str, Any]) -> AccelConfig:
    """``base`` with the ``changes`` its flags asked for.

    Raises
    ------
    click.UsageError
        The result is invalid; the one line names flags, not fields (see `flag_names`).
    """
    try:
        return base.replace(**changes) if changes else base
    except ConfigError as exc:
        raise click.UsageError(flag_names(str(exc))) from None


def open_model(spec: str):
    """The `QuantizedNetwork` named by ``spec``: a model file, or ``cnn``/``mlp`` for a
    committed default model (a file of that name wins).

    Raises
    ------
    click.UsageError
        The file is missing or malformed (one line).
    """
    from accel.nn.model_file import DEFAULT_MODELS, ModelFileError, load, load_default

    if not Path(spec).exists():
        if spec in DEFAULT_MODELS:
            return load_default(spec)
        raise click.UsageError(f"no model {spec!r}: give a model file (.npz) or one of "
                               f"{', '.join(DEFAULT_MODELS)}")
    try:
        return load(spec)
    except ModelFileError as exc:
        raise click.UsageError(str(exc)) from None


def open_any_model(spec: str, calibration=None, mean: float | None = None,
                   std: float | None = None):
    """`open_model` for native models (a `QuantizedNetwork`); an ONNX file or an accelgen graph
    file (from ``accelgen compile``) as a `Graph` (`accel.runtime.model.load_model`).

    Raises
    ------
    click.UsageError
        The model is missing, malformed or unsupported (one line).
    """
    path = Path(spec)
    native = (not path.exists() and spec in ("cnn", "mlp")) or (
        path.suffix.lower() == ".npz" and path.is_file() and not _is_graph_file(path))
    if native and calibration is None and mean is None and std is None:
        return open_model(spec)
    from accel.runtime.model import load_model

    try:
        return load_model(spec, calibration=calibration, mean=mean, std=std)
    except ValueError as exc:
        raise click.UsageError(str(exc).splitlines()[0]) from None


def _is_graph_file(path: Path) -> bool:
    from accel.compiler.graph_file import is_graph_file

    return is_graph_file(path)


def onnx_options(command):
    """``--calibration``, ``--mean`` and ``--std`` (ONNX models; passed as ``calibration``,
    ``mean`` and ``std``)."""
    options = [
        click.option("--calibration", type=click.Path(dir_okay=False, path_type=Path),
                     metavar="FILE", help="Float ONNX models: calibration inputs (.npy, or the "
                     "first array of an .npz); uint8 arrays are pixels. Default: offline MNIST "
                     "training samples for 28x28x1 inputs."),
        click.option("--mean", type=float, default=None,
                     help="ONNX models: the model sees (pixel / 255 - mean) / std (default 0)."),
        click.option("--std", type=float, default=None,
                     help="ONNX models: see --mean (default 1; 0.00392156862745098 for models "
                     "taking raw 0..255 pixels)."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def model_option(default: str | None, help: str):
    """The ``--model`` option (a model file, or ``cnn``/``mlp``; see `open_model`), passed to the
    command as ``model``."""
    return click.option("--model", default=default, show_default=default is not None,
                        metavar="cnn|mlp|FILE", help=help)


def json_option(what: str = "the figures"):
    """The ``--json FILE`` option (passed as ``json_path``): also write ``what`` as JSON."""
    return click.option("--json", "json_path", type=OutputFile(),
                        default=None, metavar="FILE", help=f"Also write {what} as JSON.")


def seed_option(help: str):
    """The ``--seed`` option (a non-negative integer, default 0) with the command's own
    ``help``."""
    return click.option("--seed", type=click.IntRange(0), default=0, show_default=True,
                        help=help)


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


@contextlib.contextmanager
def reported_errors(out: Path, *, usage: tuple[type[Exception], ...] = (),
                    failure: tuple[type[Exception], ...] = ()):
    """Report the work's exceptions as the CLI does: ``usage`` ones are a bad request (exit 2),
    ``failure`` ones and an `OSError` (naming ``out``) a failure of the work (exit 1)."""
    try:
        yield
    except usage as exc:
        raise click.UsageError(str(exc)) from None
    except failure as exc:
        raise click.ClickException(str(exc)) from None
    except OSError as exc:
        raise click.ClickException(f"cannot write to {str(out)!r}: {exc.strerror or exc}") \
            from None
