"""What the commands that simulate the emitted Verilog share: ``--waves`` / ``--waves-file``
and the progress lines on stderr.

`simulation_options` adds the two options, turns them into an `accel.runtime.rtl.Waves` passed
to the command as ``waves`` (or ``None``), and while the command runs shows the INFO lines of
the ``accelgen`` loggers (which Verilog is emitted, which simulator model is built or found in
the cache, and where) as ``accelgen: ...`` on stderr. When the command ends, even by failing,
it prints ``accelgen: waveform in <path>`` for every waveform written. Stdout, and so ``--json``
and piped output, stays clean.
"""

from __future__ import annotations

import contextlib
import functools
import logging
from pathlib import Path
from typing import Any, Callable, Iterator

import click

from accel.cli.paths import OutputFile

__all__ = ["progress", "simulation_options"]

_FORMATS = ("fst", "vcd")


class _EchoHandler(logging.Handler):
    """Echo log records to the current stderr (looked up per record, as click's test runner
    swaps the streams)."""

    def emit(self, record: logging.LogRecord) -> None:
        click.echo(f"accelgen: {record.getMessage()}", err=True)


@contextlib.contextmanager
def _show_logs() -> Iterator[None]:
    logger = logging.getLogger("accelgen")
    handler = _EchoHandler(logging.INFO)
    level = logger.level
    logger.addHandler(handler)
    if logger.getEffectiveLevel() > logging.INFO:
        logger.setLevel(logging.INFO)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def progress(what: str, total: int) -> Callable[[int], None]:
    """A callback for `accel.runtime.evaluate.evaluate` and friends: called with the number of items
    just finished, it prints ``accelgen: <what> <done>/<total>`` to stderr."""
    done = 0

    def update(count: int) -> None:
        nonlocal done
        done += count
        click.echo(f"accelgen: {what} {done}/{total}", err=True)

    return update


def _waves(fmt: str | None, path: Path | None, label: str):
    if path is not None and fmt is None:
        fmt = path.suffix[1:].lower()
        if fmt not in _FORMATS:
            raise click.UsageError(f"--waves-file {str(path)!r}: name a .fst or .vcd file, or "
                                   f"give --waves fst|vcd")
    elif path is not None and path.suffix[1:].lower() in _FORMATS \
            and path.suffix[1:].lower() != fmt:
        raise click.UsageError(f"--waves {fmt} does not match --waves-file {str(path)!r}")
    if fmt is None:
        return None
    from accel.runtime.rtl import Waves

    return Waves(fmt, path, label)


def simulation_options(label: str):
    """Add ``--waves`` and ``--waves-file`` to a command that simulates; see the module
    docstring. ``label`` names the default waveform file (``<cache>/runs/<label>.<format>``)."""

    def decorate(command: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(command)
        def run(*args: Any, waves: str | None, waves_file: Path | None, **kwargs: Any) -> Any:
            recorder = _waves(waves, waves_file, label)
            try:
                with _show_logs():
                    return command(*args, waves=recorder, **kwargs)
            finally:
                for path in recorder.written if recorder is not None else ():
                    click.echo(f"accelgen: waveform in {path}", err=True)

        run = click.option("--waves-file", type=OutputFile(), default=None, metavar="FILE",
                           help=f"Where the waveform goes (a later simulator run of the same "
                                f"command writes FILE-2, ...); default <cache>/runs/{label}"
                                f".<format>.")(run)
        return click.option("--waves", type=click.Choice(_FORMATS), default=None,
                            help="Record every signal's waveform (FST: compact, for GTKWave or "
                                 "Surfer; VCD: plain text).")(run)

    return decorate
