"""DMA engine: strided 2-D transfers between row streams and main memory over Wishbone B4.

The engine has an independent read channel (:class:`~accel.memory.dma_read.DMAReader`) and
write channel (:class:`~accel.memory.dma_write.DMAWriter`); each is a pipelined Wishbone
master, and a round-robin :class:`~accel.bus.wishbone.Arbiter` merges them onto the engine's one
bus port. While both channels want the bus, each hands it over at its next row boundary.
"""

from __future__ import annotations

from amaranth.hdl import Module
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from accel.bus import wishbone
from accel.memory.dma_common import (check_dma_params, command_layout, done_layout, read_row_layout,
                         window_members, write_row_layout)
from accel.memory.dma_read import DMAReader
from accel.memory.dma_write import DMAWriter

__all__ = ["DMA", "DMAReader", "DMAWriter", "command_layout", "read_row_layout",
           "write_row_layout", "done_layout"]


class DMA(wiring.Component):
    """Two-channel DMA engine with one Wishbone B4 pipelined master port.

    Commands (both channels) have the payload :func:`command_layout`: ``addr`` (byte address of
    row 0, any alignment), ``stride`` (32-bit byte distance between row starts, added modulo
    ``2**addr_width``; 0 repeats a row; smaller than ``row_bytes`` overlaps rows), ``rows``
    (1..256; the field is 9 bits wide and 257..511 work the same way) and ``row_bytes``
    (1..``max_row_bytes``).

    Read channel: for each ``rd_cmd``, ``rows`` beats on ``rd_data``: ``data[i]`` is the byte at
    ``addr + r * stride + i`` for ``i < row_bytes`` and zero for higher lanes; ``last`` is set on
    the final row; ``err`` is set on a row any of whose bus words was answered with ``err``
    (the command still completes). ``rows == 0`` yields no beats; ``row_bytes`` of 0 or above
    ``max_row_bytes`` yields ``rows`` zero rows with ``err`` set and no bus access.

    Write channel: for each ``wr_cmd``, ``rows`` beats are consumed from ``wr_data`` and row
    ``r``'s first ``row_bytes`` bytes are written at ``addr + r * stride``; partial words use
    ``sel``, so no byte outside the rows is written. Then one ``wr_done`` beat reports the
    command, ``err = 1`` if some access returned a bus error (after which no new request of
    that command is issued, but all its rows are still consumed) or if the command was
    malformed (``rows``/``row_bytes`` out of range; nothing is written).

    The two channels run concurrently and are not ordered with respect to each other: a read
    issued while a write to the same addresses is in progress may see old or new bytes.
    Throughput with a zero-wait-state slave is one bus word per cycle per active channel in
    steady state (shared when both are active), also across row and (nearly) command
    boundaries. The bus outputs are registered-state functions (no combinational path from
    ``ack``/``err``/``stall`` to ``cyc``/``stb``); ``wr_data.ready`` does depend combinationally
    on ``bus.stall`` (the next row is taken in the cycle the current row's last word goes out).

    Window guard (defense in depth behind the dispatcher's precise check): ``bus.stb`` is high
    only for a word whose bytes ``bus.adr * data_width / 8 ..`` ``+ data_width / 8 - 1`` all lie
    in ``[window_base, window_last]`` — combinationally, whatever the window inputs do. A word
    outside is never requested: the read channel answers it itself as a bus error (its rows
    carry ``err``), the write channel treats it as a bus error (``wr_done.err``, no further
    request of that command). Keep the window unchanged while a command is in progress.

    Parameters
    ----------
    addr_width : int
        Byte-address bits (``bus.adr`` has ``addr_width - log2(data_width // 8)`` bits).
    data_width : int
        Bus data bits: 8, 16, 32, 64, 128 or 256.
    max_row_bytes : int
        Largest row (1..4096); the width of the row payloads.
    max_outstanding : int
        Most requests in flight per channel (1..64); 2 or more for full throughput with a
        one-cycle-latency slave, more to cover longer latencies.

    Members
    -------
    rd_cmd : In(stream.Signature(command_layout(addr_width, max_row_bytes)))
        Read commands.
    rd_data : Out(stream.Signature(read_row_layout(max_row_bytes)))
        Rows read: ``data`` (``ArrayLayout(unsigned(8), max_row_bytes)``), ``last``, ``err``.
    wr_cmd : In(stream.Signature(command_layout(addr_width, max_row_bytes)))
        Write commands.
    wr_data : In(stream.Signature(write_row_layout(max_row_bytes)))
        Rows to write: ``data`` (``ArrayLayout(unsigned(8), max_row_bytes)``).
    wr_done : Out(stream.Signature(done_layout()))
        One beat per write command: ``err``.
    bus : Out(wishbone.Signature(addr_width=..., data_width=data_width, granularity=8))
        Wishbone B4 pipelined master (features ``err`` and ``stall``).
    window_base, window_last : In(addr_width)
        The byte window (inclusive) of both channels; the whole address space by default.

    Raises
    ------
    ValueError
        If a parameter is out of range.
    """

    def __init__(self, *, addr_width: int, data_width: int, max_row_bytes: int,
                 max_outstanding: int = 4) -> None:
        check_dma_params(addr_width=addr_width, data_width=data_width,
                         max_row_bytes=max_row_bytes, max_outstanding=max_outstanding)
        self.addr_width = addr_width
        self.data_width = data_width
        self.max_row_bytes = max_row_bytes
        self.max_outstanding = max_outstanding
        word_shift = (data_width // 8 - 1).bit_length()
        cmd = command_layout(addr_width, max_row_bytes)
        super().__init__({
            "rd_cmd": In(stream.Signature(cmd)),
            "rd_data": Out(stream.Signature(read_row_layout(max_row_bytes))),
            "wr_cmd": In(stream.Signature(cmd)),
            "wr_data": In(stream.Signature(write_row_layout(max_row_bytes))),
            "wr_done": Out(stream.Signature(done_layout())),
            "bus": Out(wishbone.Signature(addr_width=addr_width - word_shift,
                                          data_width=data_width)),
            **window_members(addr_width),
        })

    def elaborate(self, platform):
        m = Module()
        params = dict(addr_width=self.addr_width, data_width=self.data_width,
                      max_row_bytes=self.max_row_bytes, max_outstanding=self.max_outstanding)
        m.submodules.reader = reader = DMAReader(**params)
        m.submodules.writer = writer = DMAWriter(**params)
        m.submodules.arbiter = arbiter = wishbone.Arbiter(
            n_masters=2, addr_width=self.bus.signature.addr_width, data_width=self.data_width)

        wiring.connect(m, wiring.flipped(self.rd_cmd), reader.cmd)
        wiring.connect(m, reader.data, wiring.flipped(self.rd_data))
        wiring.connect(m, wiring.flipped(self.wr_cmd), writer.cmd)
        wiring.connect(m, wiring.flipped(self.wr_data), writer.data)
        wiring.connect(m, writer.done, wiring.flipped(self.wr_done))
        wiring.connect(m, reader.bus, arbiter.masters[0])
        wiring.connect(m, writer.bus, arbiter.masters[1])
        wiring.connect(m, arbiter.bus, wiring.flipped(self.bus))
        m.d.comb += [
            reader.yield_req.eq(writer.bus.cyc),
            writer.yield_req.eq(reader.bus.cyc),
        ]
        for channel in (reader, writer):
            m.d.comb += [channel.window_base.eq(self.window_base),
                         channel.window_last.eq(self.window_last)]
        return m
