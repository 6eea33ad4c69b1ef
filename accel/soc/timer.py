"""A free-running 64-bit cycle counter with a Wishbone B4 pipelined register interface."""

from amaranth.hdl import Module, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In

from accel.bus import wishbone
from accel.soc.registers import offset

__all__ = ["Timer", "CYCLE_LO", "CYCLE_HI"]

#: Register byte offsets.
CYCLE_LO, CYCLE_HI = offset("timer", "CYCLE_LO"), offset("timer", "CYCLE_HI")


class Timer(wiring.Component):
    """Counts clock cycles since reset in 64 bits.

    Registers (byte offsets; the register set repeats through the window; writes are ignored):

    ========  ====  =====================================================================
    0x00      R     CYCLE_LO: bits 31..0 of the count; the read also latches bits 63..32.
    0x04      R     CYCLE_HI: bits 63..32 as latched by the last read of CYCLE_LO.
    ========  ====  =====================================================================

    Reading LO then HI therefore gives a consistent 64-bit value. Every request is acknowledged
    in the next cycle; the port never stalls and never answers with an error.

    Parameters
    ----------
    addr_width : int
        Word-address width of the register window (10 for a 4 KiB page), at least 1.

    Members
    -------
    bus : In(wishbone.Signature(addr_width=addr_width, data_width=32))
    """

    def __init__(self, *, addr_width: int = 10):
        if not isinstance(addr_width, int) or addr_width < 1:
            raise ValueError(f"addr_width must be at least 1, not {addr_width!r}")
        super().__init__({"bus": In(wishbone.Signature(addr_width=addr_width, data_width=32))})
        self._count = Signal(64, name="count")

    def elaborate(self, platform):
        m = Module()
        bus = self.bus
        count = self._count
        high = Signal(32)
        m.d.sync += count.eq(count + 1)
        request = bus.cyc & bus.stb
        m.d.comb += [bus.stall.eq(0), bus.err.eq(0)]
        m.d.sync += [bus.ack.eq(request), bus.dat_r.eq(0)]
        with m.If(request & ~bus.we):
            with m.If(bus.adr[0] == CYCLE_LO // 4):
                m.d.sync += [bus.dat_r.eq(count[:32]), high.eq(count[32:])]
            with m.Else():
                m.d.sync += bus.dat_r.eq(high)
        return m
