"""An LED output register with a Wishbone B4 pipelined interface."""

from amaranth.hdl import Module, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from accel.bus import wishbone

__all__ = ["LEDs"]


class LEDs(wiring.Component):
    """One read/write register (offset 0x00, repeating through the window) driving ``leds``.

    Writes honour ``sel``; bits above ``width`` read as zero. Every request is acknowledged in the
    next cycle; the port never stalls and never answers with an error.

    Parameters
    ----------
    width : int
        Number of LEDs, 1 to 32.
    addr_width : int
        Word-address width of the register window (10 for a 4 KiB page).

    Members
    -------
    bus : In(wishbone.Signature(addr_width=addr_width, data_width=32))
    leds : Out(width)
        The register, reset to 0.
    """

    def __init__(self, *, width: int = 8, addr_width: int = 10):
        if not isinstance(width, int) or not 1 <= width <= 32:
            raise ValueError(f"width must be between 1 and 32, not {width!r}")
        self.width = width
        super().__init__({
            "bus": In(wishbone.Signature(addr_width=addr_width, data_width=32)),
            "leds": Out(width),
        })

    def elaborate(self, platform):
        m = Module()
        bus = self.bus
        value = Signal(32)
        request = bus.cyc & bus.stb
        m.d.comb += [bus.stall.eq(0), bus.err.eq(0), self.leds.eq(value[:self.width])]
        m.d.sync += [bus.ack.eq(request), bus.dat_r.eq(value[:self.width])]
        with m.If(request & bus.we):
            for lane in range(4):
                with m.If(bus.sel[lane]):
                    m.d.sync += value[8 * lane:8 * lane + 8].eq(bus.dat_w[8 * lane:8 * lane + 8])
        return m
