"""cocotb monitor of per-unit busy intervals, edge-triggered: where an accelerator's cycles go.

Sampling every signal in every cycle from Python would slow a simulation several times; this
monitor instead wakes only when a watched signal changes (``value_change``) and notes the cycle,
so its cost grows with the number of busy/idle transitions, not with the run's length. The
signals are ones the design already has (found by hierarchical name, which cocotb's Verilator
build exposes with ``--public-flat-rw``):

* ``load``, ``execute``, ``store``: the scoreboard's in-flight counters
  (``dispatcher.scoreboard.<unit>_count`` of `accel.control.scoreboard`), busy while non-zero,
  as the cycle model's `accel.perf.timeline` lanes;
* ``bus``: the accelerator's Wishbone master, busy while ``cyc`` is high, of kind ``"write"``
  or ``"read"`` by ``we``;
* ``issue``: a handshake, busy while every one of its signals is high (the command port's
  ``valid``/``ready`` on the accelerator alone; PicoRV32's ``pcpi_wait``, high while the core
  executes an accelerator instruction, on the SoC).

Intervals are ``(lane, kind, start, end)`` in whole cycles of the clock period given (the cycle
at whose edge the state began, the one at whose edge it ended), as int64 rows (`LANES` and
`KINDS` indices) from `BusyMonitor.rows`.
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

__all__ = ["KINDS", "LANES", "BusyMonitor", "find_handle"]

#: Lane indices of the rows (the same names and order as `accel.perf.timeline.LANES`).
LANES = ("issue", "load", "execute", "store", "bus")
#: Kind indices of the rows.
KINDS = ("", "read", "write")


def find_handle(root, path: str):
    """The handle ``root.<path>`` (dotted), or None when the design has no such signal."""
    handle = root
    for part in path.split("."):
        try:
            handle = getattr(handle, part)
        except AttributeError:
            return None
    return handle


def _value(handle) -> int:
    value = handle.value
    return int(value) if value.is_resolvable else 0


class BusyMonitor:
    """Busy intervals of watched signals, from their value changes.

    Parameters
    ----------
    period_ns : float
        The clock period; times are divided by it into cycles.
    """

    def __init__(self, period_ns: float) -> None:
        self.period = period_ns
        self._closed: list[list] = []                         # [lane, kind, start, end]
        self._last: dict[int, list] = {}                      # lane -> its last closed one
        self._open: dict[int, tuple[int, int]] = {}          # lane -> (kind, since)

    def _now(self) -> int:
        from cocotb.utils import get_sim_time

        return int(round(get_sim_time(unit="ns") / self.period))

    def watch(self, lane: str, handles: Sequence, state: Callable[..., str | None]) -> None:
        """Watch ``handles``; ``state(*values)`` is None while idle, else the interval's kind.
        Starts a coroutine (`cocotb.start_soon`)."""
        import cocotb

        cocotb.start_soon(self._watch(LANES.index(lane), list(handles), state))

    def watch_count(self, lane: str, handle) -> None:
        """Busy while ``handle`` is non-zero."""
        self.watch(lane, [handle], lambda count: "" if count else None)

    def watch_all(self, lane: str, handles: Sequence) -> None:
        """Busy while every one of ``handles`` is high."""
        self.watch(lane, handles, lambda *values: "" if all(values) else None)

    def watch_bus(self, cyc, we) -> None:
        """The ``bus`` lane: busy while ``cyc``, a ``"write"`` while ``we`` else a ``"read"``."""
        self.watch("bus", [cyc, we],
                   lambda c, w: None if not c else ("write" if w else "read"))

    def watch_accelerator(self, accel, issue: Sequence) -> list[str]:
        """Watch the ``load``, ``execute``, ``store`` and ``bus`` lanes of the
        `accel.accelerator.Accelerator` instance ``accel`` and the ``issue`` handshake
        ``issue``; returns the lanes whose signals the design lacks (not watched)."""
        missing = []
        for unit in ("load", "execute", "store"):
            handle = find_handle(accel, f"dispatcher.scoreboard.{unit}_count")
            if handle is None:
                missing.append(unit)
            else:
                self.watch_count(unit, handle)
        cyc, we = find_handle(accel, "bus__cyc"), find_handle(accel, "bus__we")
        if cyc is None or we is None:
            missing.append("bus")
        else:
            self.watch_bus(cyc, we)
        if not issue or any(handle is None for handle in issue):
            missing.append("issue")
        else:
            self.watch_all("issue", issue)
        return missing

    async def _watch(self, lane: int, handles: list, state) -> None:
        from cocotb.triggers import First

        current: int | None = None
        while True:
            kind = state(*(_value(h) for h in handles))
            code = None if kind is None else KINDS.index(kind)
            if code != current:
                now = self._now()
                if current is not None:
                    since = self._open.pop(lane)[1]
                    if now > since:
                        self._last[lane] = [lane, current, since, now]
                        self._closed.append(self._last[lane])
                if code is not None:
                    since = now
                    last = self._last.get(lane)
                    if last is not None and last[1] == code and last[3] == now:
                        # A glitch (Icarus settles combinational signals in several steps):
                        # one interval, not two; the closed one becomes a tombstone.
                        since, last[3] = last[2], None
                    self._open[lane] = (code, since)
                current = code
            await First(*(h.value_change for h in handles))

    def rows(self, start: int, end: int) -> np.ndarray:
        """The intervals overlapping cycles ``start..end``, clipped to them and shifted so that
        ``start`` is cycle 0: int64 rows ``(lane, kind, start, end)`` (still-open intervals end
        at ``end``)."""
        found = [tuple(row) for row in self._closed if row[3] is not None]
        found += [(lane, kind, since, end) for lane, (kind, since) in self._open.items()]
        out = [(lane, kind, max(s, start) - start, min(e, end) - start)
               for lane, kind, s, e in found if s < end and e > start]
        out.sort(key=lambda row: (row[2], row[0]))
        return np.array(out, dtype=np.int64).reshape(-1, 4)
