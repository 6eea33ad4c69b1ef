"""A content-addressed JSON cache for slow, deterministic results (synthesis, place and route).

Entries live in ``<sweep>/<kind>/<key>.json`` where ``<sweep>`` is the ``sweep`` kind of the
user's cache (`accel.util.cache`) and ``key`` is a hash of everything the result depends on (the
Verilog text, the script, the tool's version). Computing one key holds an ``fcntl`` lock on it, so
when two sweep workers need the same result the second waits and reads the first's instead of
computing it again.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
from pathlib import Path
from typing import Callable

from accel.util.cache import kind_dir

__all__ = ["content_key", "cached"]


def content_key(*parts: str) -> str:
    """A short hash of ``parts`` (in order)."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode() + b"\0")
    return digest.hexdigest()[:24]


def _root() -> Path:
    return kind_dir("sweep")


def cached(kind: str, key: str, compute: Callable[[], dict]) -> tuple[dict, bool]:
    """``compute()``'s result for ``key``, from the cache when present.

    Returns the result and whether it came from the cache. A failing ``compute`` caches nothing.
    """
    directory = _root() / kind
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{key}.json"
    with open(directory / f"{key}.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if path.is_file():
                with contextlib.suppress(ValueError):
                    return json.loads(path.read_text()), True
            result = compute()
            tmp = directory / f".{key}.{os.getpid()}.tmp"
            tmp.write_text(json.dumps(result, sort_keys=True))
            os.replace(tmp, path)
            return result, False
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
