"""Scratchpad and accumulator rows of the lowerings that share one `ProgramBuilder`.

The convolution, dense and copy lowerings (`accel.compiler.conv_tiles`, `dense_tiles`,
`copy_tiles`) keep their state on the builder: rings that hand out scratchpad and accumulator
rows in order across layers (so a layer rarely waits for the previous one to release its
rows), the constant A block of the bias digits at the top of the scratchpad, the pooling
settings in force, and the stores a convolution left pending for the next layer to emit.
"""

from __future__ import annotations

from accel.compiler.tiler import CHANNEL_ROWS, ProgramBuilder
from accel.config import MAX_BLOCK_ROWS, AccelConfig

__all__ = ["const_rows", "scratch_state", "invalidate_const", "flush_stores", "moved_stores"]


def const_rows(config: AccelConfig) -> int:
    """Scratchpad rows (at the top) of the constant A block: the largest COMPUTE, or an eighth
    of a small scratchpad (the bias COMPUTE then runs in pieces)."""
    return max(1, min(MAX_BLOCK_ROWS, config.sp_rows // 8))


class Ring:
    """Rows ``[0, size)`` handed out in order across the jobs of one builder (so that a job
    rarely waits for the previous one to release its rows)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.next = 0

    def reserve(self, rows: int) -> int:
        """The first of ``rows`` contiguous rows (``rows <= size``)."""
        if self.next + rows > self.size:
            self.next = 0
        start = self.next
        self.next += rows
        return start


def scratch_state(builder: ProgramBuilder, config: AccelConfig) -> dict:
    """The builder's scratchpad and accumulator rings, constant block and pool settings."""
    state = getattr(builder, "conv_state", None)
    if state is None:
        state = {"pending": [], "moved": [], "const": 0, "const_cols": 0,
                 "sp": Ring(config.sp_rows - const_rows(config)),
                 "acc": Ring(config.acc_rows - CHANNEL_ROWS), "pool": None}
        builder.conv_state = state
    return state


def invalidate_const(builder: ProgramBuilder) -> None:
    """Forget the constant A block (another tiler may have overwritten the scratchpad)."""
    state = getattr(builder, "conv_state", None)
    if state is not None:
        state["const"] = state["const_cols"] = 0


def flush_stores(builder: ProgramBuilder) -> None:
    """Emit the stores a convolution left pending (before anything that reads its output
    or changes the activation settings, and before a fence)."""
    state = getattr(builder, "conv_state", None)
    if state is not None:
        pending = list(state["pending"])
        state["pending"].clear()
        for tag, emit in pending:
            start = len(builder.program)
            emit()
            state["moved"].append((tag, start, len(builder.program)))


def moved_stores(builder: ProgramBuilder) -> list[tuple[object, int, int]]:
    """``(tag, start, end)``: ranges of ``builder.program`` that `flush_stores` emitted for
    the job of ``tag``."""
    state = getattr(builder, "conv_state", None)
    return [] if state is None else list(state["moved"])
