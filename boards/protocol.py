"""The MNIST demo's UART protocol (version 2), host side
(``accel/build/firmware/src/apps/mnist_uart.c`` is the board side).

Host to board, one frame per request::

    0xA5 0x5A  type  length (uint16 LE)  payload (length bytes)  sum (uint16 LE)

where ``sum`` is the sum of the payload bytes modulo 2**16. Type ``'I'``: the payload is an
image's uint8 pixels (HWC; 784 bytes for MNIST). Type ``'V'``: the handshake, no payload. The
board answers every frame with one text line:

    ``digit <class> cycles <cycles> logits <l0>,<l1>,...`` (an image)
    ``mnist-uart ready <h>x<w>x<c> <n> classes protocol 2 window <w>`` (the handshake)
    ``error <reason>`` (``checksum``, ``length <n>``, ``type <t>``, ``timeout``, ``overrun``,
    ``accel 0x<status>``)

and prints the ready line once at boot (or ``ERROR ...`` when its SRAM holds no network).

Batch mode: the host may keep up to ``window`` frames unanswered (the board's UART receive FIFO
holds them while the core classifies); answers come in order. Protocol 1 firmware prints the
ready line without ``protocol``/``window`` and answers the handshake ``error type 86``: one
frame at a time (`parse_hello` reads both as a `BoardHello`). The same functions frame images
for the serial port (`boards.demo`) and for the simulated board (``sim/bench_board_demo.py``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

__all__ = ["SYNC", "TYPE_IMAGE", "TYPE_HELLO", "PROTOCOL", "FRAME_OVERHEAD", "TIMEOUT_BYTES",
           "DemoAnswer", "BoardHello", "checksum", "image_frame", "hello_frame", "frame",
           "parse_answer", "parse_ready", "parse_hello"]

#: The two bytes that start every frame.
SYNC = bytes((0xA5, 0x5A))
#: The frame type of an image.
TYPE_IMAGE = ord("I")
#: The frame type of the handshake (no payload; answered by the ready line).
TYPE_HELLO = ord("V")
#: The protocol version this side speaks (2: handshake and batch window).
PROTOCOL = 2
#: Bytes of a frame besides its payload (sync, type, length, sum).
FRAME_OVERHEAD = 7
#: Byte times without a byte after which the board abandons a frame ("error timeout").
TIMEOUT_BYTES = 1000

_DIGIT = re.compile(r"^digit (\d+) cycles (\d+) logits (-?\d+(?:,-?\d+)*)$")
_ERROR = re.compile(r"^error (.+)$")
_READY = re.compile(r"^mnist-uart ready (\d+)x(\d+)x(\d+) (\d+) classes"
                    r"(?: protocol (\d+) window (\d+))?$")


def checksum(payload: bytes) -> int:
    """Sum of the payload bytes modulo 2**16."""
    return sum(payload) & 0xFFFF


def frame(payload: bytes, kind: int = TYPE_IMAGE) -> bytes:
    """One frame carrying ``payload`` (at most 65535 bytes)."""
    if len(payload) > 0xFFFF:
        raise ValueError(f"a frame carries at most 65535 bytes, not {len(payload)}")
    return (SYNC + bytes((kind,)) + len(payload).to_bytes(2, "little") + payload
            + checksum(payload).to_bytes(2, "little"))


def image_frame(image: np.ndarray) -> bytes:
    """The frame of one uint8 image (pixels 0..255, HWC order)."""
    pixels = np.asarray(image)
    if not np.issubdtype(pixels.dtype, np.integer) or pixels.size and (
            pixels.min() < 0 or pixels.max() > 255):
        raise ValueError("an image holds integer pixels between 0 and 255")
    return frame(pixels.astype(np.uint8).tobytes())


def hello_frame() -> bytes:
    """The handshake frame: the board answers with its ready line."""
    return frame(b"", TYPE_HELLO)


@dataclass(frozen=True)
class DemoAnswer:
    """The board's answer to one frame.

    Members
    -------
    digit : int or None
        The predicted class (None after an error).
    cycles : int or None
        SoC clock cycles of the inference.
    logits : numpy.ndarray or None
        int32 logits.
    error : str or None
        The reason, when the board answered ``error ...``.
    """

    digit: int | None = None
    cycles: int | None = None
    logits: np.ndarray | None = None
    error: str | None = None


def parse_answer(line: str) -> DemoAnswer:
    """The answer in one line (without the newline).

    Raises
    ------
    ValueError
        When the line is neither a ``digit`` nor an ``error`` answer.
    """
    line = line.strip()
    if m := _DIGIT.match(line):
        logits = np.array([int(v) for v in m.group(3).split(",")], dtype=np.int32)
        return DemoAnswer(int(m.group(1)), int(m.group(2)), logits)
    if m := _ERROR.match(line):
        return DemoAnswer(error=m.group(1))
    raise ValueError(f"not a demo answer: {line!r}")


@dataclass(frozen=True)
class BoardHello:
    """What the board's ready line says.

    Members
    -------
    shape : tuple of int
        The network's input ``(h, w, c)``.
    classes : int
    protocol : int
        1 for firmware without batch mode.
    window : int
        Frames the host may keep unanswered (1: one at a time).
    """

    shape: tuple[int, int, int]
    classes: int
    protocol: int = 1
    window: int = 1


def parse_hello(line: str) -> BoardHello | None:
    """The `BoardHello` in the board's ready line (either protocol), or None for another
    line."""
    m = _READY.match(line.strip())
    if not m:
        return None
    h, w, c, classes = (int(v) for v in m.groups()[:4])
    if m.group(5) is None:
        return BoardHello((h, w, c), classes)
    return BoardHello((h, w, c), classes, int(m.group(5)), max(1, int(m.group(6))))


def parse_ready(line: str) -> tuple[tuple[int, int, int], int] | None:
    """``((h, w, c), classes)`` from the board's ready line, or None for another line."""
    hello = parse_hello(line)
    return None if hello is None else (hello.shape, hello.classes)
