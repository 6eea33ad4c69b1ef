"""Register layouts of the SoC's peripherals, defined once: the peripherals' hardware, the
firmware's ``soc.h`` and the documentation all read them from here."""

__all__ = ["PERIPHERAL_REGISTERS", "PERIPHERAL_CONSTANTS", "UART_RX_DEPTH", "offset", "lsb"]

#: Peripheral register layouts: region -> (register name, byte offset, doc, {bit: (lsb, doc)}).
PERIPHERAL_REGISTERS: dict[str, tuple[tuple[str, int, str, dict[str, tuple[int, str]]], ...]] = {
    "uart": (
        ("DATA", 0x00, "write: transmit one byte (the bus waits until the transmitter takes it)",
         {}),
        ("STATUS", 0x04, "read: transmitter and receiver state; write 1s to clear RX_OVERRUN",
         {"TX_BUSY": (0, "transmitter busy"),
          "RX_VALID": (1, "a received byte is waiting in the receive FIFO"),
          "RX_OVERRUN": (2, "sticky: a byte arrived while the receive FIFO was full (dropped)"),
          "RX_LEVEL": (16, "bits 31..16: bytes in the receive FIFO (at least this many RX "
                           "reads pop one)")}),
        ("RX", 0x08, "read: pops the receive FIFO: the byte in [7:0], RX_POPPED set when there "
                     "was one (else the word is 0)",
         {"POPPED": (8, "the read took a byte from the FIFO")}),
        ("DIVISOR", 0x0C, "clock cycles per bit (read/write)", {}),
    ),
    "timer": (
        ("CYCLE_LO", 0x00, "low 32 bits of the cycle counter; reading it latches CYCLE_HI", {}),
        ("CYCLE_HI", 0x04, "high 32 bits, as latched by the last CYCLE_LO read", {}),
    ),
    "leds": (
        ("OUT", 0x00, "read/write: the low bits drive the LEDs", {}),
    ),
    "accel": (
        ("RS1", 0x00, "read/write: rs1 operand of the next command", {}),
        ("RS2", 0x04, "read/write: rs2 operand of the next command", {}),
        ("ISSUE", 0x08, "write: [6:0] funct7, [9:7] funct3; issues the command",
         {"FUNCT7": (0, "funct7 field (7 bits)"), "FUNCT3": (7, "funct3 field (3 bits)")}),
        ("RESULT", 0x0C, "read: rd of the last command; the bus waits until it is available", {}),
        ("STATUS", 0x10, "read: command port state",
         {"IN_FLIGHT": (0, "a command is in flight"),
          "RESULT_VALID": (1, "RESULT holds the rd of the last command")}),
    ),
}

#: Bytes the UART's receive FIFO holds: two MNIST demo frames (791 bytes each), so a host may
#: keep two frames unanswered while the core computes (``apps/mnist_uart.c``); one ECP5 block RAM.
UART_RX_DEPTH = 2048

#: Constants the firmware needs beside the registers: region -> (name, value, doc).
PERIPHERAL_CONSTANTS: dict[str, tuple[tuple[str, int, str], ...]] = {
    "uart": (("RX_DEPTH", UART_RX_DEPTH, "bytes the receive FIFO holds"),),
}


def offset(region: str, register: str) -> int:
    """Byte offset of ``register`` in the page of ``region``."""
    for name, value, _, _ in PERIPHERAL_REGISTERS[region]:
        if name == register:
            return value
    raise KeyError(f"{region} has no register {register!r}")


def lsb(region: str, register: str, field: str) -> int:
    """Lowest bit of ``field`` in ``register`` of ``region``."""
    for name, _, _, fields in PERIPHERAL_REGISTERS[region]:
        if name == register:
            return fields[field][0]
    raise KeyError(f"{region} has no register {register!r}")
