"""The bit-exact NumPy golden model: the definition of a correct result."""

from accel.golden.arith import activate, round_shift, saturate, wrap
from accel.golden.model import AccelError, GoldenModel

__all__ = ["AccelError", "GoldenModel", "activate", "round_shift", "saturate", "wrap"]
