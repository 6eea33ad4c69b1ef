"""What the cycle model did, interval by interval: the hook `predict_program` fills.

Inside ``with recording(trace):``, `predict_program` (and the `SharedBus` it builds) tell the
`ProgramTrace` ``trace`` as each command fires, each unit command is scheduled and each bus
transfer is scheduled; outside, they record nothing and cost nothing extra (the hook is a
context variable, so the model's signatures stay as they are). `accel.perf.timeline` turns a
trace into a `Timeline`.
"""

from __future__ import annotations

import contextlib
import contextvars
from typing import Iterator

__all__ = ["ProgramTrace", "active_trace", "recording"]


class ProgramTrace:
    """The intervals of one predicted program, in the model's cycles (floats).

    Members
    -------
    issues : list of float
        The cycle each command fired in the dispatcher (it holds the dispatcher that cycle).
    units : list of (str, float, float)
        ``(unit, fire, retire)`` of every load, compute and store (``unit`` the
        `accel.isa.spec.Unit` name in lower case: ``"load"``, ``"execute"``, ``"store"``).
    bus : list of (str, list, int)
        ``(channel, entry, words)`` of every DMA transfer: ``channel`` ``"read"`` or
        ``"write"``, ``entry`` the bus model's live ``[start, end, words per row]`` (its end
        grows while later transfers interleave with it, so read it after the prediction).
    """

    def __init__(self) -> None:
        self.issues: list[float] = []
        self.units: list[tuple[str, float, float]] = []
        self.bus: list[tuple[str, list, int]] = []

    def issue(self, fire: float) -> None:
        self.issues.append(fire)

    def unit(self, unit, fire: float, retire: float) -> None:
        self.units.append((unit.name.lower(), fire, retire))


_ACTIVE: contextvars.ContextVar[ProgramTrace | None] = contextvars.ContextVar(
    "accel_perf_trace", default=None)


def active_trace() -> ProgramTrace | None:
    """The trace of the innermost `recording`, or None."""
    return _ACTIVE.get()


@contextlib.contextmanager
def recording(trace: ProgramTrace) -> Iterator[ProgramTrace]:
    """Record every `predict_program` run in this block (in this thread or task) into
    ``trace``."""
    token = _ACTIVE.set(trace)
    try:
        yield trace
    finally:
        _ACTIVE.reset(token)
