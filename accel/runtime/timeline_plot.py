"""Draw a `accel.perf.timeline.Timeline` as a PNG: one lane per unit, time in cycles.

Drawn with matplotlib's object API on the Agg canvas (no pyplot, no display, no global state),
the way `accel.sweep.plot` draws. Each lane shows its busy intervals (adjacent ones merged); the
bus lane shows reads in its upper half and writes in its lower half. The bound is a vertical
line with the region before it shaded: a workload that met its bound would end there. The title
names the workload, the configuration, the source of the intervals, the total against the
bound, and each lane's busy cycles. The output is deterministic: a fixed figure size and dpi,
and no software or time stamps in the PNG's metadata.
"""

from __future__ import annotations

import io
from pathlib import Path

from accel.config import AccelConfig
from accel.perf.timeline import LANES, Interval, Timeline

__all__ = ["timeline_png", "write_timeline_png"]

_SIZE = (12.0, 4.2)
_DPI = 100
_COLORS = {"issue": "#7f7f7f", "load": "#1f77b4", "execute": "#2ca02c", "store": "#ff7f0e",
           "read": "#1f77b4", "write": "#ff7f0e"}
_LANE_NAMES = {"issue": "issue", "load": "load", "execute": "execute", "store": "store",
               "bus": "bus (DMA)"}


def _merged(intervals: list[Interval]) -> list[tuple[float, float]]:
    """``(start, width)`` runs covering ``intervals`` (touching or overlapping ones joined)."""
    runs: list[list[float]] = []
    for interval in sorted(intervals, key=lambda i: i.start):
        if runs and interval.start <= runs[-1][1]:
            runs[-1][1] = max(runs[-1][1], interval.end)
        elif interval.end > interval.start:
            runs.append([interval.start, interval.end])
    return [(start, end - start) for start, end in runs]


def _title(timeline: Timeline, config: AccelConfig) -> str:
    total = timeline.cycles
    share = f", {timeline.bound / total:.0%} of it" if total else ""
    head = (f"{timeline.title} on {config.rows}x{config.cols} {config.dataflow}, "
            f"{config.bus_width}-bit bus ({timeline.source}): {total:,} cycles; "
            f"{timeline.bound_label} {timeline.bound:,}{share}")
    busy = ", ".join(f"{lane} {timeline.busy(lane):,.0f}" for lane in LANES)
    return f"{head}\nbusy cycles: {busy}"


def timeline_png(timeline: Timeline, config: AccelConfig) -> bytes:
    """The PNG image of ``timeline`` (for a workload on ``config``)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter

    figure = Figure(figsize=_SIZE, dpi=_DPI, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot(1, 1, 1)
    end = max([timeline.cycles, timeline.bound, 1]
              + [i.end for i in timeline.intervals])
    axes.axvspan(0, timeline.bound, color="#d62728", alpha=0.08, linewidth=0)
    axes.axvline(timeline.bound, color="#d62728", linewidth=1.5,
                 label=f"{timeline.bound_label} ({timeline.bound:,})")
    axes.axvline(timeline.cycles, color="black", linewidth=1.0, linestyle="--",
                 label=f"total ({timeline.cycles:,})")
    rows = list(reversed(LANES))              # the first lane on top
    for row, lane in enumerate(rows):
        intervals = timeline.lane(lane)
        if lane == "bus":
            for kind, low in (("read", row + 0.05), ("write", row - 0.4)):
                runs = _merged([i for i in intervals if i.kind == kind])
                axes.broken_barh(runs, (low, 0.35), facecolors=_COLORS[kind],
                                 label=f"bus {kind}")
        else:
            axes.broken_barh(_merged(intervals), (row - 0.35, 0.7), facecolors=_COLORS[lane])
    marks: dict[float, list[str]] = {}
    for instant, name in timeline.marks:
        marks.setdefault(instant, []).append(name)
    for instant in marks:
        axes.axvline(instant, color="#9467bd", linewidth=0.8, linestyle=":")
    if marks:
        top = axes.secondary_xaxis("top")
        top.set_xticks(list(marks), [", ".join(names) for names in marks.values()],
                       fontsize=7, color="#9467bd", rotation=25, ha="left")
    axes.set_yticks(range(len(rows)), [_LANE_NAMES[lane] for lane in rows])
    axes.set_ylim(-0.6, len(rows) - 0.4)
    axes.set_xlim(0, end * 1.01)
    axes.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:,.0f}"))
    axes.set_xlabel("cycle")
    axes.set_title(_title(timeline, config), fontsize=9, loc="left")
    axes.legend(loc="upper left", bbox_to_anchor=(1.005, 1.0), fontsize=7, frameon=False)
    axes.grid(axis="x", alpha=0.3)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()


def write_timeline_png(timeline: Timeline, config: AccelConfig, path: Path) -> None:
    """Draw ``timeline`` into the PNG file ``path``.

    Raises
    ------
    OSError
        The file cannot be written (the caller reports it in one line).
    """
    image = timeline_png(timeline, config)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_bytes(image)
