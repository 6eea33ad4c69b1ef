"""The DMA's two channels (and the command fetcher) sharing one Wishbone bus.

The read channel (loads) and the write channel (stores) each issue one bus word per cycle.
While both want the bus, the arbiter (`accel.bus.wishbone.Arbiter`) hands it over at every row
boundary (`accel.memory.dma.DMA`): rows of the two channels alternate, and each change of owner
costs `Timing.bus_switch` idle cycles. This model schedules transfers in the order the units
start them; a transfer that overlaps one already scheduled on the other channel is stretched by
the interleaved rows of that one, and that one's bus time is extended by the interleaved rows
of this one for the transfers scheduled later (its completion, already used by the model, keeps
its value). The command fetcher (`accel.perf.fetch_model`) is a third channel, whose
transfers are the bus words of one record each; it gets the bus only between DMA transfers.
"""

from __future__ import annotations

from collections import deque

from accel.perf.transfers import Transfer

__all__ = ["SharedBus"]


class SharedBus:
    """Bus schedule of the DMA's ``"read"`` and ``"write"`` channels and the ``"fetch"`` one.

    Parameters
    ----------
    switch : float
        Cycles lost per change of bus owner.

    Members
    -------
    words : int
        Bus words scheduled so far (every channel).
    """

    def __init__(self, switch: float) -> None:
        self.switch = switch
        self.words = 0
        self._busy: dict[str, deque] = {"read": deque(), "write": deque(), "fetch": deque()}

    def schedule(self, channel: str, start: float, xfer: Transfer) -> float:
        """Schedule ``xfer`` on ``channel`` from ``start``; returns when its last word has been
        issued (the cycle after)."""
        for name, entries in self._busy.items():
            while name != channel and entries and entries[0][1] <= start:
                entries.popleft()
        others = [entries for name, entries in self._busy.items() if name != channel]
        other = others[0] if not others[1] else others[1] if not others[0] else \
            sorted([*others[0], *others[1]], key=lambda entry: entry[0])
        t = float(start)
        if channel == "fetch":
            # A DMA channel keeps the bus for its whole transfer (it yields only to the other
            # DMA channel): the fetcher waits for the transfers in progress.
            for o_start, o_end, _ in other:
                if o_start <= t < o_end:
                    t = o_end + self.switch
        rows_left = float(xfer.rows)
        per_row = xfer.words_per_row
        for entry in other:
            o_start, o_end, o_per_row = entry
            if rows_left <= 0:
                break
            if o_end <= t:
                continue
            if o_start > t:                     # alone until the other transfer starts
                alone = min(rows_left, -(-(o_start - t) // per_row))
                t += alone * per_row
                rows_left -= alone
                if rows_left <= 0 or t >= o_end:
                    continue
            # Interleaved: each of our rows shares the bus with one row of the other, which
            # therefore also ends later (for the transfers scheduled after this one).
            other_rows = (o_end - max(t, o_start)) / o_per_row
            pairs = min(rows_left, other_rows)
            t += pairs * (per_row + o_per_row + 2 * self.switch)
            entry[1] = o_end + pairs * (per_row + 2 * self.switch)
            rows_left -= pairs
        t += rows_left * per_row
        self._busy[channel].append([float(start), t, per_row])
        self.words += xfer.words
        return t
