"""The bit-exact NumPy golden model: the definition of a correct result."""

from .arith import activate, round_shift, saturate, wrap
from .model import AccelError, GoldenModel

__all__ = ["AccelError", "GoldenModel", "activate", "round_shift", "saturate", "wrap"]
