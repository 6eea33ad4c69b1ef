"""``accelgen cache``: where accelgen caches builds, how big each kind is, and removing it
(see `accel.util.cache`)."""

from __future__ import annotations

from pathlib import Path

import click

from accel.util.cache import (
    CACHE_ENV, KINDS, CacheError, KindUsage, cache_root, clean, root_source, usage,
)
from accel.cli.options import json_option, write_json

__all__ = ["cache"]



def _size(count: int) -> str:
    """``count`` bytes for people: ``512 B``, ``1.5 KiB``, ``333.0 MiB``."""
    value = float(count)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{count} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def _where() -> str:
    source = root_source()
    if source == "platformdirs":
        return f"the user cache directory; set {CACHE_ENV} to move it"
    return f"from ${source}"


def _entries(entries: list[KindUsage]) -> dict:
    return {e.kind: {"path": str(e.path), "files": e.files, "bytes": e.bytes,
                     "description": KINDS[e.kind]} for e in entries}


@click.group()
def cache() -> None:
    """Show or remove what accelgen caches: simulator builds, firmware, sweep results, ..."""


@cache.command()
@json_option("the location and the sizes")
def info(json_path: Path | None) -> None:
    """Print where the cache lives and the size of each kind of cached result."""
    root, entries = cache_root(), usage()
    total_files = sum(e.files for e in entries)
    total = sum(e.bytes for e in entries)
    data = {"root": str(root), "source": root_source(), "exists": root.is_dir(),
            "kinds": _entries(entries), "total_files": total_files, "total_bytes": total}
    state = "" if root.is_dir() else ", not created yet"
    click.echo(f"accelgen cache: {root} ({_where()}{state})")
    for e in entries:
        click.echo(f"  {e.kind:<10} {_size(e.bytes):>11} {e.files:>9,} files  {KINDS[e.kind]}")
    click.echo(f"  {'total':<10} {_size(total):>11} {total_files:>9,} files")
    if json_path is not None:
        write_json(json_path, data)


@cache.command("clean")
@click.argument("kinds", nargs=-1, type=click.Choice(list(KINDS)), metavar="[KIND]...")
@json_option("what was removed")
def clean_command(kinds: tuple[str, ...], json_path: Path | None) -> None:
    """Remove the cache, or only the KINDS named (as `accelgen cache info` lists them).

    Everything in it is rebuilt on demand; a missing cache is no error. Nothing outside the
    kinds' folders is touched, even when the cache root is a directory of yours.
    """
    root = cache_root()
    try:
        removed = clean(list(kinds) or None)
    except CacheError as exc:
        raise click.ClickException(str(exc)) from None
    files, size = sum(e.files for e in removed), sum(e.bytes for e in removed)
    data = {"root": str(root), "removed": _entries(removed), "removed_files": files,
            "removed_bytes": size}
    what = ", ".join(e.kind for e in removed if e.files) or "nothing"
    click.echo(f"accelgen cache: removed {_size(size)} ({files:,} files: {what}) from {root}")
    if json_path is not None:
        write_json(json_path, data)
