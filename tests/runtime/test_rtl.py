"""`accel.runtime.rtl.Waves`: which file each simulator run records into (no simulator needed),
and the backends that cannot record refusing it."""

import numpy as np
import pytest

from accel.util.cache import CACHE_ENV
from accel.config import AccelConfig
from accel.runtime.evaluate import evaluate
from accel.runtime.matmul import matmul
from accel.runtime.rtl import Waves
from tests.support.nets import random_images, random_mlp


def test_runs_after_the_first_are_numbered_beside_it(tmp_path):
    waves = Waves("fst", tmp_path / "trace.fst")
    first = waves.next_path()
    assert first == tmp_path / "trace.fst"
    assert waves.next_path() == first  # nothing recorded yet
    first.write_bytes(b"x")
    waves.record(first)
    second = waves.next_path()
    assert second == tmp_path / "trace-2.fst"
    second.write_bytes(b"x")
    waves.record(second)
    assert waves.next_path() == tmp_path / "trace-3.fst"
    assert waves.written == [first, second]


def test_a_run_that_wrote_nothing_is_not_recorded(tmp_path):
    waves = Waves("vcd", tmp_path / "trace.vcd")
    waves.record(tmp_path / "trace.vcd")
    assert waves.written == []


def test_the_default_file_is_in_the_cache(tmp_path, monkeypatch):
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))
    assert Waves("vcd", label="sim-random").next_path() == \
        tmp_path / "cache" / "runs" / "sim-random.vcd"


@pytest.mark.parametrize("fmt", ["lxt", "FST", "", None])
def test_a_bad_format_is_refused(fmt):
    with pytest.raises(ValueError, match="waveform format must be one of fst, vcd"):
        Waves(fmt)


def test_the_golden_backends_refuse_waves(tmp_path):
    config = AccelConfig(rows=2, cols=2)
    with pytest.raises(ValueError, match="use the rtl backend"):
        matmul(np.ones((2, 2), int), np.ones((2, 2), int), config=config,
               waves=Waves("vcd", tmp_path / "t.vcd"))
    with pytest.raises(ValueError, match="use the rtl or soc backend"):
        evaluate(random_mlp(hidden=4), config, random_images(1), np.zeros(1, int),
                 waves=Waves("vcd", tmp_path / "t.vcd"))
    assert not list(tmp_path.iterdir())
