"""``accelgen isa``: print what derives from the ISA spec (reference page, C header)."""

from __future__ import annotations

from typing import Any

import click

from accel.cli.options import config_from_options, config_options

__all__ = ["isa"]


@click.group()
def isa() -> None:
    """Print artifacts derived from the ISA spec."""


@isa.command()
def docs() -> None:
    """Print the Markdown ISA reference (the committed docs/isa.md)."""
    from accel.isa import render_markdown

    click.echo(render_markdown(), nl=False)


@isa.command()
@config_options
def header(**options: Any) -> None:
    """Print the firmware C header for a configuration."""
    from accel.isa import render_c_header

    click.echo(render_c_header(config_from_options(options)), nl=False)
