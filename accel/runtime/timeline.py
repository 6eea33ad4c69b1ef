"""Timelines from the RTL: the busy intervals `sim.busy_monitor` records, as `Timeline`\\ s.

The benches return intervals as int64 rows ``(lane, kind, start, end)`` (indices into
`accel.perf.timeline.LANES` and `KINDS`), in cycles from a program's first command
(`accel.runtime.rtl.run_programs` with ``timeline=True``) or from the SoC's reset (``sim.bench_soc``
with ``SOC_TIMELINE``). `rtl_timeline` puts programs back to back, as the RTL backend counts
cycles; `soc_timeline` keeps the span of an SoC run in which the accelerator was used.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from accel.config import AccelConfig
from accel.perf.timeline import LANES, Interval, Timeline, drawn_bound

__all__ = ["KINDS", "rtl_timeline", "soc_timeline"]

#: Kinds of the rows (the same as `sim.busy_monitor.KINDS`).
KINDS = ("", "read", "write")


def _intervals(rows: np.ndarray, offset: int) -> list[Interval]:
    return [Interval(LANES[lane], float(start + offset), float(end + offset), KINDS[kind])
            for lane, kind, start, end in np.asarray(rows, dtype=np.int64).reshape(-1, 4)]


def rtl_timeline(config: AccelConfig, title: str, programs: Sequence[tuple[np.ndarray, int, str]],
                 workload, source: str = "RTL") -> Timeline:
    """The timeline of ``programs`` run back to back on the accelerator alone.

    Parameters
    ----------
    programs : sequence of (rows, cycles, name)
        Per program its interval rows, its cycles and a name to mark its start with ("" for
        none).
    workload : accel.perf.bound.Bound or int
        The workload's bound, or its multiply-accumulates (`accel.perf.timeline.drawn_bound`).
    """
    intervals: list[Interval] = []
    marks: list[tuple[float, str]] = []
    offset = 0
    for rows, cycles, name in programs:
        if name:
            marks.append((float(offset), name))
        intervals += _intervals(rows, offset)
        offset += int(cycles)
    bound, label = drawn_bound(config, workload)
    return Timeline(title, source, offset, tuple(intervals), bound, label, tuple(marks))


def soc_timeline(config: AccelConfig, title: str, rows: np.ndarray, workload,
                 count: int = 1) -> Timeline:
    """The timeline of one SoC run of ``count`` inferences of ``workload`` (a bound or MACs,
    `accel.perf.timeline.drawn_bound`), from the first busy cycle of any lane to the last (the
    boot before and the printing after are left out); cycles count from there."""
    rows = np.asarray(rows, dtype=np.int64).reshape(-1, 4)
    first = int(rows[:, 2].min()) if len(rows) else 0
    last = int(rows[:, 3].max()) if len(rows) else 0
    bound, label = drawn_bound(config, workload, count)
    return Timeline(title, "SoC", last - first, tuple(_intervals(rows, -first)), bound, label)
