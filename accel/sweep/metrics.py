"""The metrics a sweep can measure per configuration, and the result columns each fills.

* ``cycles``: predicted cycles per run of each workload from the analytical model
  (`accel.perf`); milliseconds per configuration.
* ``rtl``: cycles the accelerator's RTL takes (cocotb on Verilator); minutes per configuration.
* ``resources``: LUT/FF/DSP/BRAM from Yosys synthesis (`accel.sweep.resources`); seconds (the
  array alone) to minutes (the whole accelerator) per configuration, cached.
* ``fmax``: achieved MHz after nextpnr-ecp5 place and route (`accel.sweep.fmax`); minutes.
"""

from __future__ import annotations

from typing import Sequence

from accel.sweep.resources import RESOURCES
from accel.sweep.workload import Workload

__all__ = ["METRICS", "DEFAULT_METRICS", "metric_columns"]

METRICS = ("cycles", "resources", "fmax", "rtl")
DEFAULT_METRICS = ("cycles",)


def metric_columns(metrics: Sequence[str], workloads: Sequence[Workload]) -> list[str]:
    """The result columns ``metrics`` fill, in table order."""
    columns: list[str] = []
    for metric in METRICS:
        if metric not in metrics:
            continue
        if metric == "cycles":
            for workload in workloads:
                columns += [f"cycles_{workload.slug}", f"bound_{workload.slug}"]
        elif metric == "rtl":
            columns += [f"rtl_cycles_{workload.slug}" for workload in workloads]
        elif metric == "resources":
            columns += list(RESOURCES)
        elif metric == "fmax":
            columns.append("fmax_mhz")
    return columns
