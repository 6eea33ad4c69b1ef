"""One sweep job: every requested metric of one configuration, as one result row.

`evaluate` is what each Dask task runs. It never raises for a metric's failure: the row records
the failure under ``errors`` (metric name -> one-line message) and leaves that metric's columns
empty, so one configuration the compiler or a tool cannot handle does not stop the sweep.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from accel.config import AccelConfig
from accel.sweep.workload import Workload

__all__ = ["JobPlan", "evaluate"]


@dataclass(frozen=True)
class JobPlan:
    """What to measure on every configuration of a sweep.

    Members
    -------
    metrics : tuple of str
        Among `accel.sweep.metrics.METRICS`.
    workloads : tuple of Workload
    family : str
        FPGA family of the ``resources`` metric (a key of `accel.sweep.resources.FAMILIES`).
    resource_top : str
        Top level that ``resources`` and ``fmax`` synthesize: ``"accelerator"`` or ``"array"``.
    simulator : str
        Simulator of the ``rtl`` metric.
    """

    metrics: tuple[str, ...]
    workloads: tuple[Workload, ...]
    family: str = "ecp5"
    resource_top: str = "accelerator"
    simulator: str = "verilator"


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if isinstance(exc, ValueError) else f"{type(exc).__name__}: {text}"


def evaluate(config: AccelConfig, plan: JobPlan) -> dict:
    """The measured metrics of ``config``.

    Returns
    -------
    dict
        The metric columns measured (`accel.sweep.metrics.metric_columns`), ``errors`` (metric
        -> message) and ``seconds`` (wall time of the job).
    """
    began = time.monotonic()
    row: dict = {}
    errors: dict[str, str] = {}

    def attempt(metric: str, measure) -> None:
        try:
            row.update(measure())
        except Exception as exc:  # a metric's failure is a result, not the sweep's end
            errors[metric] = _one_line(exc)

    for workload in plan.workloads:
        if "cycles" in plan.metrics:
            def predicted(workload=workload):
                estimate = workload.predict(config)
                return {f"cycles_{workload.slug}": estimate["cycles"],
                        f"bound_{workload.slug}": estimate["bound"]}
            attempt(f"cycles_{workload.slug}", predicted)
        if "rtl" in plan.metrics:
            attempt(f"rtl_cycles_{workload.slug}", lambda workload=workload: {
                f"rtl_cycles_{workload.slug}": workload.simulate(config, plan.simulator)})
    if "resources" in plan.metrics:
        from accel.sweep.resources import RESOURCES, synthesize

        def resources():
            result = synthesize(config, plan.resource_top, plan.family)
            return {name: result[name] for name in RESOURCES}
        attempt("resources", resources)
    if "fmax" in plan.metrics:
        from accel.sweep.fmax import measure_fmax

        attempt("fmax", lambda: {"fmax_mhz": measure_fmax(config, plan.resource_top)["fmax_mhz"]})
    row["errors"] = errors
    row["seconds"] = round(time.monotonic() - began, 2)
    return row
