"""Design-space exploration: ``accelgen sweep`` over array size, dataflow and memory sizes.

One configuration is one job on dask.distributed (`cluster`); a job measures the requested
metrics (`metrics`): cycles predicted by the analytical model (`accel.perf`) or simulated on the
RTL for each workload (`workload`), FPGA resources from Yosys (`resources`) and Fmax from
nextpnr (`fmax`). `run_sweep` collects the rows in sweep order (`space`), finds each workload's
Pareto front of cycles against a resource (`pareto`), writes CSV and JSON (`table`) and the plot
(`plot`).
"""

from accel.sweep.errors import SweepError
from accel.sweep.job import JobPlan, evaluate
from accel.sweep.metrics import DEFAULT_METRICS, METRICS
from accel.sweep.pareto import pareto_front
from accel.sweep.run import X_AXES, SweepResult, run_sweep
from accel.sweep.space import AXES, Rejected, SweepSpace, expand
from accel.sweep.workload import Workload

__all__ = ["AXES", "DEFAULT_METRICS", "METRICS", "X_AXES", "JobPlan", "Rejected", "SweepError",
           "SweepResult", "SweepSpace", "Workload", "evaluate", "expand", "pareto_front",
           "run_sweep"]
