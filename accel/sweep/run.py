"""A whole sweep: expand the space, run one Dask job per configuration, rank, write, plot.

`run_sweep` writes ``sweep.csv``, ``sweep.json`` and ``pareto.png`` into the output directory
(atomically: all three or none) and returns a `SweepResult` whose `~SweepResult.report` is the
table and Pareto fronts the CLI prints.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from accel.build.artifacts import write_atomically
from accel.sweep.cluster import dask_client, describe, run_jobs
from accel.sweep.errors import SweepError
from accel.sweep.job import JobPlan, evaluate
from accel.sweep.metrics import metric_columns
from accel.sweep.pareto import pareto_front
from accel.sweep.plot import Panel, pareto_png
from accel.sweep.resources import RESOURCES
from accel.sweep.space import Rejected, SweepSpace, expand
from accel.sweep.table import make_row, render_csv, render_json, render_table

__all__ = ["X_AXES", "SweepResult", "run_sweep", "default_x_axis"]

#: Resource columns the Pareto plot's x axis can show (``pes``: rows x cols, always known).
X_AXES = (*RESOURCES, "pes")


def default_x_axis(metrics: tuple[str, ...]) -> str:
    """``lut`` when resources are measured, otherwise the PE count."""
    return "lut" if "resources" in metrics else "pes"


def cycle_column(slug: str, metrics: tuple[str, ...]) -> str | None:
    """The y column of a workload's front: predicted cycles, else simulated, else none."""
    if "cycles" in metrics:
        return f"cycles_{slug}"
    if "rtl" in metrics:
        return f"rtl_cycles_{slug}"
    return None


@dataclass
class SweepResult:
    """What a sweep found.

    Members
    -------
    rows : list of dict
        One per valid configuration, in sweep order (see `accel.sweep.table`).
    rejected : list of Rejected
    columns : list of str
        The metric columns.
    fronts : dict of str to list of int
        Workload name -> indices into ``rows`` of its Pareto front (by increasing x).
    x_axis : str
    y_columns : dict of str to str
        Workload name -> the cycles column its front minimizes.
    cluster : str
    seconds : float
    files : dict of str to Path
    """

    rows: list[dict]
    rejected: list[Rejected]
    columns: list[str]
    fronts: dict[str, list[int]]
    x_axis: str
    y_columns: dict[str, str]
    cluster: str
    seconds: float
    files: dict[str, Path] = field(default_factory=dict)

    def report(self) -> str:
        """The result table, the rejected combinations and each workload's Pareto front."""
        shown = ["pes", *self.columns] if self.x_axis == "pes" else list(self.columns)
        lines = [render_table(self.rows, shown).rstrip("\n")]
        failed = [row for row in self.rows if row["errors"]]
        for row in failed:
            for metric, message in row["errors"].items():
                lines.append(f"! {row['label']}: {metric}: {message}")
        for rejected in self.rejected:
            lines.append(f"skipped {rejected.label}: {rejected.reason}")
        for workload, front in self.fronts.items():
            y = self.y_columns[workload]
            lines.append(f"Pareto front of {workload} ({y} vs {self.x_axis}), "
                         f"{len(front)} of {len(self.rows)} configurations:")
            for index in front:
                row = self.rows[index]
                lines.append(f"  {row['label']:<16} {self.x_axis} {row[self.x_axis]:>10,}"
                             f"   {y} {row[y]:>12,}")
        lines.append(f"{len(self.rows)} configurations ({len(self.rejected)} skipped) on "
                     f"{self.cluster} in {self.seconds:.1f} s; results in "
                     f"{', '.join(str(p) for p in self.files.values())}")
        return "\n".join(lines) + "\n"


def _summary(result: SweepResult, space: SweepSpace, plan: JobPlan) -> dict:
    return {
        "axes": {name: list(values) for name, values in space.axes().items()},
        "base": space.base.to_dict(),
        "metrics": list(plan.metrics),
        "workloads": [w.name for w in plan.workloads],
        "family": plan.family if "resources" in plan.metrics else None,
        "resource_top": plan.resource_top,
        "x_axis": result.x_axis,
        "pareto": {w: {"x": result.x_axis, "y": result.y_columns[w],
                       "labels": [result.rows[i]["label"] for i in front]}
                   for w, front in result.fronts.items()},
        "rows": result.rows,
        "rejected": [{"fields": r.fields, "reason": r.reason} for r in result.rejected],
        "cluster": result.cluster,
        "seconds": round(result.seconds, 1),
    }


def run_sweep(space: SweepSpace, plan: JobPlan, out: Path, *, x_axis: str | None = None,
              address: str | None = None, workers: int | None = None,
              progress: Callable[[str], None] = lambda line: None) -> SweepResult:
    """Run the sweep of ``space`` measuring ``plan`` and write its files into ``out``.

    Raises
    ------
    SweepError
        When no combination is a valid configuration, or ``x_axis`` is a resource that
        ``plan`` does not measure.
    accel.sweep.cluster.ClusterError
        When the cluster cannot be reached or started.
    """
    x_axis = x_axis or default_x_axis(plan.metrics)
    if x_axis not in X_AXES:
        raise SweepError(f"the x axis must be one of {', '.join(X_AXES)}, not {x_axis!r}")
    if x_axis != "pes" and "resources" not in plan.metrics:
        raise SweepError(f"the x axis {x_axis!r} needs the resources metric "
                         f"(--metrics ...,resources)")
    configs, rejected = expand(space)
    for r in rejected:
        progress(f"skipped {r.label}: {r.reason}")
    if not configs:
        raise SweepError("no combination of the swept values is a valid configuration")
    columns = metric_columns(plan.metrics, plan.workloads)
    began = time.monotonic()
    with dask_client(address, workers) as client:
        cluster = describe(client)
        progress(f"sweep: {len(configs)} configurations, metrics {','.join(plan.metrics)}, "
                 f"on {cluster}")
        done = 0

        def report(index: int, measured) -> None:
            nonlocal done
            done += 1
            config = configs[index]
            if isinstance(measured, BaseException):
                status = f"FAILED ({type(measured).__name__})"
            else:
                shown = [f"{c} {measured[c]:,}" for c in columns
                         if isinstance(measured.get(c), (int, float))
                         and not c.startswith("bound_")]
                status = ", ".join(shown) or "no metric"
                if measured["errors"]:
                    status += f"; errors in {', '.join(measured['errors'])}"
                status += f" ({measured['seconds']:.1f} s)"
            progress(f"[{done:>{len(str(len(configs)))}}/{len(configs)}] "
                     f"{time.monotonic() - began:7.1f} s  {config.name}: {status}")

        measured = run_jobs(client, evaluate, configs, plan, on_result=report)
    rows = [make_row(config, result, columns) for config, result in zip(configs, measured)]
    fronts, y_columns, panels = {}, {}, []
    for workload in plan.workloads:
        y = cycle_column(workload.slug, plan.metrics)
        if y is None:
            continue
        points = [(row[x_axis], row[y]) if row.get(x_axis) is not None and row.get(y)
                  is not None else None for row in rows]
        front = pareto_front(points)
        fronts[workload.name], y_columns[workload.name] = front, y
        for i, row in enumerate(rows):
            row[f"front_{workload.slug}"] = i in front
        kind = "predicted" if y.startswith("cycles") else "simulated"
        panels.append(Panel(f"{workload.name}: {kind} cycles per {workload.unit}",
                            f"{kind} cycles per {workload.unit}",
                            [(row[x_axis], row[y], row["label"], row["dataflow"], i in front)
                             for i, row in enumerate(rows) if points[i] is not None]))
    result = SweepResult(rows, rejected, columns, fronts, x_axis, y_columns, cluster,
                         time.monotonic() - began)
    files = {"sweep.csv": render_csv(rows).encode(),
             "sweep.json": render_json(_summary(result, space, plan)).encode()}
    if panels and any(panel.points for panel in panels):
        where = (f"{plan.family} {plan.resource_top}" if x_axis in RESOURCES
                 else "array size")
        files["pareto.png"] = pareto_png(panels, x_axis, f"accelgen sweep: {len(rows)} "
                                                         f"configurations, {where}")
    else:
        progress("no configuration has both a cycle figure and the x axis: no pareto.png")
    write_atomically(out, files)
    result.files = {name: out / name for name in files}
    return result
