"""The command/response stream port: how any core (RoCC/CFU-like) talks to the accelerator.

The accelerator's own ``cmd`` and ``resp`` members *are* this port; a core with a
custom-instruction or coprocessor interface connects to them directly (``wiring.connect``), and
`PCPIBridge` and `MMIOCommandPort` are thin adapters onto the same two streams. No extra logic
is needed.

Payloads
--------
``cmd``: `accel.isa.decoder.COMMAND_LAYOUT` = ``{funct7: 7, funct3: 3, rs1: 32, rs2: 32}`` — the
select codes of the R-type custom-0 instruction and the *values* of its two source registers.
``resp``: `accel.isa.decoder.RESPONSE_LAYOUT` = ``{rd: 32}`` — the value for the destination
register.

Protocol (``amaranth.lib.stream`` rules on both streams)
-------------------------------------------------------
* A beat transfers at a clock edge where ``valid & ready``. A producer holds ``valid`` and the
  payload stable until the transfer; it never withdraws a beat. ``ready`` may depend on
  ``valid`` combinationally; ``valid`` must not depend on ``ready``.
* **Exactly one response per command, in command order.** Instructions without a result answer
  ``rd = 0``. Unknown codes, reserved bits and out-of-range operands are *not* rejected on the
  port: the command is accepted and answered (``rd = 0``), and the accelerator sets its sticky
  error (read with STATUS, cleared with CLEAR_ERROR). A port user therefore never hangs and
  never needs a trap path.
* **Back-pressure:** ``cmd.ready`` is low while the accelerator's command queue is full (or
  while a FENCE or a hazard holds the dispatcher); the producer simply waits. A response may be
  delayed arbitrarily: FENCE answers only once every earlier instruction has completed (and its
  main-memory writes are visible). Other instructions answer once dispatched, before their
  work completes; issue FENCE before reading main memory the accelerator writes.
* The accelerator may hold a response until ``resp.ready``; a consumer that keeps
  ``resp.ready`` low can stall the command stream, so a consumer that issues several commands
  before taking responses must be able to take as many responses as it has commands
  outstanding (or keep ``resp.ready`` high).
* Responses are not tagged: a consumer matches them to commands by order. A core that blocks
  until each response (PicoRV32) has at most one outstanding; a decoupled core (RoCC-style)
  may pipeline commands and must count.

Helpers
-------
`command_signature` and `response_signature` build the two stream signatures (producer's
view), for components that sit on either side of the port.
"""

from amaranth.lib import stream

from accel.isa.decoder import COMMAND_LAYOUT, RESPONSE_LAYOUT

__all__ = ["command_signature", "response_signature"]


def command_signature() -> stream.Signature:
    """``stream.Signature(COMMAND_LAYOUT)``, seen from the command producer (the core side).

    Use ``Out(command_signature())`` on a core/bridge and ``In(...)`` on an accelerator.
    """
    return stream.Signature(COMMAND_LAYOUT)


def response_signature() -> stream.Signature:
    """``stream.Signature(RESPONSE_LAYOUT)``, seen from the response producer (the accelerator).

    Use ``Out(response_signature())`` on an accelerator and ``In(...)`` on a core/bridge.
    """
    return stream.Signature(RESPONSE_LAYOUT)
