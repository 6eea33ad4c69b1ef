"""Deterministic, pickle-free ``.npz`` archives with a JSON header: the container of accelgen's
model files (`accel.nn.model_file` for the native networks, `accel.compiler.graph_file` for
compiled-from-ONNX graphs).

NumPy's own ``savez`` stamps members with the current time, so the same model would give
different bytes on every save; this writer fixes order and timestamps. The reader turns every
way a file can be broken into one `ArchiveError` line naming the file.
"""

from __future__ import annotations

import io
import json
import os
import tempfile
import zipfile
import zlib
from pathlib import Path

import numpy as np

__all__ = ["ArchiveError", "archive_bytes", "archive_error", "read_archive", "write_atomically"]

_FIXED_TIME = (1980, 1, 1, 0, 0, 0)


class ArchiveError(ValueError):
    """A file is missing or not a valid archive; the message is one line naming the file."""


def archive_error(path: object, problem: str, kind: type[ArchiveError] = ArchiveError):
    """``kind("<path>: <problem>")`` with the message folded onto one line."""
    return kind(" ".join(f"{path}: {problem}".split()))


def archive_bytes(header: dict, arrays: dict[str, np.ndarray]) -> bytes:
    """The ``.npz`` bytes of a ``header`` member (JSON text) followed by ``arrays`` in order.

    Raises
    ------
    ValueError
        The header is not JSON-serializable (NaN and infinity included).
    """
    try:
        text = json.dumps(header, indent=1, sort_keys=True, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"model metadata is not JSON-serializable: {exc}") from None
    members = {"header": np.array(text), **arrays}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, array in members.items():
            data = io.BytesIO()
            np.lib.format.write_array(data, np.asarray(array), allow_pickle=False)
            info = zipfile.ZipInfo(name + ".npy", date_time=_FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data.getvalue())
    return buffer.getvalue()


def write_atomically(data: bytes, path: str | os.PathLike) -> None:
    """Write ``data`` to ``path`` through a temporary file: a failure leaves no partial file."""
    target = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=target.name + ".", suffix=".part",
                               dir=target.parent if str(target.parent) else ".")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp made it private; give it a new file's mode
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_archive(path: Path, fmt: str, versions: tuple[int, ...],
                 kind: type[ArchiveError] = ArchiveError) -> tuple[dict, dict[str, np.ndarray]]:
    """``(header, members)`` of an archive whose header declares ``format == fmt`` and a
    ``version`` in ``versions``; ``members`` excludes the header.

    Raises
    ------
    ArchiveError (or ``kind``)
        Missing, unreadable, truncated or non-zip file, pickled members, no or bad header,
        another format or an unknown version.
    """
    try:
        loaded = np.load(path, allow_pickle=False)
        if not isinstance(loaded, np.lib.npyio.NpzFile):
            raise archive_error(path, "is a .npy array, not an .npz model file", kind)
        with loaded:
            members = {name: loaded[name] for name in loaded.files}
    except FileNotFoundError:
        raise archive_error(path, "no such file", kind) from None
    except IsADirectoryError:
        raise archive_error(path, "is a directory, not a model file", kind) from None
    except ArchiveError:
        raise
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile, zlib.error) as exc:
        problem = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if "pickle" in problem:  # NumPy tries any file that is neither .npz nor .npy as a pickle
            problem = ("holds pickled data, which model files never contain"
                       if zipfile.is_zipfile(path) else "not a zip archive")
        raise archive_error(path, f"not a valid .npz model file ({problem})", kind) from None
    raw = members.pop("header", None)
    if raw is None:
        raise archive_error(path, "no 'header' member: not an accelgen model file", kind)
    if raw.ndim != 0 or raw.dtype.kind != "U":
        raise archive_error(path, f"'header' must be a 0-d string array, not {raw.dtype} "
                                  f"{raw.shape}", kind)
    try:
        header = json.loads(str(raw))
    except json.JSONDecodeError as exc:
        raise archive_error(path, f"header is not valid JSON ({exc})", kind) from None
    if not isinstance(header, dict) or header.get("format") != fmt:
        raise archive_error(path, f"header does not declare format {fmt!r}", kind)
    version = header.get("version")
    if version not in versions:
        raise archive_error(path, f"unsupported model format version {version!r} (this "
                                  f"accelgen reads version {', '.join(map(str, versions))})",
                            kind)
    return header, members
