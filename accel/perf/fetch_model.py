"""The command fetcher (`accel.control.command_fetch.CommandFetch`) feeding a program's records.

When a program runs from a command buffer, the dispatcher gets record ``i`` no earlier than the
fetcher has read its bytes: the fetcher starts the cycle after EXEC_BUFFER fires, issues one bus
word per cycle (zero-wait memory) and runs at most `lookahead` records ahead of the dispatcher
(its beat FIFO plus its shift buffer). Its bus words are counted as bus traffic. Competition with
the DMA for the bus is not modelled: the fetcher prefetches while the dispatcher waits, which is
when the DMA is busy, so it rarely holds a record back.
"""

from __future__ import annotations

from accel.config import AccelConfig
from accel.isa.spec import RECORD_BYTES

__all__ = ["FETCH_DEPTH", "FETCH_LATENCY", "FetchModel"]

#: Bus words the fetcher reads ahead (the `CommandFetch` default ``depth``).
FETCH_DEPTH = 4
#: From EXEC_BUFFER firing (or a record's last bus word, when the fetcher was ahead) until the
#: dispatcher holds record 0: start register, request, ``ack``, beat FIFO, shift buffer, the
#: dispatcher's command register.
FETCH_LATENCY = 5


class FetchModel:
    """When each record of a buffer reaches the dispatcher.

    Parameters
    ----------
    config : AccelConfig
    start : float
        The cycle EXEC_BUFFER fires.
    addr : int
        Byte address of the buffer (its offset in a bus word matters).

    Members
    -------
    words : int
        Bus words read so far.
    """

    def __init__(self, config: AccelConfig, start: float, addr: int = 0) -> None:
        self.bus_bytes = config.bus_bytes
        self.offset = addr % self.bus_bytes
        held = FETCH_DEPTH * self.bus_bytes + max(self.bus_bytes, 4) + RECORD_BYTES
        self.lookahead = max(1, held // RECORD_BYTES - 1)
        self.start = start
        self.words = 0
        self._ready: list[float] = []
        self._fired: list[float] = []

    def _last_beat(self, index: int) -> int:
        return (self.offset + RECORD_BYTES * (index + 1) - 1) // self.bus_bytes

    def available(self, index: int) -> float:
        """The first cycle the dispatcher can hold record ``index`` (records in order)."""
        beat = self._last_beat(index)
        new_beats = beat - (self._last_beat(index - 1) if index else -1)
        self.words += new_beats
        ready = self.start + FETCH_LATENCY + beat
        if index:
            ready = max(ready, self._ready[-1] + new_beats)
        if index >= self.lookahead:
            ready = max(ready, self._fired[index - self.lookahead] + FETCH_LATENCY - 1)
        self._ready.append(ready)
        return ready

    def fired(self, cycle: float) -> None:
        """The next record (in order) fired at ``cycle``."""
        self._fired.append(cycle)
