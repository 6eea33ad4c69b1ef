"""A minimal 8N1 UART with a receive FIFO and a Wishbone B4 pipelined register interface."""

from amaranth.hdl import Cat, Module, Mux, Signal
from amaranth.lib import fifo, wiring
from amaranth.lib.cdc import FFSynchronizer
from amaranth.lib.wiring import In, Out

from accel.bus import wishbone
from accel.soc.registers import UART_RX_DEPTH, lsb, offset

__all__ = ["UART", "DATA", "STATUS", "RX", "DIVISOR"]

#: Register byte offsets (the firmware's C header uses the same numbers).
DATA, STATUS, RX, DIVISOR = (offset("uart", name)
                              for name in ("DATA", "STATUS", "RX", "DIVISOR"))
#: STATUS bits.
STATUS_TX_BUSY, STATUS_RX_VALID, STATUS_RX_OVERRUN = (
    1 << lsb("uart", "STATUS", name) for name in ("TX_BUSY", "RX_VALID", "RX_OVERRUN"))
#: STATUS: the receive FIFO's level starts at this bit.
STATUS_RX_LEVEL_SHIFT = lsb("uart", "STATUS", "RX_LEVEL")
#: RX bit: the read popped a byte.
RX_POPPED = 1 << lsb("uart", "RX", "POPPED")


class UART(wiring.Component):
    """8N1 transmitter and receiver at ``DIVISOR`` clock cycles per bit.

    Registers (byte offsets; the register set repeats through the whole window):

    ========  ====  =====================================================================
    0x00      W     DATA: transmit the byte in bits 7..0. While the transmitter is busy the
                    write is *stalled* (the bus waits), so software never polls before writing.
                    Reads return 0.
    0x04      RW    STATUS: bit 0 transmitter busy, bit 1 the receive FIFO holds a byte, bit 2
                    (sticky) a byte arrived while the FIFO was full and was dropped, bits 31..16
                    the bytes in the FIFO (that many RX reads are sure to pop one). Writing a
                    1 to bit 2 (``sel`` lane 0) clears it.
    0x08      R     RX: pops the receive FIFO: the oldest byte in bits 7..0 and bit 8 set, or 0
                    when the FIFO is empty (one read per byte, no STATUS poll needed).
    0x0C      RW    DIVISOR: clock cycles per bit, at least 2 (``sel`` enables the lanes).
    ========  ====  =====================================================================

    The receive FIFO (``rx_depth`` bytes, a block RAM) lets the core compute while a host
    streams: the MNIST demo's batch mode keeps a whole frame waiting in it. Every accepted
    request is acknowledged in the next cycle; there are no bus errors.

    Parameters
    ----------
    divisor : int
        Reset value of DIVISOR, 2 to 65535.
    addr_width : int
        Word-address width of the register window (10 for a 4 KiB page), at least 2.
    rx_depth : int
        Bytes the receive FIFO holds, 2 to 65535 (default
        `accel.soc.registers.UART_RX_DEPTH`, which the firmware's ``soc.h`` states).

    Members
    -------
    bus : In(wishbone.Signature(addr_width=addr_width, data_width=32))
    tx : Out(1)
        Serial output, idle high.
    rx : In(1)
        Serial input (synchronised inside), idle high.

    Raises
    ------
    ValueError
        If ``divisor`` or ``addr_width`` is out of range.
    """

    def __init__(self, *, divisor: int, addr_width: int = 10, rx_depth: int = UART_RX_DEPTH):
        if not isinstance(divisor, int) or not 2 <= divisor <= 0xFFFF:
            raise ValueError(f"divisor must be between 2 and 65535, not {divisor!r}")
        if not isinstance(addr_width, int) or addr_width < 2:
            raise ValueError(f"addr_width must be at least 2, not {addr_width!r}")
        if (not isinstance(rx_depth, int) or isinstance(rx_depth, bool)
                or not 2 <= rx_depth <= 0xFFFF):
            raise ValueError(f"rx_depth must be between 2 and 65535, not {rx_depth!r}")
        self.divisor = divisor
        self.rx_depth = rx_depth
        super().__init__({
            "bus": In(wishbone.Signature(addr_width=addr_width, data_width=32)),
            "tx": Out(1, init=1),
            "rx": In(1, init=1),
        })

    def elaborate(self, platform):
        m = Module()
        bus = self.bus
        divisor = Signal(16, init=self.divisor)

        # Transmitter: a 10-bit frame (start, 8 data, stop) shifted out LSB first.
        tx_shift = Signal(10)
        tx_bits = Signal(range(11))
        tx_count = Signal(16)
        tx_busy = Signal()
        tx_load = Signal()
        m.d.comb += tx_busy.eq(tx_bits != 0)
        with m.If(tx_load):
            m.d.sync += [
                tx_shift.eq(Cat(0, bus.dat_w[:8], 1)),
                tx_bits.eq(10),
                tx_count.eq(divisor - 1),
            ]
        with m.Elif(tx_busy):
            with m.If(tx_count == 0):
                m.d.sync += [
                    tx_shift.eq(tx_shift >> 1),
                    tx_bits.eq(tx_bits - 1),
                    tx_count.eq(divisor - 1),
                ]
            with m.Else():
                m.d.sync += tx_count.eq(tx_count - 1)
        m.d.comb += self.tx.eq(~tx_busy | tx_shift[0])

        # Receiver: sample the middle of every bit after a start bit. The synchroniser makes
        # the falling edge seen two cycles late; counting (divisor >> 1) - 1 from it puts the
        # samples within half a cycle of each bit's middle (at 4 or 5 cycles a bit too).
        rx = Signal(init=1)
        m.submodules.rx_sync = FFSynchronizer(self.rx, rx, init=1)
        rx_shift = Signal(8)
        rx_bits = Signal(range(9))
        rx_count = Signal(16)
        m.submodules.rx_fifo = rx_fifo = fifo.SyncFIFOBuffered(width=8, depth=self.rx_depth)
        m.d.comb += rx_fifo.w_data.eq(rx_shift)
        rx_overrun = Signal()
        rx_clear = Signal()
        with m.If(rx_fifo.w_en & ~rx_fifo.w_rdy):
            m.d.sync += rx_overrun.eq(1)
        with m.Elif(rx_clear):
            m.d.sync += rx_overrun.eq(0)
        with m.FSM(name="rx_fsm"):
            with m.State("IDLE"):
                with m.If(~rx):
                    m.d.sync += rx_count.eq((divisor >> 1) - 1)
                    m.next = "START"
            with m.State("START"):
                with m.If(rx_count == 0):
                    m.d.sync += [rx_count.eq(divisor - 1), rx_bits.eq(8)]
                    m.next = "DATA"
                    with m.If(rx):
                        m.next = "IDLE"          # a glitch, not a start bit
                with m.Else():
                    m.d.sync += rx_count.eq(rx_count - 1)
            with m.State("DATA"):
                with m.If(rx_count == 0):
                    m.d.sync += [
                        rx_shift.eq(Cat(rx_shift[1:], rx)),
                        rx_bits.eq(rx_bits - 1),
                        rx_count.eq(divisor - 1),
                    ]
                    with m.If(rx_bits == 1):
                        m.next = "STOP"
                with m.Else():
                    m.d.sync += rx_count.eq(rx_count - 1)
            with m.State("STOP"):
                with m.If(rx_count == 0):
                    m.d.comb += rx_fifo.w_en.eq(rx)
                    m.next = "IDLE"
                with m.Else():
                    m.d.sync += rx_count.eq(rx_count - 1)

        # Bus interface.
        reg = bus.adr[:2]
        request = bus.cyc & bus.stb
        m.d.comb += [
            bus.stall.eq(request & bus.we & (reg == DATA // 4) & tx_busy),
            bus.err.eq(0),
        ]
        accept = request & ~bus.stall
        m.d.sync += [bus.ack.eq(accept), bus.dat_r.eq(0)]
        with m.If(accept):
            with m.Switch(reg):
                with m.Case(DATA // 4):
                    m.d.comb += tx_load.eq(bus.we)
                with m.Case(STATUS // 4):
                    status = {STATUS_TX_BUSY: tx_busy, STATUS_RX_VALID: rx_fifo.r_rdy,
                              STATUS_RX_OVERRUN: rx_overrun}
                    m.d.sync += [bus.dat_r[mask.bit_length() - 1].eq(value)
                                 for mask, value in status.items()]
                    m.d.sync += bus.dat_r[STATUS_RX_LEVEL_SHIFT:].eq(rx_fifo.level)
                    m.d.comb += rx_clear.eq(bus.we & bus.sel[0]
                                            & bus.dat_w[STATUS_RX_OVERRUN.bit_length() - 1])
                with m.Case(RX // 4):
                    with m.If(~bus.we):
                        m.d.sync += bus.dat_r.eq(Mux(rx_fifo.r_rdy, rx_fifo.r_data | RX_POPPED, 0))
                        m.d.comb += rx_fifo.r_en.eq(1)
                with m.Case(DIVISOR // 4):
                    m.d.sync += bus.dat_r.eq(divisor)
                    with m.If(bus.we):
                        for lane in range(2):
                            with m.If(bus.sel[lane]):
                                m.d.sync += divisor[8 * lane:8 * lane + 8].eq(
                                    bus.dat_w[8 * lane:8 * lane + 8])
        return m
