"""The host side of the MNIST demo over a serial port (pyserial, in the ``fpga`` extra).

`classify` sends each image as a frame (`boards.protocol`) and reads the board's answer line;
`open_port` opens the board's serial port with one-line errors. The checks against the
network's exact integer reference (`accel.nn.network.reference`) happen in the caller.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable, Iterable, Protocol

import numpy as np

from boards import BoardError
from boards.protocol import DemoAnswer, image_frame, parse_answer, parse_ready

__all__ = ["Port", "open_port", "classify", "DemoResult"]


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


def classify(port: Port, images: Iterable[np.ndarray], *, timeout: float,
             on_result: Callable[[int, DemoResult], None] | None = None) -> list[DemoResult]:
    """Send every image and read the board's answer to each (lines that are not answers, such
    as the boot line, are skipped).

    Raises
    ------
    BoardError
        When no answer arrives within ``timeout`` seconds of a frame.
    """
    results = []
    for index, image in enumerate(images):
        began = time.monotonic()
        port.write(image_frame(image))
        while True:
            line = port.readline().decode("latin-1")
            if not line.endswith("\n"):
                raise BoardError(f"no answer from the board within {timeout:g} s of image "
                                 f"{index} (is the demo bitstream loaded, the port and baud "
                                 f"rate right?)")
            if parse_ready(line) is not None:
                continue
            try:
                answer = parse_answer(line)
            except ValueError:
                if line.startswith("ERROR"):
                    raise BoardError(f"the board stopped: {line.strip()}") from None
                continue
            break
        result = DemoResult(answer, time.monotonic() - began)
        results.append(result)
        if on_result is not None:
            on_result(index, result)
    return results
