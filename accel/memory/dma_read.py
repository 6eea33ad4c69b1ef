"""DMA read channel: strided, unaligned 2-D reads from a pipelined Wishbone bus into rows.

Structure: an *issuer* walks the bus words of every row and issues read requests back to back;
the responses (data and error flag) enter a word FIFO; an *assembler* pops words, collects the
words of one row and realigns them into a row register that drives the output stream. The
issuer only issues a request when the FIFO is certain to have room for its response (it counts
requests issued but not yet popped), so responses are never dropped even when the consumer of
rows applies back-pressure. Issuer and assembler walk the same row geometry independently.
"""

from __future__ import annotations

from amaranth.hdl import Cat, Module, Mux, Signal
from amaranth.lib import fifo, stream
from amaranth.lib.wiring import Out

from accel.memory.dma_common import (DMAChannel, max_row_words, read_row_layout, row_words,
                                     word_in_window)

__all__ = ["DMAReader"]


class DMAReader(DMAChannel):
    """Read channel of the DMA engine: one Wishbone B4 pipelined master.

    Each command reads ``rows`` rows of ``row_bytes`` bytes; row ``r`` starts at byte address
    ``addr + r * stride`` (modulo ``2**addr_width``), which may be unaligned. Stride 0 re-reads
    the same row; strides smaller than ``row_bytes`` read overlapping rows. Rows come out in
    order, one stream beat per row. The bus sees only whole-word reads (``sel`` all ones) of the
    words that cover each row, one request per cycle while at most ``max_outstanding`` are in
    flight and the internal response FIFO has room.

    A command with ``rows == 0`` is accepted and produces nothing. A command with
    ``row_bytes == 0`` or ``row_bytes > max_row_bytes`` produces its ``rows`` rows, all zero with
    ``err`` set, without touching the bus. A bus error does not stop the command: the rows that
    contain an errored word carry ``err = 1`` (the errored word's bytes are unspecified).

    Window guard: a word not entirely inside ``[window_base, window_last]`` is never requested.
    Once every earlier request of the channel has been answered, the word is refused: it enters
    the row assembly as if the bus had answered it with ``err`` (data zero), so the rows that
    contain it carry ``err = 1`` and the command completes.

    Parameters
    ----------
    addr_width : int
        Byte-address bits.
    data_width : int
        Bus data bits (8, 16, 32, 64, 128 or 256).
    max_row_bytes : int
        Largest ``row_bytes`` of a command (1..4096).
    max_outstanding : int
        Most read requests in flight (1..64). Steady-state throughput is one word per cycle
        when this exceeds the slave's request-to-ack latency.

    Members
    -------
    cmd : In(stream.Signature(command_layout(addr_width, max_row_bytes)))
        Commands. Accepted only once the previous command's last row has been assembled.
    data : Out(stream.Signature(read_row_layout(max_row_bytes)))
        Rows: ``data[i]`` is the byte at ``row start + i`` for ``i < row_bytes`` and zero above;
        ``last`` marks the command's final row; ``err`` marks a row touched by a bus error.
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
                             "data": Out(stream.Signature(read_row_layout(max_row_bytes))),
                         })

    def elaborate(self, platform):
        m = Module()
        nbytes = self.data_width // 8
        shift = self._word_shift
        nwords_max = max_row_words(self.max_row_bytes, nbytes)
        depth = self.max_outstanding + 2
        bus = self.bus

        cmd = Signal.like(self.cmd.payload)
        bad = Signal()
        tx_rows = Signal.like(cmd.rows)
        rx_rows = Signal.like(cmd.rows)
        tx_start = Signal.like(cmd.addr)
        rx_start = Signal.like(cmd.addr)
        tx_word = Signal(range(nwords_max + 1))
        rx_word = Signal(range(nwords_max + 1))

        m.d.comb += self.cmd.ready.eq((tx_rows == 0) & (rx_rows == 0))
        with m.If(self.cmd.valid & self.cmd.ready):
            p = self.cmd.payload
            m.d.sync += [
                cmd.eq(p),
                bad.eq((p.row_bytes == 0) | (p.row_bytes > self.max_row_bytes)),
                tx_rows.eq(p.rows), rx_rows.eq(p.rows),
                tx_start.eq(p.addr), rx_start.eq(p.addr),
                tx_word.eq(0), rx_word.eq(0),
            ]

        # ---- issuer ---------------------------------------------------------------------------
        outstanding = Signal(range(self.max_outstanding + 1))
        reserved = Signal(range(depth + 1))      # issued and not yet popped from the FIFO
        yielding = Signal()
        tx_words = Signal.like(tx_word)
        m.d.comb += tx_words.eq(row_words(tx_start[:shift], cmd.row_bytes, bad, nbytes))
        tx_last = Signal()
        m.d.comb += tx_last.eq(tx_word == tx_words - 1)

        want = Signal()           # the next word of the current row may go out now
        adr = Signal.like(bus.adr)
        in_window = Signal()
        accepted = Signal()
        refused = Signal()        # the word lies outside the window: answered here with err
        advance = Signal()
        response = Signal()
        m.d.comb += [
            want.eq((tx_rows != 0) & (tx_words != 0) & ~yielding &
                    (outstanding < self.max_outstanding) & (reserved < depth)),
            adr.eq(tx_start[shift:] + tx_word),
            in_window.eq(word_in_window(adr, self.window_base, self.window_last, shift)),
            bus.stb.eq(want & in_window),
            bus.cyc.eq(bus.stb | (outstanding != 0)),
            bus.we.eq(0),
            bus.sel.eq((1 << len(bus.sel)) - 1),
            bus.adr.eq(adr),
            accepted.eq(bus.stb & ~bus.stall),
            # Only with nothing outstanding, so that the refusal enters the response FIFO in
            # request order (and no bus response can arrive in the same cycle).
            refused.eq(want & ~in_window & (outstanding == 0)),
            advance.eq(accepted | refused),
            response.eq(bus.cyc & (bus.ack | bus.err)),
        ]
        m.d.sync += outstanding.eq(outstanding + accepted - response)

        with m.If((tx_rows != 0) & (tx_words == 0)):       # bad row: nothing to fetch
            m.d.sync += [tx_rows.eq(tx_rows - 1), tx_start.eq(tx_start + cmd.stride)]
        with m.Elif(advance):
            with m.If(tx_last):
                m.d.sync += [tx_word.eq(0), tx_rows.eq(tx_rows - 1),
                             tx_start.eq(tx_start + cmd.stride)]
                with m.If(self.yield_req):
                    m.d.sync += yielding.eq(1)
            with m.Else():
                m.d.sync += tx_word.eq(tx_word + 1)
        with m.If(yielding & (outstanding == 0)):
            m.d.sync += yielding.eq(0)

        # ---- response FIFO --------------------------------------------------------------------
        m.submodules.fifo = words = fifo.SyncFIFO(width=self.data_width + 1, depth=depth)
        m.d.comb += [
            words.w_data.eq(Mux(refused, 1 << self.data_width, Cat(bus.dat_r, bus.err))),
            words.w_en.eq(response | refused),
        ]
        word_data = words.r_data[:self.data_width]
        word_err = words.r_data[self.data_width]

        # ---- assembler ------------------------------------------------------------------------
        rx_words = Signal.like(rx_word)
        m.d.comb += rx_words.eq(row_words(rx_start[:shift], cmd.row_bytes, bad, nbytes))
        rx_last = Signal()
        m.d.comb += rx_last.eq(rx_word == rx_words - 1)
        out_free = Signal()
        m.d.comb += out_free.eq(~self.data.valid | self.data.ready)

        pop = Signal()
        skip = Signal()
        row_done = Signal()
        m.d.comb += [
            pop.eq(words.r_rdy & (rx_rows != 0) & (rx_words != 0) & (~rx_last | out_free)),
            skip.eq((rx_rows != 0) & (rx_words == 0) & out_free),
            row_done.eq((pop & rx_last) | skip),
            words.r_en.eq(pop),
        ]
        m.d.sync += reserved.eq(reserved + advance - pop)

        raw = Signal(nwords_max * self.data_width)
        raw_next = Signal.like(raw)
        m.d.comb += raw_next.eq(raw)
        with m.If(pop):
            m.d.comb += raw_next.word_select(rx_word, self.data_width).eq(word_data)
            m.d.sync += [raw.eq(raw_next), rx_word.eq(rx_word + 1)]

        aligned = Signal.like(raw)
        if nbytes == 1:
            m.d.comb += aligned.eq(raw_next)
        else:
            with m.Switch(rx_start[:shift]):
                for offset in range(nbytes):
                    with m.Case(offset):
                        m.d.comb += aligned.eq(raw_next[offset * 8:])
        row = Cat(Mux(lane < cmd.row_bytes, aligned[lane * 8:lane * 8 + 8], 0)
                  for lane in range(self.max_row_bytes))

        err_acc = Signal()
        with m.If(pop & word_err):
            m.d.sync += err_acc.eq(1)
        with m.If(row_done):
            m.d.sync += [
                self.data.valid.eq(1),
                self.data.payload.data.eq(row),
                self.data.payload.last.eq(rx_rows == 1),
                self.data.payload.err.eq(err_acc | (pop & word_err) | skip),
                err_acc.eq(0),
                rx_word.eq(0),
                rx_rows.eq(rx_rows - 1),
                rx_start.eq(rx_start + cmd.stride),
            ]
        with m.Elif(self.data.ready):
            m.d.sync += self.data.valid.eq(0)

        return m
