"""boards.demo: the host's handshake and batch window against a scripted serial port."""

import numpy as np
import pytest

from boards import BoardError
from boards.demo import classify, handshake
from boards.protocol import SYNC, TYPE_HELLO, TYPE_IMAGE, checksum


class ScriptedBoard:
    """A serial port answering like the firmware: one line per complete frame, oldest first,
    when the host reads; counts the frames the host had unanswered."""

    def __init__(self, *, protocol=2, window=2, boot=True):
        self.protocol, self.window = protocol, window
        self.buffer = bytearray()
        self.frames = []
        self.lines = [self._ready()] if boot else []
        self.most_unanswered = 0

    def _ready(self):
        extra = f" protocol 2 window {self.window}" if self.protocol == 2 else ""
        return f"mnist-uart ready 2x2x1 3 classes{extra}\n".encode()

    def write(self, data):
        self.buffer += data
        while len(self.buffer) >= 7:
            assert self.buffer[:2] == SYNC
            length = int.from_bytes(self.buffer[3:5], "little")
            if len(self.buffer) < 7 + length:
                break
            kind, payload = self.buffer[2], bytes(self.buffer[5:5 + length])
            assert int.from_bytes(self.buffer[5 + length:7 + length], "little") == \
                checksum(payload)
            del self.buffer[:7 + length]
            self.frames.append((kind, payload))
        self.most_unanswered = max(self.most_unanswered, len(self.frames))
        return len(data)

    def readline(self):
        if self.lines:
            return self.lines.pop(0)
        if not self.frames:
            return b""                                       # the read timed out
        kind, payload = self.frames.pop(0)
        if kind == TYPE_HELLO and self.protocol == 2:
            return self._ready()
        if kind != TYPE_IMAGE:
            return f"error type {kind}\n".encode()
        digit = sum(payload) % 3
        logits = ",".join(str(10 * (i == digit)) for i in range(3))
        return f"digit {digit} cycles 100 logits {logits}\n".encode()


def _images(n):
    rng = np.random.default_rng(3)
    return [rng.integers(0, 256, (2, 2)) for _ in range(n)]


@pytest.mark.parametrize("protocol, window", [(2, 2), (2, 3), (1, 1)])
def test_handshake_reads_the_window(protocol, window):
    board = ScriptedBoard(protocol=protocol, window=window)
    hello = handshake(board, timeout=1)
    assert (hello.protocol, hello.window) == (protocol, window)


@pytest.mark.parametrize("window", [1, 2, 4])
def test_classify_keeps_at_most_window_frames_unanswered(window):
    board = ScriptedBoard(window=window)
    images = _images(7)
    seen = []
    results = classify(board, images, timeout=1, window=window,
                       on_result=lambda i, r: seen.append(i))
    assert seen == list(range(7))
    assert board.most_unanswered == window
    for result, image in zip(results, images):
        assert result.answer.digit == int(image.sum()) % 3


def test_classify_without_an_answer_is_a_one_line_error():
    board = ScriptedBoard()
    board.readline = lambda: b""
    with pytest.raises(BoardError, match="no answer from the board within 1 s of image 0"):
        classify(board, _images(2), timeout=1, window=2)
    with pytest.raises(ValueError, match="window must be at least 1"):
        classify(ScriptedBoard(), _images(1), timeout=1, window=0)
