"""The bit-exact NumPy golden model: the definition of a correct result."""

from accel.golden.arith import activate, round_shift, saturate, wrap
from accel.golden.model import AccelError, BufferRecordError, GoldenModel

__all__ = ["AccelError", "BufferRecordError", "GoldenModel", "activate", "round_shift",
           "saturate", "wrap"]
