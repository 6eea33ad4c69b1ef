"""Memory-mapped command port: the accelerator on Wishbone, for cores without custom-instruction
hooks (or for a host issuing commands over a bus bridge)."""

from amaranth import Cat, Module, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from accel.bus import wishbone
from accel.isa.decoder import COMMAND_LAYOUT, RESPONSE_LAYOUT
from accel.soc.registers import offset

__all__ = ["MMIOCommandPort", "REGISTERS", "STATUS_IN_FLIGHT", "STATUS_RESULT_VALID"]

#: Register byte offsets inside the 4 KiB page: name -> offset.
REGISTERS = {name: offset("accel", name.upper())
             for name in ("rs1", "rs2", "issue", "result", "status")}

#: STATUS bit 0: a command was issued and its response has not arrived yet.
STATUS_IN_FLIGHT = 1 << 0
#: STATUS bit 1: RESULT holds the response of the most recently issued command.
STATUS_RESULT_VALID = 1 << 1


class MMIOCommandPort(wiring.Component):
    """A Wishbone B4 (pipelined) slave that issues accelerator commands.

    Firmware writes the operands to RS1 and RS2, then the codes to ISSUE, which sends the
    command ``{funct7, funct3, rs1: RS1, rs2: RS2}`` on ``cmd``; the response's ``rd`` lands in
    RESULT. At most one command is in flight.

    Register map (byte offsets in the 4 KiB page; ``bus.adr`` is the word address, offset / 4):

    ======  ==========  =========================================================================
    offset  name        meaning
    ======  ==========  =========================================================================
    0x00    RS1 (rw)    operand register rs1; byte lanes written per ``sel``. Reset 0.
    0x04    RS2 (rw)    operand register rs2; byte lanes written per ``sel``. Reset 0.
    0x08    ISSUE (w)   a write with ``sel == 0b1111`` issues funct7 = bits [6:0], funct3 = bits
                        [9:7] (bits [31:10] ignored). Partial writes (other ``sel``) are
                        acknowledged and ignored: no command. Reads return 0.
    0x0C    RESULT (r)  ``rd`` of the last completed command (0 before the first). A read while
                        a command is in flight is held (no ``ack``) until its response arrives,
                        so firmware may issue and read RESULT at once, without polling.
                        Writes are ignored.
    0x10    STATUS (r)  bit 0 IN_FLIGHT: issued, response not yet received; bit 1
                        RESULT_VALID: RESULT holds the response of the most recently issued
                        command (set by a response, cleared by the next issue; 0 after reset).
                        Other bits 0. Writes are ignored.
    other   —           reads return 0, writes are ignored; answered with ``ack`` (never
                        ``err``, so a stray access cannot make the core hang or trap).
    ======  ==========  =========================================================================

    Notes
    -----
    Bus contract:

    * Requests are served one at a time: ``stall`` is high from the cycle after a request is
      accepted until the cycle before its ``ack``, so every accepted request gets exactly one
      ``ack``, in order. ``err`` is never asserted. A simple access is acknowledged in the
      second cycle after the edge that accepted it, and the next request can be accepted in
      that ``ack`` cycle (one access per two cycles at best). ``dat_r`` is valid in ``ack``
      cycles and 0 otherwise.
    * A full-word write to ISSUE while a command is in flight is held (no ``ack``) until the
      response arrives and the new command is accepted on ``cmd``; its ``ack`` therefore means
      "issued". ``cmd`` back-pressure lengthens the hold the same way.
    * If the master drops ``cyc`` while a request is held, a RESULT read is abandoned; an
      accepted ISSUE write still issues its command (once) but is not acknowledged; a new
      bus cycle's request is stalled until then and never sees that request's ``ack``.

    Members
    -------
    bus : In(wishbone.Signature(addr_width=10, data_width=32, granularity=8))
        The slave port (features ``err`` and ``stall``).
    cmd : Out(stream.Signature(COMMAND_LAYOUT))
        Commands to the accelerator (connect to ``Accelerator.cmd``).
    resp : In(stream.Signature(RESPONSE_LAYOUT))
        Responses from the accelerator, one per command; always ready.
    """

    def __init__(self):
        super().__init__({
            "bus": In(wishbone.Signature(addr_width=10, data_width=32, granularity=8)),
            "cmd": Out(stream.Signature(COMMAND_LAYOUT)),
            "resp": In(stream.Signature(RESPONSE_LAYOUT)),
        })

    def elaborate(self, platform):
        m = Module()
        bus = self.bus

        rs1 = Signal(32)
        rs2 = Signal(32)
        result = Signal(32)
        in_flight = Signal()
        result_valid = Signal()

        # The request being served (accepted, not yet answered).
        busy = Signal()
        req_we = Signal()
        req_adr = Signal(len(bus.adr))
        req_dat = Signal(32)
        req_sel = Signal(4)

        ack = Signal()
        dat_r = Signal(32)
        m.d.comb += [
            bus.stall.eq(busy),
            bus.ack.eq(ack),
            bus.dat_r.eq(dat_r),
            bus.err.eq(0),
        ]
        m.d.sync += [ack.eq(0), dat_r.eq(0)]

        # The master dropped cyc while the request was served: it gets no ack.
        orphan = Signal()
        with m.If(busy & ~bus.cyc):
            m.d.sync += orphan.eq(1)

        with m.If(bus.cyc & bus.stb & ~bus.stall):
            m.d.sync += [
                busy.eq(1),
                orphan.eq(0),
                req_we.eq(bus.we),
                req_adr.eq(bus.adr),
                req_dat.eq(bus.dat_w),
                req_sel.eq(bus.sel),
            ]

        done = Signal()
        read = Signal(32)

        def write_lanes(reg):
            with m.If(busy & req_we):
                for lane in range(4):
                    with m.If(req_sel[lane]):
                        m.d.sync += reg[8 * lane:8 * lane + 8].eq(req_dat[8 * lane:8 * lane + 8])

        m.d.comb += [
            self.cmd.payload.funct7.eq(req_dat[0:7]),
            self.cmd.payload.funct3.eq(req_dat[7:10]),
            self.cmd.payload.rs1.eq(rs1),
            self.cmd.payload.rs2.eq(rs2),
        ]

        with m.Switch(req_adr):
            with m.Case(REGISTERS["rs1"] >> 2):
                m.d.comb += [read.eq(rs1), done.eq(busy)]
                write_lanes(rs1)
            with m.Case(REGISTERS["rs2"] >> 2):
                m.d.comb += [read.eq(rs2), done.eq(busy)]
                write_lanes(rs2)
            with m.Case(REGISTERS["issue"] >> 2):
                with m.If(busy & req_we & (req_sel == 0b1111)):
                    m.d.comb += [
                        self.cmd.valid.eq(~in_flight),
                        done.eq(self.cmd.valid & self.cmd.ready),
                    ]
                with m.Else():
                    m.d.comb += done.eq(busy)
            with m.Case(REGISTERS["result"] >> 2):
                m.d.comb += [
                    read.eq(result),
                    done.eq(busy & (req_we | ~in_flight | ~bus.cyc | orphan)),
                ]
            with m.Case(REGISTERS["status"] >> 2):
                m.d.comb += [read.eq(Cat(in_flight, result_valid)), done.eq(busy)]
            with m.Default():
                m.d.comb += done.eq(busy)

        with m.If(done):
            m.d.sync += [busy.eq(0), ack.eq(bus.cyc & ~orphan)]
            with m.If(~req_we):
                m.d.sync += dat_r.eq(read)

        m.d.comb += self.resp.ready.eq(1)
        with m.If(self.resp.valid):
            m.d.sync += [result.eq(self.resp.payload.rd), in_flight.eq(0), result_valid.eq(1)]
        with m.If(self.cmd.valid & self.cmd.ready):
            m.d.sync += [in_flight.eq(1), result_valid.eq(0)]
        return m
