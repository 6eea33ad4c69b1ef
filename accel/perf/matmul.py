"""Predicted cycles of a tiled matrix multiplication (the program `plan_matmul` emits)."""

from __future__ import annotations

from accel.config import AccelConfig
from accel.compiler.tiler import ChannelRequant, Requant, plan_matmul
from accel.perf.estimate import CycleEstimate
from accel.perf.program import predict_program

__all__ = ["predict_matmul"]


def predict_matmul(config: AccelConfig, m: int, k: int, n: int, *, bias: bool = False,
                   requant: Requant | ChannelRequant | None = None) -> CycleEstimate:
    """Predict C (m x n) = A (m x k) @ B (k x n) [+ bias] [-> activation] on ``config``.

    Raises
    ------
    ValueError
        As `accel.compiler.tiler.plan_matmul` (a non-positive dimension, operands beyond the
        memory).
    """
    plan = plan_matmul(config, m, k, n, bias=bias, requant=requant)
    return predict_program(config, plan.program)
