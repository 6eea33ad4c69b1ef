"""cocotb UART helpers: a monitor decoding a serial 8N1 output and a driver for a serial input.

Both time bits with :class:`cocotb.triggers.Timer` (``divisor`` clock periods per bit) instead of
counting clock edges, so a long transcript costs a few triggers per bit, not one per cycle.
"""

import re

import cocotb
from cocotb.triggers import Event, FallingEdge, Timer

__all__ = ["UARTMonitor", "UARTDriver"]


class UARTMonitor:
    """Decodes the 8N1 frames on ``signal`` (idle high) into bytes and lines.

    Parameters
    ----------
    signal : cocotb handle
        The serial line, e.g. ``dut.uart_tx``.
    clock_period_ns : float
        Clock period of the design.
    divisor : int
        Clock cycles per bit.
    end : str, optional
        Regular expression; :attr:`ended` is set when a completed line matches it.
    log : logging.Logger, optional
        Where each completed line is logged.

    Members
    -------
    data : bytearray
        Every byte received.
    lines : list of str
        Completed lines (without the newline; ``\\r`` stripped).
    framing_errors : int
        Frames whose stop bit was low.
    ended : cocotb.triggers.Event
        Set once a line matches ``end``.
    """

    def __init__(self, signal, *, clock_period_ns: float, divisor: int, end: str | None = None,
                 log=None):
        self.signal = signal
        self.bit_ns = clock_period_ns * divisor
        self.end = re.compile(end) if end else None
        self.log = log
        self.data = bytearray()
        self.lines: list[str] = []
        self.framing_errors = 0
        self.ended = Event()
        self._partial = bytearray()
        self._task = None

    def start(self):
        """Start decoding in the background; returns ``self``."""
        self._task = cocotb.start_soon(self._run())
        return self

    async def wait_line(self, pattern: str) -> str:
        """Wait until a completed line matches the regular expression ``pattern``; return it."""
        regex = re.compile(pattern)
        seen = 0
        while True:
            for line in self.lines[seen:]:
                if regex.search(line):
                    return line
            seen = len(self.lines)
            await Timer(self.bit_ns * 10, unit="ns")      # one frame

    @property
    def text(self) -> str:
        return self.data.decode("latin-1")

    async def _run(self):
        while True:
            if self.signal.value == 1 or not self.signal.value.is_resolvable:
                await FallingEdge(self.signal)
            await Timer(self.bit_ns * 1.5, unit="ns")          # middle of bit 0
            value = 0
            for bit in range(8):
                value |= int(self.signal.value) << bit
                await Timer(self.bit_ns, unit="ns")
            if self.signal.value != 1:                          # middle of the stop bit
                self.framing_errors += 1
            self._byte(value)
            await Timer(self.bit_ns * 0.25, unit="ns")         # stay clear of the stop bit edge

    def _byte(self, value: int):
        self.data.append(value)
        if value == ord("\n"):
            line = self._partial.decode("latin-1").rstrip("\r")
            self._partial.clear()
            self.lines.append(line)
            if self.log is not None:
                self.log.info("uart: %s", line)
            if self.end is not None and self.end.search(line):
                self.ended.set()
        else:
            self._partial.append(value)


class UARTDriver:
    """Sends bytes as 8N1 frames on ``signal`` (driven idle high once constructed).

    Parameters
    ----------
    signal : cocotb handle
        The serial input, e.g. ``dut.uart_rx``.
    clock_period_ns : float
    divisor : int
        Clock cycles per bit.
    """

    def __init__(self, signal, *, clock_period_ns: float, divisor: int):
        self.signal = signal
        self.bit_ns = clock_period_ns * divisor
        signal.value = 1

    async def send(self, data: bytes, *, gap_bits: int = 1):
        """Transmit ``data``, with ``gap_bits`` idle bit times after each frame."""
        for byte in bytes(data):
            frame = [0] + [byte >> i & 1 for i in range(8)] + [1] * (1 + gap_bits)
            for bit in frame:
                self.signal.value = bit
                await Timer(self.bit_ns, unit="ns")
