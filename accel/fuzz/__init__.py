"""Differential fuzzing of the RTL against the golden model.

- `reference`: the golden model extended with bus error windows (`BusFaultModel`);
- `campaign`: batches of random programs on the RTL, stopping at a failure (`fuzz`);
- `minimize`: delta debugging and count shrinking, generic over a batch test;
- `reproducer`: the JSON file that replays a failure (`Reproducer`);
- `coverage`: instruction kinds x hazard kinds x error causes (`Coverage`).

The random programs themselves come from `accel.randprog`.
"""

from .campaign import FuzzOptions, FuzzReport, fuzz, minimize_failure
from .coverage import Coverage
from .minimize import ddmin, shrink_counts
from .reference import BusFaultModel
from .reproducer import MemoryImage, Reproducer, ReproducerError

__all__ = ["BusFaultModel", "Coverage", "FuzzOptions", "FuzzReport", "MemoryImage",
           "Reproducer", "ReproducerError", "ddmin", "fuzz", "minimize_failure",
           "shrink_counts"]
