"""Payload layouts and parameter checks shared by the DMA's read and write channels."""

from __future__ import annotations

from amaranth.hdl import Cat, Const, Mux, unsigned
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from accel.arch import microarch
from accel.bus import wishbone
from accel.config import BUS_WIDTHS

__all__ = ["check_dma_params", "command_layout", "read_row_layout", "write_row_layout",
           "done_layout", "row_words", "max_row_words", "word_in_window", "window_members",
           "STRIDE_WIDTH", "MAX_ROWS"]

#: Width of the byte stride of a command.
STRIDE_WIDTH = 32
#: Largest number of rows in one command.
MAX_ROWS = 256


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def check_dma_params(*, addr_width: int, data_width: int, max_row_bytes: int,
                     max_outstanding: int) -> None:
    """Validate the DMA's scalar parameters.

    Raises
    ------
    ValueError
        If ``data_width`` is not 8, 16, 32, 64, 128 or 256; ``addr_width`` is not an integer
        between log2(data_width / 8) + 1 and 64; ``max_row_bytes`` is not an integer between 1 and
        4096; or ``max_outstanding`` is not an integer between 1 and 64.
    """
    widths = BUS_WIDTHS
    if data_width not in widths:
        raise ValueError(f"data_width must be one of {', '.join(map(str, widths))}, "
                         f"not {data_width!r}")
    lo = (data_width // 8).bit_length()
    for name, value, low, high in (("addr_width", addr_width, lo, 64),
                                   ("max_row_bytes", max_row_bytes, 1, 4096),
                                   ("max_outstanding", max_outstanding, 1, 64)):
        if not _is_int(value) or not low <= value <= high:
            raise ValueError(f"{name} must be an integer between {low} and {high}, "
                             f"not {value!r}")


def command_layout(addr_width: int, max_row_bytes: int) -> data.StructLayout:
    """Layout of a read or write command: ``rows`` rows of ``row_bytes`` bytes, ``stride`` apart.

    Fields: ``addr`` (byte address of row 0), ``stride`` (byte distance between consecutive row
    starts, added modulo ``2**addr_width``), ``rows`` (1..256), ``row_bytes``
    (1..``max_row_bytes``).
    """
    return data.StructLayout({
        "addr": unsigned(addr_width),
        "stride": unsigned(STRIDE_WIDTH),
        "rows": unsigned(MAX_ROWS.bit_length()),
        "row_bytes": unsigned(max_row_bytes.bit_length()),
    })


def read_row_layout(max_row_bytes: int) -> data.StructLayout:
    """Layout of one row delivered by the read channel (``data``, ``last``, ``err``)."""
    return data.StructLayout({
        "data": data.ArrayLayout(unsigned(8), max_row_bytes),
        "last": unsigned(1),
        "err": unsigned(1),
    })


def write_row_layout(max_row_bytes: int) -> data.StructLayout:
    """Layout of one row accepted by the write channel (``data``)."""
    return data.StructLayout({
        "data": data.ArrayLayout(unsigned(8), max_row_bytes),
    })


def done_layout() -> data.StructLayout:
    """Layout of a write-command completion (``err``)."""
    return data.StructLayout({"err": unsigned(1)})


def row_words(offset, row_bytes, bad, data_bytes: int):
    """Number of bus words covering ``row_bytes`` bytes that start ``offset`` bytes into a word.

    Returns an expression that is zero when ``bad`` (a row that must not touch the bus).
    """
    return Mux(bad, 0, microarch.row_words(offset, row_bytes, data_bytes))


def max_row_words(max_row_bytes: int, data_bytes: int) -> int:
    """Most bus words one row can touch (an unaligned row may straddle one extra word)."""
    return (max_row_bytes + 2 * data_bytes - 2) // data_bytes


def window_members(addr_width: int) -> dict:
    """The window input ports of a DMA channel or engine: ``window_base`` and ``window_last``,
    byte addresses of ``addr_width`` bits whose reset values span the whole address space."""
    return {
        "window_base": In(unsigned(addr_width), init=0),
        "window_last": In(unsigned(addr_width), init=(1 << addr_width) - 1),
    }


def word_in_window(word_addr, base, last, word_shift: int):
    """Whether every byte of the bus word at word address ``word_addr`` lies in ``[base, last]``.

    ``base`` and ``last`` are byte addresses; the word holds bytes ``word_addr << word_shift``
    to ``(word_addr << word_shift) + 2**word_shift - 1``.
    """
    if word_shift == 0:
        first = final = word_addr
    else:
        first = Cat(Const(0, word_shift), word_addr)
        final = Cat(Const((1 << word_shift) - 1, word_shift), word_addr)
    return (first >= base) & (final <= last)


class DMAChannel(wiring.Component):
    """Base of the read and write channels: validated parameters, the command port, a Wishbone
    master port, ``yield_req`` and the address window, plus the channel's own data ports from
    ``members``.

    The window guard: ``window_base`` and ``window_last`` (byte addresses, inclusive; by default
    the whole address space) bound every request. ``bus.stb`` is never high for a word that is
    not entirely inside ``[window_base, window_last]``; such a word is refused instead and
    reported like a bus error. The window must stay unchanged while a command is in progress
    (if it changes, a stalled request that leaves the window is withdrawn, which the pipelined
    protocol does not allow, rather than issued).
    """

    def __init__(self, *, addr_width: int, data_width: int, max_row_bytes: int,
                 max_outstanding: int, members: dict) -> None:
        check_dma_params(addr_width=addr_width, data_width=data_width,
                         max_row_bytes=max_row_bytes, max_outstanding=max_outstanding)
        self.addr_width = addr_width
        self.data_width = data_width
        self.max_row_bytes = max_row_bytes
        self.max_outstanding = max_outstanding
        self._word_shift = (data_width // 8 - 1).bit_length()
        super().__init__({
            "cmd": In(stream.Signature(command_layout(addr_width, max_row_bytes))),
            **members,
            "bus": Out(wishbone.Signature(addr_width=addr_width - self._word_shift,
                                          data_width=data_width)),
            "yield_req": In(1),
            **window_members(addr_width),
        })

