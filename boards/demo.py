"""The host side of the MNIST demo over a serial port (pyserial, in the ``fpga`` extra).

`handshake` asks the board for its protocol and batch window; `classify` sends the images as
frames (`boards.protocol`), up to ``window`` of them unanswered (batch mode: the link and the
board work at once), and reads the board's answer lines in order; `open_port` opens the board's
serial port with one-line errors. The checks against the network's exact integer reference
(`accel.nn.network.reference`) happen in the caller.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass
from typing import Callable, Iterable, Protocol

import numpy as np

from boards import BoardError
from boards.protocol import (BoardHello, DemoAnswer, hello_frame, image_frame, parse_answer,
                             parse_hello)

__all__ = ["Port", "open_port", "handshake", "classify", "DemoResult"]


class Port(Protocol):
    """What `classify` needs of a serial port (a ``serial.Serial`` has it)."""

    def write(self, data: bytes) -> int | None: ...

    def readline(self) -> bytes: ...


def open_port(name: str, baud: int, timeout: float):
    """Open serial port ``name`` (8N1, ``baud``) with a read timeout in seconds.

    Raises
    ------
    BoardError
        pyserial is missing or the port cannot be opened (one line).
    """
    try:
        import serial
    except ImportError:
        raise BoardError("the demo needs pyserial: pip install 'accelgen[fpga]'") from None
    try:
        return serial.Serial(name, baudrate=baud, timeout=timeout)
    except (serial.SerialException, OSError, ValueError) as exc:
        raise BoardError(f"cannot open serial port {name!r}: {exc}") from None


@dataclass(frozen=True)
class DemoResult:
    """One classified image: the board's answer and the seconds from sending to answer."""

    answer: DemoAnswer
    seconds: float


def _line(port: Port, timeout: float, what: str) -> str:
    line = port.readline().decode("latin-1")
    if not line.endswith("\n"):
        raise BoardError(f"no answer from the board within {timeout:g} s of {what} (is the "
                         f"demo bitstream loaded, the port and baud rate right?)")
    return line


def handshake(port: Port, *, timeout: float) -> BoardHello:
    """Send the handshake frame and return the board's `BoardHello`; protocol 1 firmware
    (``error type 86``) gives window 1.

    Raises
    ------
    BoardError
        When no ready line or answer arrives within ``timeout`` seconds, or the board stopped.
    """
    port.write(hello_frame())
    while True:
        line = _line(port, timeout, "the handshake")
        if (hello := parse_hello(line)) is not None:
            if hello.protocol == 1:
                continue              # the boot line of an old board: its answer follows
            return hello
        if line.startswith("ERROR"):
            raise BoardError(f"the board stopped: {line.strip()}")
        try:
            answer = parse_answer(line)
        except ValueError:
            continue
        if answer.error is not None and answer.error.startswith("type"):
            return BoardHello((0, 0, 0), 0)
        # else: an answer to a frame sent before this session; skip it


def classify(port: Port, images: Iterable[np.ndarray], *, timeout: float, window: int = 1,
             on_result: Callable[[int, DemoResult], None] | None = None) -> list[DemoResult]:
    """Send every image and read the board's answer to each, keeping up to ``window`` frames
    unanswered (`handshake` tells the board's window; 1 sends each frame after the previous
    answer). Lines that are not answers, such as ready lines, are skipped.

    Raises
    ------
    BoardError
        When no answer arrives within ``timeout`` seconds, or the board stopped.
    """
    if window < 1:
        raise ValueError(f"window must be at least 1, not {window}")
    results = []
    pending: deque[tuple[int, float]] = deque()
    queue = iter(enumerate(images))
    more = True
    while True:
        while more and len(pending) < window:
            item = next(queue, None)
            if item is None:
                more = False
                break
            pending.append((item[0], time.monotonic()))
            port.write(image_frame(item[1]))
        if not pending:
            return results
        index, began = pending[0]
        line = _line(port, timeout, f"image {index}")
        if parse_hello(line) is not None:
            continue
        try:
            answer = parse_answer(line)
        except ValueError:
            if line.startswith("ERROR"):
                raise BoardError(f"the board stopped: {line.strip()}") from None
            continue
        pending.popleft()
        result = DemoResult(answer, time.monotonic() - began)
        results.append(result)
        if on_result is not None:
            on_result(index, result)
