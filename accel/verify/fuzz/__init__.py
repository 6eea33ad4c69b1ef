"""Differential fuzzing of the RTL against the golden model.

- `reference`: the golden model extended with bus error windows (`BusFaultModel`);
- `campaign`: batches of random programs on the RTL, stopping at a failure (`fuzz`);
- `minimize`: delta debugging and count shrinking, generic over a batch test;
- `reproducer`: the JSON file that replays a failure (`Reproducer`);
- `coverage`: instruction kinds x hazard kinds x error causes (`Coverage`).

The random programs themselves come from `accel.verify.randprog`.
"""

from accel.verify.fuzz.campaign import FuzzOptions, FuzzReport, fuzz, minimize_failure
from accel.verify.fuzz.coverage import Coverage
from accel.verify.fuzz.minimize import ddmin, shrink_counts
from accel.verify.fuzz.reference import BusFaultModel
from accel.verify.fuzz.reproducer import MemoryImage, Reproducer, ReproducerError

__all__ = ["BusFaultModel", "Coverage", "FuzzOptions", "FuzzReport", "MemoryImage",
           "Reproducer", "ReproducerError", "ddmin", "fuzz", "minimize_failure",
           "shrink_counts"]
