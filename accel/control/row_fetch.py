"""Turn a stream of row requests into a stream of rows read from a 1-cycle-latency SRAM port."""

from amaranth import Module, Signal, unsigned
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from accel.memory.ports import ReadPortSignature

__all__ = ["RowFetch"]


class RowFetch(wiring.Component):
    """Read rows in request order at one row per cycle, with back-pressure.

    Each request names a row (or asks for a row of zeros) and carries a tag that comes back with
    the row. A two-entry skid buffer absorbs the read latency, so the port is read only when the
    row has somewhere to go: nothing is dropped however ``resp.ready`` behaves.

    Parameters
    ----------
    addr_width, elem_width, lanes : int
        Geometry of the read port.
    tag_width : int
        Bits passed from each request to its response unchanged.

    Members
    -------
    req : In(stream.Signature({"addr", "zero", "tag"}))
        ``zero`` asks for an all-zero row without reading the port.
    resp : Out(stream.Signature({"data": ArrayLayout(signed(elem_width), lanes), "tag"}))
    port : Out(ReadPortSignature(...))
    """

    def __init__(self, *, addr_width: int, elem_width: int, lanes: int, tag_width: int = 1):
        self._port = ReadPortSignature(addr_width=addr_width, elem_width=elem_width, lanes=lanes)
        row = self._port.members["data"].shape
        self._entry = data.StructLayout({"data": row, "tag": unsigned(tag_width)})
        super().__init__({
            "req": In(stream.Signature(data.StructLayout({
                "addr": unsigned(addr_width), "zero": 1, "tag": unsigned(tag_width)}))),
            "resp": Out(stream.Signature(self._entry)),
            "port": Out(self._port),
        })

    def elaborate(self, platform):
        m = Module()
        entries = [Signal(self._entry, name=f"entry{i}") for i in range(2)]
        level = Signal(range(3))
        inflight = Signal()
        inflight_zero = Signal()
        inflight_tag = Signal.like(self.req.payload.tag)

        pop = self.resp.valid & self.resp.ready
        # Accept a request only if its row will have a slot when it arrives next cycle
        # (counting this cycle's pop, so a steady stream flows at one row per cycle).
        room = (level + inflight - pop) < 2
        accept = self.req.valid & room
        m.d.comb += [
            self.req.ready.eq(room),
            self.port.addr.eq(self.req.payload.addr),
            self.port.en.eq(accept & ~self.req.payload.zero),
        ]
        m.d.sync += [inflight.eq(accept), inflight_zero.eq(self.req.payload.zero),
                     inflight_tag.eq(self.req.payload.tag)]

        arriving = Signal(self._entry)
        with m.If(~inflight_zero):
            m.d.comb += arriving.data.eq(self.port.data)
        m.d.comb += arriving.tag.eq(inflight_tag)

        m.d.comb += [self.resp.valid.eq(level != 0), self.resp.payload.eq(entries[0])]
        with m.If(pop):
            m.d.sync += entries[0].eq(entries[1])
        # Write the arriving row into the first free slot after this cycle's pop.
        slot = level - pop
        with m.If(inflight):
            with m.If(slot == 0):
                m.d.sync += entries[0].eq(arriving)
            with m.Else():
                m.d.sync += entries[1].eq(arriving)
        m.d.sync += level.eq(level + inflight - pop)
        return m
