"""RISC-V bridges to the accelerator's command port.

* `PCPIBridge` — PicoRV32's Pico Co-Processor Interface: custom-0 instructions become commands.
* `MMIOCommandPort` — a Wishbone slave page (RS1, RS2, ISSUE, RESULT, STATUS) for cores without
  custom-instruction hooks.
* `stream_port` — the plain command/response stream protocol (RoCC/CFU-like) both build on.
"""

from accel.riscv_bridge.mmio import (REGISTERS, STATUS_IN_FLIGHT, STATUS_RESULT_VALID,
                                     MMIOCommandPort)
from accel.riscv_bridge.pcpi import PCPIBridge
from accel.riscv_bridge.stream_port import command_signature, response_signature

__all__ = ["PCPIBridge", "MMIOCommandPort", "REGISTERS", "STATUS_IN_FLIGHT",
           "STATUS_RESULT_VALID", "command_signature", "response_signature"]
