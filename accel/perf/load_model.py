"""Timing of the load unit (`accel.control.load_unit.LoadUnit`) and the DMA's read channel."""

from __future__ import annotations

from accel.arch.microarch import dma_row_bytes
from accel.config import AccelConfig
from accel.perf.bus import SharedBus
from accel.perf.timing import Timing
from accel.perf.transfers import transfer

__all__ = ["LoadModel"]


class LoadModel:
    """Schedules LOAD_SP, LOAD_SP_T and LOAD_ACC in order.

    The issuer hands each command to the DMA as soon as the DMA has assembled the previous
    command's rows; the writer puts rows into the SRAM one per cycle (LOAD_SP, LOAD_ACC) or one
    element per cycle (LOAD_SP_T, which the DMA fetches in chunks of at most
    `accel.arch.dma_row_bytes` bytes per row), then drains and reports the command done.
    ``acc_window(start, rows)`` (`ExecModel.acc_free_window`) delays LOAD_ACC's rows around
    the execute unit's result writes, which the accumulator serves first.
    """

    def __init__(self, config: AccelConfig, timing: Timing, bus: SharedBus,
                 acc_window=None) -> None:
        self.config = config
        self.acc_window = acc_window
        self.timing = timing
        self.bus = bus
        self.chunk = dma_row_bytes(config) // config.in_bytes
        self._geometry = (config.in_bytes, config.acc_bytes, config.bus_bytes,
                          config.mem_size_limit)
        self.issuer_free = 0.0      # the unit takes a new command (issuer idle)
        self.dma_free = 0.0         # the DMA read channel takes a new command
        self.writer_free = 0.0      # the writer is back in its idle state
        self.last_retire = 0.0

    def ready(self) -> float:
        """Earliest cycle the unit accepts a command."""
        return self.issuer_free

    def schedule(self, name: str, ops: dict[str, int], fire: float, stride: int) -> float:
        """Schedule a load that fired at ``fire``; returns the cycle it retires."""
        tm = self.timing
        in_bytes, acc_bytes, bus_bytes, mem_size = self._geometry
        rows, cols, addr = ops["rows"], ops["cols"], ops["mem_addr"]
        elem = acc_bytes if name == "load_acc" else in_bytes
        held = fire + tm.unit_accept
        if name != "load_sp_t":
            accept = max(held, self.dma_free)
            xfer = transfer(addr, stride, rows, cols * elem, bus_bytes, mem_size)
            dma_end = self.bus.schedule("read", accept + 1, xfer)
            last_row_out = dma_end + tm.dma_read_pipeline
            writer_end = max(last_row_out, self.writer_free + rows)
            if name == "load_acc" and self.acc_window is not None:
                # result rows of the execute unit take the accumulator first
                writer_end = max(last_row_out, self.acc_window(writer_end - rows, rows))
            self.dma_free = max(last_row_out, writer_end - 1)
            retire = writer_end + tm.load_drain
        else:
            writer = self.writer_free
            accept = held
            for index, start in enumerate(range(0, cols, self.chunk)):
                part = min(self.chunk, cols - start)
                accept = max(held if index == 0 else accept + 1, self.dma_free)
                xfer = transfer(addr + start * in_bytes, stride, rows, part * in_bytes,
                                bus_bytes, mem_size)
                dma_end = self.bus.schedule("read", accept + 1, xfer)
                first_row_out = accept + 1 + xfer.first_row_words + tm.dma_read_pipeline
                last_row_out = dma_end + tm.dma_read_pipeline
                begin = max(first_row_out, writer + (tm.transpose_chunk_gap if index else 0))
                writer = max(begin + rows * part, last_row_out + part)
                self.dma_free = max(last_row_out, writer - part + 1)
            writer_end = writer
            retire = writer_end + tm.transpose_drain
        self.issuer_free = accept + 1
        retire = max(retire, self.last_retire + 1)
        self.writer_free = writer_end + tm.writer_turnaround
        self.last_retire = retire
        return retire
