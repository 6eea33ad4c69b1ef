"""Output paths proven writable when the command line is parsed, before any slow work.

`OutputDir` and `OutputFile` are `click.Path` types that also try the path: a directory is
created where the output would go and removed again (or, if it exists, a file is created in it and
removed again). A path that cannot be written is a usage error naming the option (exit code 2), so
no command elaborates, simulates or trains for minutes and then fails to save what it made.
`require_output_dir` does the same for a directory a command computes itself.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import click

__all__ = ["OutputDir", "OutputFile", "require_output_dir", "why_not_writable"]


def _nearest_existing(path: Path) -> Path:
    for candidate in (path, *path.parents):
        if os.path.lexists(candidate):
            return candidate
    return Path(".")


def why_not_writable(directory: Path) -> str | None:
    """Why files cannot be written into ``directory`` (created with its parents if missing),
    or None when they can. Leaves the file system as it found it."""
    existing = _nearest_existing(directory)
    if not existing.is_dir():
        return f"{str(existing)!r} is not a directory"
    try:
        if existing == directory:
            with tempfile.TemporaryFile(dir=directory):
                pass
        else:
            os.rmdir(tempfile.mkdtemp(prefix=".accelgen-", dir=existing))
    except OSError as exc:
        return f"cannot write in {str(existing)!r}: {exc.strerror or exc}"
    return None


class _Output(click.Path):
    """A path the command writes into ``_directory(path)``, tried when it is parsed."""

    #: Why an empty value is refused.
    empty = "must not be empty"

    def _directory(self, path: Path) -> Path:
        raise NotImplementedError

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> Path:
        if isinstance(value, str) and not value:
            self.fail(f"the {self.name} {self.empty}", param, ctx)
        path = super().convert(value, param, ctx)  # refuses a file for a directory, and back
        problem = (None if ctx is not None and ctx.resilient_parsing
                   else why_not_writable(self._directory(path)))
        if problem is not None:
            self.fail(f"{str(path)!r}: {problem}", param, ctx)
        return path


class OutputDir(_Output):
    """A directory the command writes into: not empty, and writable (created if missing)."""

    name = "directory"
    empty = "must not be empty (write . for the current directory)"

    def __init__(self) -> None:
        super().__init__(file_okay=False, path_type=Path)

    def _directory(self, path: Path) -> Path:
        return path


class OutputFile(_Output):
    """A file the command writes: not a directory, in a writable directory (created if
    missing)."""

    name = "file"
    empty = "name must not be empty"

    def __init__(self) -> None:
        super().__init__(dir_okay=False, path_type=Path)

    def _directory(self, path: Path) -> Path:
        return path.parent


def require_output_dir(path: Path, option: str) -> None:
    """Check a directory a command chose itself (e.g. from a default) as `OutputDir` would.

    Raises
    ------
    click.UsageError
        ``path`` cannot be written (one line, exit code 2).
    """
    problem = why_not_writable(path)
    if problem is not None:
        raise click.UsageError(f"cannot write {option} {str(path)!r}: {problem}")
