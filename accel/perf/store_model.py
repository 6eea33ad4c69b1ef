"""Timing of the store unit (`accel.control.store_unit.StoreUnit`) and the DMA's write channel."""

from __future__ import annotations

from accel.arch.microarch import CHANNELS_CYCLES, POOL_REDUCE_LATENCY
from accel.config import AccelConfig
from accel.perf.bus import SharedBus
from accel.perf.timing import Timing
from accel.perf.transfers import transfer

__all__ = ["StoreModel"]


class StoreModel:
    """Schedules STORE_SP, STORE_ACC, STORE_ACT and STORE_POOL in order.

    Each store waits until the DMA's write channel has reported the previous store, then reads
    its rows one per cycle (through the activation unit for STORE_ACT) into the DMA, which writes
    one bus word per cycle; the store retires once every write is acknowledged. STORE_POOL reads
    ``kh * kw`` rows per output row, one per cycle, through the activation unit, the window
    reduction and (average) a second activation unit: its rows reach the DMA at most one per
    ``kh * kw`` cycles. The unit takes
    the next command once this one's rows are all handed to the DMA. CONFIG_ACT_CHANNELS reads
    two accumulator rows without the DMA and retires after the stores before it.
    """

    def __init__(self, config: AccelConfig, timing: Timing, bus: SharedBus) -> None:
        self.config = config
        self.timing = timing
        self.bus = bus
        self.unit_free = 0.0
        self.dma_free = 0.0
        self.last_retire = 0.0
        self._geometry = (config.in_bytes, config.acc_bytes, config.bus_bytes,
                          config.mem_size_limit)

    def ready(self) -> float:
        """Earliest cycle the unit accepts a command."""
        return self.unit_free

    def schedule(self, name: str, ops: dict[str, int], fire: float, stride: int,
                 pool: dict | None = None) -> float:
        """Schedule a store that fired at ``fire``; returns the cycle it retires. ``pool``
        (STORE_POOL) holds the window sizes ``kh``, ``kw`` and ``avg``."""
        tm = self.timing
        if name == "config_act_channels":
            accept = fire + tm.unit_accept
            self.unit_free = accept + CHANNELS_CYCLES
            self.last_retire = max(accept + CHANNELS_CYCLES + 1, self.last_retire + 1)
            return self.last_retire
        in_bytes, acc_bytes, bus_bytes, mem_size = self._geometry
        elem = acc_bytes if name == "store_acc" else in_bytes
        accept = max(fire + tm.unit_accept, self.dma_free)
        xfer = transfer(ops["mem_addr"], stride, ops["rows"], ops["cols"] * elem, bus_bytes,
                        mem_size)
        start = accept + tm.store_start + (tm.activation_latency if name == "store_act" else 0)
        if name == "store_pool":
            window = pool["kh"] * pool["kw"]
            start += tm.activation_latency * (2 if pool["avg"] else 1) + POOL_REDUCE_LATENCY \
                + window - 1
            produced = start + (ops["rows"] - 1) * window + xfer.last_row_words
            dma_end = max(self.bus.schedule("write", start, xfer), produced)
        else:
            dma_end = self.bus.schedule("write", start, xfer)
        retire = dma_end + tm.store_tail + (tm.store_acc_extra if name == "store_acc" else 0)
        retire = max(retire, self.last_retire + 1)
        self.unit_free = max(accept + 1, dma_end - xfer.last_row_words + 1)
        self.dma_free = retire + tm.store_gap
        self.last_retire = retire
        return retire
