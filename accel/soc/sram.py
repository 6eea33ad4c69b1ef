"""On-chip SRAM as a zero-wait-state Wishbone B4 pipelined slave."""

from amaranth.hdl import Module
from amaranth.lib import wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In

from accel.bus import wishbone

__all__ = ["WishboneSRAM"]


class WishboneSRAM(wiring.Component):
    """Word-organised SRAM on a pipelined Wishbone slave port, initialised from a byte image.

    Never stalls: a request is accepted every cycle and answered (``ack``) in the next cycle, so
    back-to-back requests stream at one word per cycle. Writes honour the byte enables ``sel``.
    Never answers with ``err``.

    Parameters
    ----------
    size : int
        Size in bytes: a power of two, at least one word.
    data_width : int
        Bus (and word) width in bits: 8, 16, 32 or 64 ...; granularity is 8.
    init : bytes, optional
        Initial contents (little-endian words), at most ``size`` bytes; the rest is zero.

    Members
    -------
    bus : In(wishbone.Signature(addr_width=log2(size / (data_width / 8)), data_width=data_width))

    Raises
    ------
    ValueError
        If ``size`` is not a power of two of at least one word, or ``init`` does not fit.
    """

    def __init__(self, *, size: int, data_width: int = 32, init: bytes | None = None):
        word_bytes = data_width // 8
        if (not isinstance(size, int) or size < word_bytes or size & (size - 1)):
            raise ValueError(f"size must be a power of two of at least {word_bytes} bytes, "
                             f"not {size!r}")
        init = bytes(init or b"")
        if len(init) > size:
            raise ValueError(f"init image of {len(init)} bytes does not fit in {size} bytes "
                             f"of SRAM")
        self.size = size
        self.data_width = data_width
        self.depth = size // word_bytes
        padded = init + bytes(-len(init) % word_bytes)
        self.init = [int.from_bytes(padded[i:i + word_bytes], "little")
                     for i in range(0, len(padded), word_bytes)]
        super().__init__({
            "bus": In(wishbone.Signature(addr_width=(self.depth - 1).bit_length(),
                                         data_width=data_width)),
        })

    def elaborate(self, platform):
        m = Module()
        m.submodules.memory = memory = Memory(shape=self.data_width, depth=self.depth,
                                              init=self.init)
        read = memory.read_port()
        write = memory.write_port(granularity=8)
        bus = self.bus
        request = bus.cyc & bus.stb
        m.d.comb += [
            read.addr.eq(bus.adr),
            read.en.eq(request & ~bus.we),
            write.addr.eq(bus.adr),
            write.data.eq(bus.dat_w),
            write.en.eq(bus.sel & (request & bus.we).replicate(len(bus.sel))),
            bus.dat_r.eq(read.data),
            bus.stall.eq(0),
            bus.err.eq(0),
        ]
        m.d.sync += bus.ack.eq(request)
        return m
