"""DMA write channel: strided, unaligned 2-D writes of rows to a pipelined Wishbone bus.

The channel holds one row in a register, shifts it to the byte offset of its destination and
issues one write request per covering bus word, with ``sel`` enabling exactly the row's bytes.
The next row is accepted in the cycle the current row's last request is accepted, so rows stream
back to back at one word per cycle.
"""

from __future__ import annotations

from amaranth.hdl import Cat, Const, Module, Signal
from amaranth.lib import stream
from amaranth.lib.wiring import In, Out

from accel.memory.dma_common import (DMAChannel, done_layout, max_row_words, row_words,
                                     word_in_window, write_row_layout)

__all__ = ["DMAWriter"]


class DMAWriter(DMAChannel):
    """Write channel of the DMA engine: one Wishbone B4 pipelined master.

    Each command consumes ``rows`` beats of ``data`` and writes beat ``r``'s first
    ``row_bytes`` bytes to byte addresses ``addr + r * stride + i`` (modulo ``2**addr_width``),
    using ``sel`` so that no byte outside the row is written. Requests are pipelined, at most
    ``max_outstanding`` in flight. After all rows are consumed and every request is answered,
    one ``done`` beat reports the command.

    If any request of a command is answered with ``err``, the channel issues no further request
    for that command (a request already presented and stalled on the bus is still completed),
    but still consumes all its rows, and reports ``done.err = 1``. A command with ``rows == 0``,
    ``row_bytes == 0`` or ``row_bytes > max_row_bytes`` touches no memory: its rows are consumed
    and ``done.err = 1`` is reported.

    Window guard: a word not entirely inside ``[window_base, window_last]`` is never requested;
    reaching one acts like a bus error: no further request of the command, all of its rows
    consumed, ``done.err = 1``.

    Parameters
    ----------
    addr_width, data_width, max_row_bytes, max_outstanding
        As for :class:`~accel.memory.dma_read.DMAReader`.

    Members
    -------
    cmd : In(stream.Signature(command_layout(addr_width, max_row_bytes)))
        Commands. Accepted when the previous command has been reported on ``done``.
    data : In(stream.Signature(write_row_layout(max_row_bytes)))
        Rows, one per beat; byte ``i`` of the row is ``data[i]``; lanes ``>= row_bytes`` are
        ignored. Beats are only accepted while a command needs them.
    done : Out(stream.Signature(done_layout()))
        One beat per command, once all of its writes are acknowledged; ``err`` as above.
    bus : Out(wishbone.Signature(addr_width=addr_width - log2(data_width // 8), ...))
        Wishbone B4 pipelined master port (features ``err`` and ``stall``).
    yield_req : In(1)
        Another master wants the bus: after the current row's last request, stop issuing and
        drop ``cyc`` once all responses are in, so an arbiter can switch.
    window_base, window_last : In(addr_width)
        The byte window every request must lie in (inclusive); whole address space by default.
        Must not change while a command is in progress.

    Raises
    ------
    ValueError
        If a parameter is out of range (see :func:`check_dma_params`).
    """

    def __init__(self, *, addr_width: int, data_width: int, max_row_bytes: int,
                 max_outstanding: int) -> None:
        super().__init__(addr_width=addr_width, data_width=data_width,
                         max_row_bytes=max_row_bytes, max_outstanding=max_outstanding,
                         members={
                             "data": In(stream.Signature(write_row_layout(max_row_bytes))),
                             "done": Out(stream.Signature(done_layout())),
                         })

    def elaborate(self, platform):
        m = Module()
        nbytes = self.data_width // 8
        shift = self._word_shift
        nwords_max = max_row_words(self.max_row_bytes, nbytes)
        bus = self.bus

        busy = Signal()
        err = Signal()
        cmd = Signal.like(self.cmd.payload)
        rows_take = Signal.like(cmd.rows)       # rows still to accept from `data`
        start = Signal.like(cmd.addr)           # destination of the row held in `row`
        row = Signal(8 * self.max_row_bytes)
        row_valid = Signal()
        word = Signal(range(nwords_max + 1))
        outstanding = Signal(range(self.max_outstanding + 1))
        yielding = Signal()
        held = Signal()                         # a stalled request is being presented

        m.d.comb += self.cmd.ready.eq(~busy)
        with m.If(self.cmd.valid & self.cmd.ready):
            p = self.cmd.payload
            m.d.sync += [
                busy.eq(1),
                cmd.eq(p),
                err.eq((p.rows == 0) | (p.row_bytes == 0) |
                       (p.row_bytes > self.max_row_bytes)),
                rows_take.eq(p.rows),
                start.eq(p.addr),
                word.eq(0),
            ]

        # Shift the row and its byte enables to the destination's offset within a bus word.
        offset = start[:shift]
        lanes = Cat(lane < cmd.row_bytes for lane in range(self.max_row_bytes))
        shifted = Signal(nwords_max * self.data_width)
        shifted_sel = Signal(nwords_max * nbytes)
        if nbytes == 1:
            m.d.comb += [shifted.eq(row), shifted_sel.eq(lanes)]
        else:
            with m.Switch(offset):
                for k in range(nbytes):
                    with m.Case(k):
                        m.d.comb += [shifted.eq(Cat(Const(0, 8 * k), row)),
                                     shifted_sel.eq(Cat(Const(0, k), lanes))]

        words = Signal.like(word)
        m.d.comb += words.eq(row_words(offset, cmd.row_bytes, err, nbytes))
        last = Signal()
        m.d.comb += last.eq(word == words - 1)

        present = Signal()        # a request is due: held from a stall, or the next word
        adr = Signal.like(bus.adr)
        in_window = Signal()
        accepted = Signal()
        response = Signal()
        skip = Signal()
        row_done = Signal()
        m.d.comb += [
            present.eq(held | (row_valid & ~err & ~yielding &
                               (outstanding < self.max_outstanding))),
            adr.eq(start[shift:] + word),
            in_window.eq(word_in_window(adr, self.window_base, self.window_last, shift)),
            bus.stb.eq(present & in_window),
            bus.cyc.eq(bus.stb | (outstanding != 0)),
            bus.we.eq(1),
            bus.adr.eq(adr),
            bus.dat_w.eq(shifted.word_select(word, self.data_width)),
            bus.sel.eq(shifted_sel.word_select(word, nbytes)),
            accepted.eq(bus.stb & ~bus.stall),
            response.eq(bus.cyc & (bus.ack | bus.err)),
            skip.eq(row_valid & err & ~held),
            row_done.eq((accepted & last) | skip),
        ]
        m.d.sync += [
            held.eq(bus.stb & bus.stall),
            outstanding.eq(outstanding + accepted - response),
        ]
        with m.If((response & bus.err) | (present & ~in_window)):
            m.d.sync += err.eq(1)

        with m.If(accepted & ~last):
            m.d.sync += word.eq(word + 1)
        with m.If(row_done):
            m.d.sync += [word.eq(0), row_valid.eq(0), start.eq(start + cmd.stride)]
            with m.If(accepted & self.yield_req):
                m.d.sync += yielding.eq(1)
        with m.If(yielding & (outstanding == 0)):
            m.d.sync += yielding.eq(0)

        m.d.comb += self.data.ready.eq(busy & (rows_take != 0) & (~row_valid | row_done))
        with m.If(self.data.valid & self.data.ready):
            m.d.sync += [row.eq(self.data.payload.data), row_valid.eq(1),
                         rows_take.eq(rows_take - 1)]

        # Completion: every row consumed and every request answered.
        with m.If(busy & (rows_take == 0) & ~row_valid & (outstanding == 0) &
                  (~self.done.valid | self.done.ready)):
            m.d.sync += [busy.eq(0), self.done.valid.eq(1), self.done.payload.err.eq(err)]
        with m.Elif(self.done.ready):
            m.d.sync += self.done.valid.eq(0)

        return m
