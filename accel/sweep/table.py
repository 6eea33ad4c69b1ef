"""Result rows of a sweep and their renderings: CSV, JSON and a readable table.

A row holds the configuration's label (``"4x8/ws"``), its swept fields and PE count, the metric
columns (`accel.sweep.metrics.metric_columns`; empty when a metric failed), the job's
``seconds``, its ``errors`` and, per workload, ``front_<workload>`` (is it on that workload's
Pareto front). Rows come in sweep order (`accel.sweep.space.expand`), which does not depend on
which job finished first.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Sequence

from accel.config import AccelConfig
from accel.sweep.space import AXES

__all__ = ["make_row", "render_csv", "render_json", "render_table", "FIELD_COLUMNS"]

FIELD_COLUMNS = ("label", *AXES, "pes")


def make_row(config: AccelConfig, measured: dict | BaseException, columns: Sequence[str]) -> dict:
    """The result row of ``config`` from its job's result (or the exception the job raised)."""
    row: dict = {"label": config.name}
    row.update({name: getattr(config, name) for name in AXES})
    row["pes"] = config.pe_count
    if isinstance(measured, BaseException):
        text = " ".join(str(measured).split()) or type(measured).__name__
        measured = {"errors": {"job": f"{type(measured).__name__}: {text}"}, "seconds": None}
    for column in columns:
        row[column] = measured.get(column)
    row["seconds"] = measured.get("seconds")
    row["errors"] = dict(measured.get("errors", {}))
    return row


def render_csv(rows: Sequence[dict]) -> str:
    """Rows as CSV with a header; ``errors`` as ``metric: message; ...``; empty = not measured."""
    if not rows:
        return ""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        flat = {key: ("" if value is None else value) for key, value in row.items()}
        flat["errors"] = "; ".join(f"{k}: {v}" for k, v in row["errors"].items())
        writer.writerow(flat)
    return out.getvalue()


def render_json(summary: dict) -> str:
    return json.dumps(summary, indent=2) + "\n"


def _cell(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "*" if value else ""
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.2f}"
    return str(value)


def render_table(rows: Sequence[dict], columns: Sequence[str]) -> str:
    """A fixed-width table of ``columns`` (plus ``label``; a failed metric shows ``-``; rows with
    errors end with ``!``)."""
    header = ["config", *columns]
    body = [[row["label"], *(_cell(row.get(c)) for c in columns)] for row in rows]
    widths = [max(len(h), *(len(line[i]) for line in body)) if body else len(h)
              for i, h in enumerate(header)]
    lines = ["  ".join(h.ljust(w) if i == 0 else h.rjust(w)
                       for i, (h, w) in enumerate(zip(header, widths)))]
    for row, line in zip(rows, body):
        text = "  ".join(v.ljust(w) if i == 0 else v.rjust(w)
                         for i, (v, w) in enumerate(zip(line, widths)))
        lines.append(text + ("  !" if row["errors"] else ""))
    return "\n".join(lines) + "\n"
