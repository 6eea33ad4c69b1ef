"""`accel.runtime.timeline_plot`: a deterministic PNG of a timeline."""

import struct

import pytest

from accel.config import AccelConfig
from accel.perf.timeline import Timeline, matmul_timeline
from accel.runtime.timeline_plot import timeline_png, write_timeline_png

CONFIG = AccelConfig(rows=3, cols=5)


def _size(png: bytes) -> tuple[int, int]:
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert png[12:16] == b"IHDR"
    return struct.unpack(">II", png[16:24])


@pytest.fixture(scope="module")
def drawn():
    timeline, _ = matmul_timeline(CONFIG, 9, 17, 1)
    return timeline, timeline_png(timeline, CONFIG)


def test_the_png_has_a_fixed_size_and_is_reproducible(drawn):
    timeline, png = drawn
    assert _size(png) == (1200, 420)
    assert len(png) > 10_000
    assert png == timeline_png(timeline, CONFIG)
    assert b"Software" not in png and b"tIME" not in png


def test_an_empty_timeline_still_draws():
    png = timeline_png(Timeline("nothing", "test", 0, (), 0, "bound"), CONFIG)
    assert _size(png) == (1200, 420)


def test_marks_are_drawn(drawn):
    timeline, png = drawn
    marked = Timeline(timeline.title, timeline.source, timeline.cycles, timeline.intervals,
                      timeline.bound, timeline.bound_label, ((0.0, "a"), (0.0, "b"), (9.0, "c")))
    assert timeline_png(marked, CONFIG) != png


def test_the_file_is_written_and_a_bad_path_raises(tmp_path, drawn):
    timeline, png = drawn
    path = tmp_path / "sub" / "t.png"
    write_timeline_png(timeline, CONFIG, path)
    assert path.read_bytes() == png
    with pytest.raises(OSError):
        write_timeline_png(timeline, CONFIG, tmp_path)      # a directory
