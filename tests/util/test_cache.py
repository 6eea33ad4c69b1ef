"""accel.util.cache: one cache root (environment, older variable, platformdirs), one folder per
kind, sizes, and a clean that never touches anything but the kinds' folders."""

import json
import os
from pathlib import Path

import platformdirs
import pytest

from accel.util import cache
from accel.util.cache import (
    CACHE_ENV, KINDS, LEGACY_CACHE_ENV, CacheError, cache_root, clean, kind_dir, kind_path,
    root_source, usage,
)


@pytest.fixture
def no_env(monkeypatch):
    monkeypatch.delenv(CACHE_ENV, raising=False)
    monkeypatch.delenv(LEGACY_CACHE_ENV, raising=False)


def test_root_defaults_to_the_user_cache_directory(no_env, monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert root_source() == "platformdirs"
    assert cache_root() == (tmp_path / "xdg" / "accelgen").resolve()
    assert cache_root() == Path(platformdirs.user_cache_dir("accelgen", appauthor=False))
    assert not cache_root().exists()  # asking does not create it


def test_environment_moves_the_root_and_the_new_name_wins(no_env, monkeypatch, tmp_path):
    monkeypatch.setenv(LEGACY_CACHE_ENV, str(tmp_path / "old"))
    assert (root_source(), cache_root()) == (LEGACY_CACHE_ENV, tmp_path / "old")
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "new"))
    assert (root_source(), cache_root()) == (CACHE_ENV, tmp_path / "new")
    monkeypatch.setenv(CACHE_ENV, "")  # empty counts as unset
    assert root_source() == LEGACY_CACHE_ENV
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(CACHE_ENV, "rel")
    assert cache_root() == tmp_path / "rel" and cache_root().is_absolute()


def test_kind_dir_creates_only_known_kinds(no_env, monkeypatch, tmp_path):
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "c"))
    assert kind_path("firmware") == tmp_path / "c" / "firmware"
    assert not kind_path("firmware").exists()
    assert kind_dir("firmware").is_dir()
    with pytest.raises(ValueError, match="unknown cache kind 'build'; choose from verilog"):
        kind_dir("build")


def test_unusable_root_is_a_one_line_error(no_env, monkeypatch, tmp_path):
    (tmp_path / "file").write_text("x")
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "file"))
    with pytest.raises(CacheError) as info:
        kind_dir("simulator")
    assert "\n" not in str(info.value) and CACHE_ENV in str(info.value)
    assert str(tmp_path / "file" / "simulator") in str(info.value)


def test_usage_counts_files_and_bytes_per_kind(no_env, monkeypatch, tmp_path):
    monkeypatch.setenv(CACHE_ENV, str(tmp_path))
    assert [(u.kind, u.files, u.bytes) for u in usage()] == [(k, 0, 0) for k in KINDS]
    (kind_dir("simulator") / "a").mkdir()
    (kind_dir("simulator") / "a" / "x.bin").write_bytes(b"1" * 1000)
    (kind_dir("simulator") / "y").write_bytes(b"1" * 24)
    (kind_dir("mnist") / "z.gz").write_bytes(b"1" * 7)
    (tmp_path / "unrelated.txt").write_text("mine")  # not a kind: not counted
    sizes = {u.kind: (u.files, u.bytes) for u in usage()}
    assert sizes["simulator"] == (2, 1024) and sizes["mnist"] == (1, 7)
    assert sum(files for files, _ in sizes.values()) == 3


def test_clean_removes_kinds_only(no_env, monkeypatch, tmp_path):
    root = tmp_path / "root"
    monkeypatch.setenv(CACHE_ENV, str(root))
    assert [u.files for u in clean()] == [0] * len(KINDS)  # a missing root: no error
    assert not root.exists()
    for kind in ("verilog", "firmware", "sweep"):
        (kind_dir(kind) / "entry").write_text(kind)
    (root / "mine.txt").write_text("not the cache's")
    removed = clean(["firmware"])
    assert [(u.kind, u.files) for u in removed] == [("firmware", 1)]
    assert not (root / "firmware").exists() and (root / "verilog" / "entry").is_file()
    removed = clean()
    assert {u.kind: u.files for u in removed} == {**{k: 0 for k in KINDS}, "verilog": 1,
                                                 "firmware": 0, "sweep": 1}
    # The user's file survives, so the root stays.
    assert sorted(os.listdir(root)) == ["mine.txt"]
    (root / "mine.txt").unlink()
    kind_dir("runs")
    clean()
    assert not root.exists()  # emptied completely: the root goes too
    with pytest.raises(ValueError, match="unknown cache kind"):
        clean(["everything"])


def test_every_cache_user_asks_this_module(no_env, monkeypatch, tmp_path):
    """The simulator runner, the SoC firmware cache, the sweep cache and the MNIST download all
    land under the root, each in its kind's folder."""
    monkeypatch.setenv(CACHE_ENV, str(tmp_path))
    from accel.nn.mnist import data
    from accel.sweep.cache import cached
    from sim import runner

    path = runner.emit_cached("cache-test", _tiny, name="tiny")
    assert path.parent.parent.parent == tmp_path / "verilog"
    result, hit = cached("synth-test", "k", lambda: {"cells": 3})
    assert (result, hit) == ({"cells": 3}, False)
    assert json.loads((tmp_path / "sweep" / "synth-test" / "k.json").read_text()) == result
    with pytest.raises(data.DatasetError):
        data.download(fetch=_offline, mirrors=("https://example.invalid/",))
    assert (tmp_path / "mnist").is_dir()
    assert not hasattr(runner, "cache_dir") and "cache_dir" not in dir(cache)


def _offline(url):
    raise OSError("offline")


def _tiny():
    """A minimal design for `emit_cached`."""
    from amaranth import Module
    from amaranth.lib import wiring
    from amaranth.lib.wiring import In, Out

    class Tiny(wiring.Component):
        a: In(1)
        y: Out(1)

        def elaborate(self, platform):
            m = Module()
            m.d.comb += self.y.eq(~self.a)
            return m

    return Tiny()
