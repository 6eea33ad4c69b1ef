"""A Wishbone B4 pipelined address decoder: one master, one slave port per memory-map region."""

from amaranth.hdl import Module, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from accel.bus import wishbone

__all__ = ["Decoder"]


class Decoder(wiring.Component):
    """Routes each request of ``bus`` to the slave whose region holds its address.

    A request whose address lies in no region is answered with ``err`` (one cycle after it is
    accepted) and reaches no slave. Requests may stream back to back into one slave; a request
    for a *different* slave (or the error responder) is stalled until every outstanding response
    has come back, which keeps responses in request order. Dropping ``cyc`` aborts outstanding
    requests (the slave sees ``cyc`` fall too).

    Parameters
    ----------
    regions : iterable of memory_map.Region
        The regions to decode, with byte ``base`` and ``size`` (powers of two, ``base`` aligned,
        non-overlapping, at least one word). Each becomes a slave port named after the region.
    addr_width : int
        Word-address width of the master port ``bus``.
    data_width : int
        Data width of every port (granularity 8).
    max_outstanding : int
        Most requests the master may have outstanding.

    Members
    -------
    bus : In(wishbone.Signature(addr_width=addr_width, data_width=data_width))
    <region.name> : Out(wishbone.Signature(addr_width=log2(region.size / word bytes), ...))
        One per region.

    Raises
    ------
    ValueError
        If a region is misaligned, too small, overlaps another, lies outside the address space,
        or its name collides with ``bus``.
    """

    def __init__(self, *, regions, addr_width: int = 30, data_width: int = 32,
                 max_outstanding: int = 16):
        word_bytes = data_width // 8
        self.regions = tuple(regions)
        self.max_outstanding = max_outstanding
        self._windows = []                       # (name, word base, slave addr_width)
        members = {"bus": In(wishbone.Signature(addr_width=addr_width, data_width=data_width))}
        taken = []
        for r in self.regions:
            if r.size < word_bytes or r.size & (r.size - 1) or r.base % r.size:
                raise ValueError(f"region {r.name!r} must have a power-of-two size of at least "
                                 f"{word_bytes} bytes and a base aligned to it, not "
                                 f"base={r.base:#x} size={r.size:#x}")
            if r.base + r.size > word_bytes << addr_width:
                raise ValueError(f"region {r.name!r} ends at {r.base + r.size:#x}, outside the "
                                 f"{addr_width}-bit word address space")
            for other in taken:
                if r.base < other.base + other.size and other.base < r.base + r.size:
                    raise ValueError(f"regions {other.name!r} and {r.name!r} overlap")
            if r.name in members:
                raise ValueError(f"region name {r.name!r} is not allowed or repeated")
            taken.append(r)
            bits = (r.size // word_bytes - 1).bit_length()
            self._windows.append((r.name, r.base // word_bytes, bits))
            members[r.name] = Out(wishbone.Signature(addr_width=bits, data_width=data_width))
        super().__init__(members)

    def slave(self, name):
        """The slave port of region ``name``."""
        return getattr(self, name)

    def elaborate(self, platform):
        m = Module()
        bus = self.bus
        n = len(self._windows)
        error_index = n

        target = Signal(range(n + 1))               # slave chosen by the current address
        owner = Signal(range(n + 1))                # slave holding the outstanding requests
        pending = Signal(range(self.max_outstanding + 1))
        m.d.comb += target.eq(error_index)
        for index, (name, base, bits) in reversed(list(enumerate(self._windows))):
            with m.If(bus.adr[bits:] == base >> bits):
                m.d.comb += target.eq(index)

        can_issue = (pending == 0) | (owner == target)
        slave_stall = Signal()
        m.d.comb += bus.stall.eq(~can_issue | slave_stall)
        accept = bus.cyc & bus.stb & ~bus.stall

        response = Signal()
        error_ack = Signal()
        m.d.sync += error_ack.eq(accept & (target == error_index))
        for index, (name, base, bits) in enumerate(self._windows):
            port = self.slave(name)
            selected = Signal(name=f"selected_{name}")
            m.d.comb += selected.eq(((pending != 0) & (owner == index)) |
                                    ((pending == 0) & (target == index)))
            m.d.comb += [
                port.cyc.eq(bus.cyc & selected),
                port.stb.eq(bus.stb & can_issue & (target == index)),
                port.we.eq(bus.we),
                port.adr.eq(bus.adr[:bits]),
                port.dat_w.eq(bus.dat_w),
                port.sel.eq(bus.sel),
            ]
            with m.If(target == index):
                m.d.comb += slave_stall.eq(port.stall)
            with m.If(owner == index):
                m.d.comb += [
                    bus.ack.eq(port.ack & bus.cyc),
                    bus.err.eq(port.err & bus.cyc),
                    bus.dat_r.eq(port.dat_r),
                ]
        with m.If(owner == error_index):
            m.d.comb += bus.err.eq(error_ack & bus.cyc)
        m.d.comb += response.eq(bus.ack | bus.err)

        with m.If(~bus.cyc):
            m.d.sync += pending.eq(0)
        with m.Else():
            m.d.sync += pending.eq(pending + accept - response)
        with m.If(accept):
            m.d.sync += owner.eq(target)
        return m
