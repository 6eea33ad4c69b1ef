"""On-chip SRAM: a zero-wait-state Wishbone B4 pipelined slave of any bus width, and optionally a
second, private 32-bit port for the control core (a true dual-port block RAM)."""

from amaranth.hdl import Module, Signal
from amaranth.lib import wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from accel.bus import wishbone

__all__ = ["CorePortSignature", "WishboneSRAM"]


class CorePortSignature(wiring.Signature):
    """A 32-bit word port with byte write enables and one cycle of read latency, seen from the
    master (the core).

    Members
    -------
    addr : Out(addr_width)
        32-bit word address.
    re : Out(1)
        Read ``addr``: ``rdata`` holds the word from the next cycle until the next read.
    we : Out(4)
        Byte enables of a write of ``wdata`` to ``addr`` (in this cycle).
    wdata : Out(32)
    rdata : In(32)
    """

    def __init__(self, addr_width: int):
        super().__init__({"addr": Out(addr_width), "re": Out(1), "we": Out(4),
                          "wdata": Out(32), "rdata": In(32)})


class WishboneSRAM(wiring.Component):
    """Word-organised SRAM on a pipelined Wishbone slave port, initialised from a byte image.

    The Wishbone port never stalls: a request is accepted every cycle and answered (``ack``) in
    the next cycle, so back-to-back requests stream at one ``data_width`` word per cycle. Writes
    honour the byte enables ``sel``. Never answers with ``err``.

    With ``core_port``, a second port ``core`` (`CorePortSignature`) reads and writes 32-bit
    words independently of the Wishbone port (the memory has two read and two write ports, the
    shape of a true dual-port block RAM such as ECP5's DP16KD). A read on one port in the cycle
    the other port writes the same word returns the new contents (of the bytes written); two
    writes to the same byte in one cycle leave either value.

    Parameters
    ----------
    size : int
        Size in bytes: a power of two, at least one word.
    data_width : int
        Wishbone (and memory word) width in bits: 8, 16, 32, 64, 128 or 256; granularity is 8.
        At least 32 with ``core_port``.
    init : bytes, optional
        Initial contents (little-endian words), at most ``size`` bytes; the rest is zero.
    core_port : bool
        Add the 32-bit port ``core``.

    Members
    -------
    bus : In(wishbone.Signature(addr_width=log2(size / (data_width / 8)), data_width=data_width))
    core : In(CorePortSignature(addr_width=log2(size / 4)))
        Only with ``core_port``.

    Raises
    ------
    ValueError
        If ``size`` is not a power of two of at least one word, ``init`` does not fit, or
        ``core_port`` is asked for with ``data_width`` below 32.
    """

    def __init__(self, *, size: int, data_width: int = 32, init: bytes | None = None,
                 core_port: bool = False):
        word_bytes = data_width // 8
        if (not isinstance(size, int) or size < max(word_bytes, 4 if core_port else 1)
                or size & (size - 1)):
            raise ValueError(f"size must be a power of two of at least {word_bytes} bytes, "
                             f"not {size!r}")
        if core_port and data_width < 32:
            raise ValueError(f"a core port needs data_width of at least 32, not {data_width!r}")
        init = bytes(init or b"")
        if len(init) > size:
            raise ValueError(f"init image of {len(init)} bytes does not fit in {size} bytes "
                             f"of SRAM")
        self.size = size
        self.data_width = data_width
        self.depth = size // word_bytes
        self.core_port = core_port
        padded = init + bytes(-len(init) % word_bytes)
        self.init = [int.from_bytes(padded[i:i + word_bytes], "little")
                     for i in range(0, len(padded), word_bytes)]
        members = {"bus": In(wishbone.Signature(addr_width=(self.depth - 1).bit_length(),
                                                data_width=data_width))}
        if core_port:
            members["core"] = In(CorePortSignature((size // 4 - 1).bit_length()))
        super().__init__(members)

    def elaborate(self, platform):
        m = Module()
        m.submodules.memory = memory = Memory(shape=self.data_width, depth=self.depth,
                                              init=self.init)
        write = memory.write_port(granularity=8)
        core_write = memory.write_port(granularity=8) if self.core_port else None
        # Each port's read is transparent for the other port's write: the collision then has a
        # defined result that Yosys maps onto a true dual-port block RAM (ECP5 DP16KD) with a
        # small bypass; with "old data" it would build the memory from flip-flops.
        read = memory.read_port(transparent_for=(core_write,) if self.core_port else ())
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
        if self.core_port:
            self._elaborate_core_port(m, memory.read_port(transparent_for=(write,)), core_write)
        return m

    def _elaborate_core_port(self, m, read, write):
        # The core's 32-bit lane of a data_width-bit memory word: the low word-address bits.
        lanes = self.data_width // 32
        lane_bits = (lanes - 1).bit_length()
        core = self.core
        lane = core.addr[:lane_bits]
        read_lane = Signal(range(lanes))
        with m.If(core.re):
            m.d.sync += read_lane.eq(lane)
        m.d.comb += [
            read.addr.eq(core.addr[lane_bits:]),
            read.en.eq(core.re),
            core.rdata.eq(read.data.word_select(read_lane, 32) if lanes > 1 else read.data),
            write.addr.eq(core.addr[lane_bits:]),
            write.data.eq(core.wdata.replicate(lanes)),
        ]
        if lanes > 1:
            for index in range(lanes):
                with m.If(lane == index):
                    m.d.comb += write.en.word_select(index, 4).eq(core.we)
        else:
            m.d.comb += write.en.eq(core.we)
