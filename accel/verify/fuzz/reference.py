"""The golden model extended with the bus's error windows: the fuzzer's reference.

The golden model has no bus, so it never reports ``BUS_ERROR``. The fuzzer's bus model answers
``err`` for every bus word that touches an error window; `BusFaultModel` predicts that: a load or
store whose main-memory block needs such a word fails with ``BUS_ERROR`` and, like every other
failing instruction of the golden model, changes nothing else.

That prediction is exact for the sticky error (cause, codes) when the program waits for the
faulting transfer (``fence``) before reading the status, because the hardware reports bus errors
imprecisely: instructions dispatched after the faulting one but before its error arrives still
run. It is not exact for the faulting transfer's destination: the hardware leaves its contents
unspecified (a load writes whatever the bus returned; a store may write the words before the
first error). Programs compared against this model therefore fence right after a faulting
transfer, keep faulting stores inside the window (so the bus writes nothing) and overwrite a
faulting load's destination before reading it (see `accel.verify.randprog`).
"""

from __future__ import annotations

from typing import Iterable

import numpy as np

from accel.config import AccelConfig
from accel.golden import AccelError, GoldenModel
from accel.isa.spec import ErrorCause

__all__ = ["BusFaultModel"]


class BusFaultModel(GoldenModel):
    """Golden model whose loads and stores fail with ``BUS_ERROR`` inside bus error windows.

    Parameters
    ----------
    config : AccelConfig
    mem_size : int
        Bytes of main memory modelled.
    error_windows : iterable of (lo, hi)
        Byte ranges ``[lo, hi)`` where the bus answers ``err``. A transfer fails when any bus
        word (``config.bus_bytes`` wide, aligned) covering one of its bytes overlaps a window.
        With no windows the model is the golden model.
    """

    def __init__(self, config: AccelConfig, mem_size: int = 1 << 20,
                 error_windows: Iterable[tuple[int, int]] = ()):
        super().__init__(config, mem_size)
        self.error_windows = tuple((int(lo), int(hi)) for lo, hi in error_windows)
        for lo, hi in self.error_windows:
            if not 0 <= lo < hi:
                raise ValueError(f"error window must satisfy 0 <= lo < hi, not ({lo}, {hi})")

    def faults(self, offsets: np.ndarray) -> bool:
        """Whether reading or writing the bytes at ``offsets`` meets a bus error."""
        if not self.error_windows or offsets.size == 0:
            return False
        word = self.config.bus_bytes
        words = np.unique(offsets // word) * word  # aligned start of every bus word touched
        return any(bool(np.any((words < hi) & (words + word > lo)))
                   for lo, hi in self.error_windows)

    def _block(self, mem_addr: int, rows: int, cols: int, stride: int,
               elem_bytes: int) -> np.ndarray:
        offsets = super()._block(mem_addr, rows, cols, stride, elem_bytes)
        if self.faults(offsets):
            raise AccelError(ErrorCause.BUS_ERROR,
                             f"block at {mem_addr:#x} touches a bus error window")
        return offsets
