"""``--timeline FILE.png``: where a command's cycles went, drawn per unit against the bound.

`timeline_option` adds the option (a writable file, checked when the command line is parsed);
`write_timeline` draws an `accel.perf.timeline.Timeline` into it with
`accel.runtime.timeline_plot` and reports a file that cannot be written in one line.
"""

from __future__ import annotations

from pathlib import Path

import click

from accel.cli.paths import OutputFile

__all__ = ["timeline_option", "write_timeline"]


def timeline_option(source: str):
    """The ``--timeline FILE.png`` option (passed as ``timeline_path``); ``source`` says where
    the intervals come from, for the help."""
    return click.option("--timeline", "timeline_path", type=OutputFile(), default=None,
                        metavar="FILE.png",
                        help=f"Draw per-unit busy intervals ({source}) over time against the "
                             f"bound into a PNG.")


def write_timeline(path: Path, timeline, config) -> None:
    """Draw ``timeline`` (of a workload on ``config``) into ``path``.

    Raises
    ------
    click.ClickException
        The file cannot be written (one line, exit code 1).
    """
    from accel.runtime.timeline_plot import write_timeline_png

    try:
        write_timeline_png(timeline, config, path)
    except OSError as exc:
        raise click.ClickException(f"cannot write {str(path)!r}: {exc.strerror or exc}") \
            from None
    click.echo(f"accelgen: timeline in {path}", err=True)
