"""PicoRV32 PCPI adapter: custom-0 instructions of the core become accelerator commands.

PicoRV32 handshake (``picorv32.v``, ``ENABLE_PCPI=1``), as this adapter relies on it
-------------------------------------------------------------------------------------
* For every instruction the core does not implement itself, it raises ``pcpi_valid`` (a
  register) with ``pcpi_insn``, ``pcpi_rs1`` and ``pcpi_rs2`` stable, and keeps it high until it
  samples ``pcpi_ready`` high at a clock edge. ``pcpi_ready`` is sampled *in every cycle of the
  core's register-load state*, including the cycle before ``pcpi_valid`` rises, so an adapter
  must only raise ``pcpi_ready`` while ``pcpi_valid`` is high for the instruction it answers.
* In the edge where it sees ``pcpi_ready``, the core takes ``pcpi_rd`` (written to ``rd`` when
  ``pcpi_wr``) and clears ``pcpi_valid``; the next PCPI instruction starts several cycles later
  (after a fetch).
* With ``CATCH_ILLINSN``, a 4-bit counter runs down in every cycle where ``pcpi_valid`` is high
  and no coprocessor asserts ``pcpi_wait``; about 16 such cycles make the core trap the
  instruction as illegal. Non-custom-0 instructions therefore get neither ``pcpi_wait`` nor
  ``pcpi_ready`` from this adapter, so the core's own illegal-instruction handling (or another
  PCPI coprocessor, such as the MUL/DIV units) deals with them.
* With ``ENABLE_IRQ``, custom-0 funct7 0..5 are the core's own IRQ instructions and never reach
  PCPI; every custom-0 word that does reach PCPI belongs to the accelerator.
"""

from amaranth import Module, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from accel.isa.decoder import COMMAND_LAYOUT, RESPONSE_LAYOUT
from accel.isa.spec import CUSTOM0_OPCODE

__all__ = ["PCPIBridge"]


class PCPIBridge(wiring.Component):
    """Adapter from PicoRV32's Pico Co-Processor Interface to the accelerator's command port.

    Every custom-0 instruction (``pcpi_insn[6:0] == 0b0001011``) the core presents is forwarded
    as one command, whatever its funct7/funct3: unknown codes are the accelerator's to flag
    (sticky ILLEGAL_INSTRUCTION error), never a trap of the core. Other instructions are ignored
    (no ``pcpi_wait``, no ``pcpi_ready``).

    Notes
    -----
    * In the first cycle of ``pcpi_valid`` with a custom-0 ``pcpi_insn`` (while idle), the bridge
      latches funct7 = insn[31:25], funct3 = insn[14:12], ``pcpi_rs1`` and ``pcpi_rs2``; the
      command is offered on ``cmd`` from the next cycle and held until accepted (back-pressure
      only lengthens the wait).
    * ``pcpi_wait`` is high, combinationally, in every cycle where ``pcpi_valid`` is high with a
      custom-0 ``pcpi_insn`` — from the first cycle on — so PicoRV32's timeout never runs,
      however long the accelerator takes (FENCE, a full command queue).
    * ``resp`` is always ready while the bridge waits for a response. The cycle after the
      response is taken, ``pcpi_ready`` is high for exactly one cycle with ``pcpi_wr = 1`` and
      ``pcpi_rd`` = the response's ``rd`` (0 for instructions without a result; writing ``rd``
      unconditionally is harmless, ``x0`` stays 0 in PicoRV32).
    * Exactly one command per forwarded instruction and exactly one ``pcpi_ready`` per
      response. Timing: ``pcpi_valid`` first seen in cycle *t*; ``cmd.valid`` from *t* + 1;
      the response taken in cycle *r* (after the command's acceptance); ``pcpi_ready`` in
      *r* + 1. The minimum, an accelerator that answers in the cycle after accepting, is *t* + 3.
    * The bridge is idle again in the cycle after ``pcpi_ready``: a master that presents the
      next instruction right then (PicoRV32 never does) is served, so back-to-back instructions
      work.
    * If ``pcpi_valid`` falls before the answer (the core was reset), the instruction is
      abandoned: its command is still issued (a command offered on a stream is never
      withdrawn) and its response is consumed and dropped, never presented to a later
      instruction. A new instruction waits (with ``pcpi_wait`` high) until the bridge is idle.

    Members
    -------
    pcpi_valid : In(1)
    pcpi_insn : In(32)
    pcpi_rs1, pcpi_rs2 : In(32)
        The core's PCPI request.
    pcpi_wr : Out(1)
    pcpi_rd : Out(32)
    pcpi_wait : Out(1)
    pcpi_ready : Out(1)
        The coprocessor's answer.
    cmd : Out(stream.Signature(COMMAND_LAYOUT))
        Commands to the accelerator (connect to ``Accelerator.cmd``).
    resp : In(stream.Signature(RESPONSE_LAYOUT))
        Responses from the accelerator, one per command, in order.
    """

    pcpi_valid: In(1)
    pcpi_insn: In(32)
    pcpi_rs1: In(32)
    pcpi_rs2: In(32)
    pcpi_wr: Out(1)
    pcpi_rd: Out(32)
    pcpi_wait: Out(1)
    pcpi_ready: Out(1)
    cmd: Out(stream.Signature(COMMAND_LAYOUT))
    resp: In(stream.Signature(RESPONSE_LAYOUT))

    def elaborate(self, platform):
        m = Module()

        is_custom0 = Signal()
        m.d.comb += [
            is_custom0.eq(self.pcpi_insn[0:7] == CUSTOM0_OPCODE),
            self.pcpi_wait.eq(self.pcpi_valid & is_custom0),
        ]

        # The core still waits for this instruction (cleared if pcpi_valid falls early).
        live = Signal()
        rd = Signal(32)
        m.d.comb += self.pcpi_rd.eq(rd)

        with m.If(~self.pcpi_valid):
            m.d.sync += live.eq(0)

        with m.FSM():
            with m.State("IDLE"):
                with m.If(self.pcpi_valid & is_custom0):
                    m.d.sync += [
                        self.cmd.payload.funct7.eq(self.pcpi_insn[25:32]),
                        self.cmd.payload.funct3.eq(self.pcpi_insn[12:15]),
                        self.cmd.payload.rs1.eq(self.pcpi_rs1),
                        self.cmd.payload.rs2.eq(self.pcpi_rs2),
                        live.eq(1),
                    ]
                    m.next = "ISSUE"
            with m.State("ISSUE"):
                m.d.comb += self.cmd.valid.eq(1)
                with m.If(self.cmd.ready):
                    m.next = "RESPONSE"
            with m.State("RESPONSE"):
                m.d.comb += self.resp.ready.eq(1)
                with m.If(self.resp.valid):
                    m.d.sync += rd.eq(self.resp.payload.rd)
                    with m.If(live & self.pcpi_valid):
                        m.next = "ANSWER"
                    with m.Else():
                        m.next = "IDLE"
            with m.State("ANSWER"):
                m.d.comb += [
                    self.pcpi_ready.eq(live & self.pcpi_valid),
                    self.pcpi_wr.eq(live & self.pcpi_valid),
                ]
                m.next = "IDLE"
        return m
