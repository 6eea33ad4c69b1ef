"""The command fetcher (`accel.control.command_fetch.CommandFetch`) feeding a program's records.

When a program runs from a command buffer, the dispatcher gets record ``i`` no earlier than the
fetcher has read its bytes: the fetcher starts the cycle after EXEC_BUFFER fires, issues one bus
word per cycle and runs at most `lookahead` records ahead of the dispatcher (its beat FIFO plus
its shift buffer). Its bus words go through the `SharedBus` as a third channel, so they compete
with the DMA's transfers (and count as bus traffic).
"""

from __future__ import annotations

from accel.config import AccelConfig
from accel.isa.spec import RECORD_BYTES
from accel.perf.bus import SharedBus
from accel.perf.transfers import Transfer

__all__ = ["FETCH_DEPTH", "FETCH_TAIL", "FetchModel"]

#: Bus words the fetcher reads ahead (the `CommandFetch` default ``depth``).
FETCH_DEPTH = 4
#: From the cycle after a record's last bus word is issued until the dispatcher holds it:
#: ``ack``, beat FIFO, shift buffer, the dispatcher's command register.
FETCH_TAIL = 4


class FetchModel:
    """When each record of a buffer reaches the dispatcher.

    Parameters
    ----------
    config : AccelConfig
    bus : SharedBus
        The bus the DMA's transfers are scheduled on.
    start : float
        The cycle EXEC_BUFFER fires.
    addr : int
        Byte address of the buffer (its offset in a bus word matters).

    Members
    -------
    words : int
        Bus words read so far.
    """

    def __init__(self, config: AccelConfig, bus: SharedBus, start: float,
                 addr: int = 0) -> None:
        self.bus = bus
        self.bus_bytes = config.bus_bytes
        self.offset = addr % self.bus_bytes
        held = FETCH_DEPTH * self.bus_bytes + max(self.bus_bytes, 4) + RECORD_BYTES
        self.lookahead = max(1, held // RECORD_BYTES - 1)
        self.words = 0
        self._issue = start + 1.0
        self._ready: list[float] = []
        self._fired: list[float] = []

    def _last_beat(self, index: int) -> int:
        return (self.offset + RECORD_BYTES * (index + 1) - 1) // self.bus_bytes

    def available(self, index: int) -> float:
        """The first cycle the dispatcher can hold record ``index`` (records in order)."""
        new_beats = self._last_beat(index) - (self._last_beat(index - 1) if index else -1)
        self.words += new_beats
        if new_beats:
            issue = self._issue
            if index >= self.lookahead:   # the FIFO has room once an earlier record is taken
                issue = max(issue, self._fired[index - self.lookahead] + 1)
            self._issue = self.bus.schedule("fetch", issue,
                                            Transfer(1, new_beats, new_beats, new_beats))
            ready = self._issue + FETCH_TAIL
        else:                             # already in the shift buffer
            ready = self._ready[-1]
        self._ready.append(ready)
        return ready

    def fired(self, cycle: float) -> None:
        """The next record (in order) fired at ``cycle``."""
        self._fired.append(cycle)
