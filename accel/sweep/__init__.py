"""Design-space exploration: ``accelgen sweep`` over array size, dataflow and memory sizes.

One configuration is one job on dask.distributed (`cluster`); a job measures the requested
metrics (`metrics`): cycles predicted by the analytical model (`accel.perf`) or simulated on the
RTL for each workload (`workload`), FPGA resources from Yosys (`resources`) and Fmax from
nextpnr (`fmax`). `run_sweep` collects the rows in sweep order (`space`), finds each workload's
Pareto front of cycles against a resource (`pareto`), writes CSV and JSON (`table`) and the plot
(`plot`).
"""

from .errors import SweepError
from .job import JobPlan, evaluate
from .metrics import DEFAULT_METRICS, METRICS
from .pareto import pareto_front
from .run import X_AXES, SweepResult, run_sweep
from .space import AXES, Rejected, SweepSpace, expand
from .workload import Workload

__all__ = ["AXES", "DEFAULT_METRICS", "METRICS", "X_AXES", "JobPlan", "Rejected", "SweepError",
           "SweepResult", "SweepSpace", "Workload", "evaluate", "expand", "pareto_front",
           "run_sweep"]
