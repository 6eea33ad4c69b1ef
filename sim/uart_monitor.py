"""cocotb UART helpers on cocotbext-uart: a monitor that turns a serial 8N1 output into bytes and
lines (and counts framing errors), and a driver for a serial input.

cocotbext-uart's `UartSink` and `UartSource` do the bit timing (with
:class:`cocotb.triggers.Timer`, so a long transcript costs a few triggers per bit, not one per
cycle); these classes add what the benches need on top: lines, an end pattern, framing errors,
and timing given as a clock period and a divisor (clock cycles per bit).
"""

import logging
import re

import cocotb
from cocotb.triggers import Event, Timer
from cocotbext.uart import UartSink, UartSource

__all__ = ["UARTMonitor", "UARTDriver"]


def _baud(bit_ns: float) -> float:
    # cocotbext-uart times a bit as int(1e9 / baud) ns; the nudge keeps a whole bit_ns whole.
    return 1e9 / (bit_ns + 1e-6)


def _quiet(endpoint):
    endpoint.log.setLevel(logging.WARNING)    # it logs every byte at INFO
    return endpoint


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
    line_times : list of float
        Simulation time in ns when each line's newline was received.
    new_line : cocotb.triggers.Event
        Set whenever a line completes (waiters clear it first).
    framing_errors : int
        Frames whose stop bit was low.
    ended : cocotb.triggers.Event
        Set once a line matches ``end``.
    bit_ns : float
        One bit time in nanoseconds.
    """

    def __init__(self, signal, *, clock_period_ns: float, divisor: int, end: str | None = None,
                 log=None):
        self.signal = signal
        self.bit_ns = clock_period_ns * divisor
        self.end = re.compile(end) if end else None
        self.log = log
        self.data = bytearray()
        self.lines: list[str] = []
        self.line_times: list[float] = []
        self.new_line = Event()
        self.framing_errors = 0
        self.ended = Event()
        self._partial = bytearray()
        self._sink = None
        self._task = None

    def start(self):
        """Start decoding in the background; returns ``self``."""
        self._sink = _quiet(UartSink(self.signal, baud=_baud(self.bit_ns)))
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
            received = await self._sink.read()
            # The sink hands a byte over in the middle of its stop bit: check that bit now.
            if self.signal.value != 1:
                self.framing_errors += 1
            for value in received:
                self._byte(value)

    def _byte(self, value: int):
        self.data.append(value)
        if value == ord("\n"):
            line = self._partial.decode("latin-1").rstrip("\r")
            self._partial.clear()
            self.lines.append(line)
            self.line_times.append(cocotb.utils.get_sim_time("ns"))
            self.new_line.set()
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
    gap_bits : int
        Idle bit times after each frame's stop bit.
    """

    def __init__(self, signal, *, clock_period_ns: float, divisor: int, gap_bits: int = 1):
        self.bit_ns = clock_period_ns * divisor
        self._source = _quiet(UartSource(signal, baud=_baud(self.bit_ns), stop_bits=1 + gap_bits))

    async def send(self, data: bytes):
        """Transmit ``data`` and return once its last frame (and gap) is on the line."""
        await self._source.write(bytes(data))
        await self._source.wait()
