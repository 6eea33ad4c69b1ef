"""Verilog emission of accelgen's top levels.

Each top level is a factory from an :class:`~accel.config.AccelConfig` to an Amaranth component,
registered in :data:`TOPS`; adding a top is one line there. Emission is deterministic: the same
configuration gives byte-identical Verilog in every run and process (no source-location
attributes, so no paths; no timestamps).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from accel.config import AccelConfig, ConfigError

if TYPE_CHECKING:
    from amaranth.hdl import Elaboratable

__all__ = ["DEFAULT_TOP", "TOPS", "build_top", "generate", "generate_verilog", "port_table"]


def _array(config: AccelConfig) -> "Elaboratable":
    from accel.systolic.array import SystolicArray

    return SystolicArray(rows=config.rows, cols=config.cols, dataflow=config.dataflow,
                         input_width=config.input_width, acc_width=config.acc_width)


def _accelerator(config: AccelConfig) -> "Elaboratable":
    from accel.accelerator import Accelerator

    return Accelerator(config)


def _soc(config: AccelConfig, firmware: bytes | None = None) -> "Elaboratable":
    from accel.soc.soc import SoC

    return SoC(config, firmware=firmware)


#: Top-level name -> factory building that top's component from a configuration. The first is
#: the default.
TOPS: dict[str, Callable[[AccelConfig], "Elaboratable"]] = {
    "accelerator": _accelerator,
    "array": _array,
    "soc": _soc,
}

#: The top level emitted when none is named.
DEFAULT_TOP = next(iter(TOPS))


def build_top(config: AccelConfig, top: str = DEFAULT_TOP, *,
              firmware: bytes | None = None) -> "Elaboratable":
    """The (not yet elaborated) component of top level ``top`` for ``config``.

    Raises
    ------
    ConfigError
        When ``top`` is not a registered top level.
    """
    try:
        factory = TOPS[top]
    except KeyError:
        raise ConfigError(f"top must be one of {', '.join(TOPS)}, not {top!r}") from None
    if firmware is not None:
        if top != "soc":
            raise ConfigError(f"a firmware image only goes into the soc top, not {top!r}")
        return factory(config, firmware=firmware)
    return factory(config)


def generate_verilog(config: AccelConfig, top: str = DEFAULT_TOP) -> str:
    """Verilog text of top level ``top`` built from ``config``.

    The Verilog module is named ``top``. Output is byte-identical for equal configurations.

    Parameters
    ----------
    config : AccelConfig
        The validated configuration.
    top : str
        A key of :data:`TOPS`: ``"accelerator"`` (the default: the programmable accelerator
        with its command port and Wishbone master), ``"array"`` (the systolic MAC array
        alone) or ``"soc"`` (PicoRV32 + SRAM + UART/timer/LEDs + the accelerator; its Verilog
        instantiates ``picorv32``, whose source is `accel.soc.soc.picorv32_source`).

    Raises
    ------
    ConfigError
        When ``top`` is not a registered top level.
    """
    return _convert(build_top(config, top), top)


def _convert(component: "Elaboratable", name: str) -> str:
    from amaranth.back import verilog

    return verilog.convert(component, name=name, emit_src=False)


def port_table(component) -> list[dict]:
    """The Verilog ports of a top-level component: name, direction and width, with the field
    layout of structured payloads (``clk`` and ``rst`` are added by emission)."""
    from amaranth import Shape
    from amaranth.lib import data, wiring

    ports = []
    for path, member in component.signature.members.flatten():
        if not member.is_port:
            continue
        entry = {"name": "__".join(str(part) for part in path),
                 "direction": "input" if member.flow == wiring.In else "output",
                 "width": Shape.cast(member.shape).width}
        if isinstance(member.shape, data.StructLayout):
            entry["fields"] = {name: {"offset": field.offset, "width": field.width}
                               for name, field in member.shape}
        ports.append(entry)
    return ports


def generate(config: AccelConfig, top: str = DEFAULT_TOP, *,
             firmware: bytes | None = None) -> tuple[str, list[dict]]:
    """Verilog text and `port_table` of top level ``top`` (one elaboration)."""
    component = build_top(config, top, firmware=firmware)
    return _convert(component, top), port_table(component)
