"""The one cache directory of accelgen: where every slow, reproducible result is kept.

The root is ``$ACCELGEN_CACHE``, else ``$ACCELGEN_SIM_CACHE`` (its older name, still honoured),
else the user's cache directory from ``platformdirs`` (``~/.cache/accelgen`` on Linux). Nothing is
ever cached inside the installed package or the source tree, so a wheel install works read-only.

Each kind of result has its own subdirectory of the root (`KINDS`); code that caches asks
`kind_dir` (or `kind_path`) for it, and `usage` / `clean` (``accelgen cache info|clean``) touch
only those subdirectories, so a root pointed at a directory holding other files never loses them.
Every entry is keyed by content, so deleting any part of the cache costs only time.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

__all__ = ["CACHE_ENV", "KINDS", "LEGACY_CACHE_ENV", "CacheError", "KindUsage", "cache_root",
           "clean", "kind_dir", "kind_path", "root_source", "usage"]

#: Environment variable naming the cache root.
CACHE_ENV = "ACCELGEN_CACHE"
#: The variable's older name (it once moved only the simulator cache); used when `CACHE_ENV` is
#: unset.
LEGACY_CACHE_ENV = "ACCELGEN_SIM_CACHE"
_APP_NAME = "accelgen"

#: Subdirectory name -> what it holds.
KINDS: dict[str, str] = {
    "verilog": "Verilog emitted for simulation",
    "simulator": "Verilator and Icarus builds, keyed by the Verilog's content",
    "runs": "simulation run directories (kept when waveforms are recorded)",
    "firmware": "firmware built for the simulated SoC, keyed by configuration",
    "sweep": "synthesis and place-and-route results of design sweeps",
    "mnist": "downloaded MNIST files",
}


class CacheError(RuntimeError):
    """The cache root is unusable (e.g. a file); the message is one line naming how to move it."""


def root_source() -> str:
    """What chose the root: ``"ACCELGEN_CACHE"``, ``"ACCELGEN_SIM_CACHE"`` or ``"platformdirs"``."""
    for variable in (CACHE_ENV, LEGACY_CACHE_ENV):
        if os.environ.get(variable):
            return variable
    return "platformdirs"


def cache_root() -> Path:
    """The absolute cache root (see the module docstring); not created."""
    source = root_source()
    if source == "platformdirs":
        import platformdirs

        return Path(platformdirs.user_cache_dir(_APP_NAME, appauthor=False)).resolve()
    return Path(os.environ[source]).expanduser().resolve()


def kind_path(kind: str) -> Path:
    """The directory of one kind of cached result (``<root>/<kind>``); not created.

    Raises
    ------
    ValueError
        ``kind`` is not one of `KINDS`.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown cache kind {kind!r}; choose from {', '.join(KINDS)}")
    return cache_root() / kind


def kind_dir(kind: str) -> Path:
    """`kind_path`, created if missing.

    Raises
    ------
    ValueError
        ``kind`` is not one of `KINDS`.
    CacheError
        The directory cannot be created (the message names it and how to move the cache).
    """
    path = kind_path(kind)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CacheError(f"cannot create the cache directory {str(path)!r}: "
                         f"{exc.strerror or exc}; set {CACHE_ENV} to a writable directory") \
            from None
    return path


@dataclass(frozen=True)
class KindUsage:
    """The size of one kind's subdirectory."""

    kind: str
    path: Path
    files: int
    bytes: int


def _measure(path: Path) -> tuple[int, int]:
    """``(files, bytes)`` under ``path`` (symbolic links counted, not followed)."""
    if path.is_symlink() or path.is_file():
        return 1, path.lstat().st_size
    files = size = 0
    for parent, _, names in os.walk(path):
        for name in names:
            try:
                size += os.lstat(os.path.join(parent, name)).st_size
            except OSError:  # removed while we walk (another process cleaning)
                continue
            files += 1
    return files, size


def usage() -> list[KindUsage]:
    """The size of every kind, in `KINDS` order; a missing subdirectory counts as empty."""
    root = cache_root()
    result = []
    for kind in KINDS:
        path = root / kind
        files, size = _measure(path) if os.path.lexists(path) else (0, 0)
        result.append(KindUsage(kind, path, files, size))
    return result


def clean(kinds: list[str] | tuple[str, ...] | None = None) -> list[KindUsage]:
    """Remove the subdirectories of ``kinds`` (default: all), then the root if it is left empty.

    Safe when the root or a subdirectory is missing; never touches anything else in the root.

    Returns
    -------
    list of KindUsage
        What each removed kind held (in `KINDS` order).

    Raises
    ------
    ValueError
        An unknown kind.
    CacheError
        A subdirectory cannot be removed (the message names it and why).
    """
    chosen = list(KINDS) if kinds is None else list(kinds)
    for kind in chosen:
        if kind not in KINDS:
            raise ValueError(f"unknown cache kind {kind!r}; choose from {', '.join(KINDS)}")
    removed = [entry for entry in usage() if entry.kind in chosen]
    for entry in removed:
        try:
            if entry.path.is_symlink() or entry.path.is_file():
                entry.path.unlink(missing_ok=True)
            elif entry.path.is_dir():
                shutil.rmtree(entry.path)
        except OSError as exc:
            raise CacheError(f"cannot remove {str(entry.path)!r}: {exc.strerror or exc}") \
                from None
    root = cache_root()
    try:
        root.rmdir()  # only when empty
    except OSError:
        pass
    return removed
