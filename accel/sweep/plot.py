"""The Pareto plot of a sweep: cycles per run of each workload against a resource (PNG).

Drawn with matplotlib's object API on the Agg canvas (no pyplot, no display, no global state),
one panel per workload: every configuration as a point (circles weight-stationary, squares
output-stationary), the Pareto-optimal ones highlighted, joined by the front's staircase and
labelled ``rows x cols/dataflow``. An axis spanning more than a decade is logarithmic.
"""

from __future__ import annotations

import io
from typing import Sequence

from accel.config import Dataflow

__all__ = ["Panel", "pareto_png"]

_AXIS_NAMES = {"lut": "LUTs", "ff": "flip-flops", "dsp": "DSP blocks", "bram": "block RAMs",
               "pes": "processing elements (rows x cols)"}
_MARKERS = {Dataflow.WS: "o", Dataflow.OS: "s"}


class Panel:
    """One panel: a title, the y label, and per point (x, y, label, dataflow, on the front)."""

    def __init__(self, title: str, y_label: str,
                 points: Sequence[tuple[float, float, str, str, bool]]) -> None:
        self.title = title
        self.y_label = y_label
        self.points = list(points)


def _scale(axes, values: Sequence[float], which: str) -> None:
    """Log scale when ``values`` span more than a decade; plain numbers with thousands
    separators on the ticks either way."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    axis = axes.xaxis if which == "x" else axes.yaxis
    positive = [v for v in values if v > 0]
    if positive and len(positive) == len(values) and max(positive) > 10 * min(positive):
        (axes.set_xscale if which == "x" else axes.set_yscale)("log")
        axis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        axis.set_minor_formatter(NullFormatter())
    axis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:,.0f}"))


def pareto_png(panels: Sequence[Panel], x_column: str, title: str) -> bytes:
    """The PNG image of ``panels`` (x axis: resource column ``x_column``)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(7.5 * len(panels), 5.5), dpi=110, layout="constrained")
    FigureCanvasAgg(figure)
    for number, panel in enumerate(panels, start=1):
        axes = figure.add_subplot(1, len(panels), number)
        for dataflow, marker in _MARKERS.items():
            rest = [p for p in panel.points if p[3] == dataflow and not p[4]]
            best = [p for p in panel.points if p[3] == dataflow and p[4]]
            if rest:
                axes.scatter([p[0] for p in rest], [p[1] for p in rest], marker=marker,
                             s=36, color="0.6", label=f"{dataflow}")
            if best:
                axes.scatter([p[0] for p in best], [p[1] for p in best], marker=marker,
                             s=64, color="tab:red", edgecolors="black", zorder=3,
                             label=f"{dataflow}, Pareto-optimal")
        front = sorted((p for p in panel.points if p[4]), key=lambda p: (p[0], p[1]))
        if front:
            axes.step([p[0] for p in front], [p[1] for p in front], where="post",
                      color="tab:red", linewidth=1, alpha=0.6, zorder=2)
        for x, y, label, _, on_front in panel.points:
            if on_front:
                axes.annotate(label, (x, y), textcoords="offset points", xytext=(6, 6),
                              fontsize=8)
        _scale(axes, [p[0] for p in panel.points], "x")
        _scale(axes, [p[1] for p in panel.points], "y")
        axes.set_xlabel(_AXIS_NAMES.get(x_column, x_column))
        axes.set_ylabel(panel.y_label)
        axes.set_title(panel.title, fontsize=10)
        axes.grid(True, which="both", alpha=0.3)
        axes.legend(fontsize=8)
    figure.suptitle(title, fontsize=11)
    out = io.BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()
