"""`accel.runtime.timeline`: timelines of the RTL's busy intervals (`sim.busy_monitor`)."""

import numpy as np
import pytest

from accel.perf.timeline import LANES
from accel.runtime.matmul import matmul
from accel.runtime.timeline import rtl_timeline, soc_timeline
from tests.support.configs import CONFIGS

CONFIG = CONFIGS["4x4-ws"]


def _rows(*rows):
    return np.array([(LANES.index(lane), kind, start, end) for lane, kind, start, end in rows],
                    dtype=np.int64)


def test_programs_are_put_back_to_back():
    first = _rows(("load", 1, 0, 5), ("execute", 0, 4, 9))
    second = _rows(("bus", 2, 1, 3))
    timeline = rtl_timeline(CONFIG, "two", [(first, 10, "a"), (second, 4, "")], 33)
    assert timeline.cycles == 14 and timeline.source == "RTL"
    assert timeline.marks == ((0.0, "a"),)
    assert [(i.lane, i.kind, i.start, i.end) for i in timeline.intervals] == [
        ("load", "read", 0, 5), ("execute", "", 4, 9), ("bus", "write", 11, 13)]
    assert timeline.bound == 3


def test_an_soc_run_is_cut_to_where_the_accelerator_was_used():
    rows = _rows(("issue", 0, 1000, 1003), ("load", 0, 1002, 1040), ("store", 0, 1050, 1060))
    timeline = soc_timeline(CONFIG, "soc", rows, 16)
    assert timeline.cycles == 60 and timeline.source == "SoC"
    assert min(i.start for i in timeline.intervals) == 0
    assert soc_timeline(CONFIG, "none", np.zeros((0, 4), np.int64), 0).cycles == 0


def test_the_golden_backend_refuses_a_timeline():
    with pytest.raises(ValueError, match="use the rtl backend"):
        matmul(np.ones((2, 2), int), np.ones((2, 2), int), config=CONFIG, timeline=True)


@pytest.mark.rtl
def test_the_rtl_records_every_unit():
    """A ragged GEMM with bias on the shared 4x4 build: every lane busy, within the total."""
    rng = np.random.default_rng(17)
    a, b = rng.integers(-128, 128, (11, 9)), rng.integers(-128, 128, (9, 6))
    bias = rng.integers(-1000, 1000, 6)
    result, stats = matmul(a, b, config=CONFIG, backend="rtl", bias=bias, return_stats=True,
                           timeline=True)
    np.testing.assert_array_equal(result, a @ b + bias)
    timeline = stats.timeline
    assert timeline.cycles == stats.cycles and timeline.source == "RTL"
    for interval in timeline.intervals:
        assert 0 <= interval.start < interval.end <= timeline.cycles, interval
    for lane in LANES:
        assert timeline.busy(lane) > 0, lane
    # The command port takes one command per handshake cycle.
    assert timeline.busy("issue") == stats.instructions
    assert {i.kind for i in timeline.lane("bus")} == {"read", "write"}
    assert timeline.busy("execute") >= stats.macs / CONFIG.pe_count
