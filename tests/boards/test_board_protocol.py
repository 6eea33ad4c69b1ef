"""boards.protocol: frames, answers, and agreement with the firmware's numbers."""

import re

import numpy as np
import pytest

from accel.build.firmware import FIRMWARE_DIR
from accel.soc.registers import UART_RX_DEPTH
from boards.protocol import (
    FRAME_OVERHEAD, PROTOCOL, SYNC, TIMEOUT_BYTES, TYPE_HELLO, TYPE_IMAGE, BoardHello, checksum,
    frame, hello_frame, image_frame, parse_answer, parse_hello, parse_ready,
)


def test_image_frame_layout():
    image = np.arange(784, dtype=np.int64).reshape(28, 28) % 256
    data = image_frame(image)
    assert data[:2] == SYNC and data[2] == TYPE_IMAGE
    assert int.from_bytes(data[3:5], "little") == 784
    assert data[5:5 + 784] == image.astype(np.uint8).tobytes()
    total = (sum(range(256)) * 3 + sum(range(16))) & 0xFFFF
    assert int.from_bytes(data[-2:], "little") == total == checksum(data[5:-2])
    assert len(data) == 2 + 1 + 2 + 784 + 2 == 784 + FRAME_OVERHEAD


def test_hello_frame_is_empty():
    assert hello_frame() == SYNC + bytes((TYPE_HELLO, 0, 0, 0, 0))


def test_checksum_wraps_at_16_bits():
    assert checksum(bytes([255]) * 300) == (255 * 300) & 0xFFFF


@pytest.mark.parametrize("bad", [np.full((28, 28), 256), np.full((28, 28), -1),
                                 np.full((28, 28), 0.5)])
def test_image_frame_rejects_non_pixels(bad):
    with pytest.raises(ValueError, match="pixels between 0 and 255"):
        image_frame(bad)


def test_frame_rejects_oversized_payload():
    with pytest.raises(ValueError, match="at most 65535"):
        frame(bytes(65536))


def test_parse_answers():
    answer = parse_answer("digit 7 cycles 123456 logits -5,0,17,-20000\n")
    assert (answer.digit, answer.cycles, answer.error) == (7, 123456, None)
    assert answer.logits.dtype == np.int32 and answer.logits.tolist() == [-5, 0, 17, -20000]
    assert parse_answer("error checksum").error == "checksum"
    assert parse_answer("error length 12").error == "length 12"
    for line in ("mnist-uart ready 28x28x1 10 classes", "digit x", "ERROR no network"):
        with pytest.raises(ValueError, match="not a demo answer"):
            parse_answer(line)


def test_parse_ready():
    assert parse_ready("mnist-uart ready 28x28x1 10 classes\n") == ((28, 28, 1), 10)
    assert parse_ready("mnist-uart ready 8x8x3 4 classes protocol 2 window 2") == ((8, 8, 3), 4)
    assert parse_ready("digit 1 cycles 2 logits 3") is None


def test_parse_hello_of_both_protocols():
    assert parse_hello("mnist-uart ready 28x28x1 10 classes protocol 2 window 2\n") == \
        BoardHello((28, 28, 1), 10, 2, 2)
    assert parse_hello("mnist-uart ready 28x28x1 10 classes") == BoardHello((28, 28, 1), 10, 1, 1)
    assert parse_hello("mnist-uart ready 64x64x3 10 classes protocol 2 window 0").window == 1
    assert parse_hello("error type 86") is None


def test_the_window_fits_the_receive_fifo():
    """The firmware's window: as many whole MNIST frames as the UART's FIFO holds."""
    assert UART_RX_DEPTH // (784 + FRAME_OVERHEAD) == 2


def test_firmware_uses_the_same_numbers():
    """mnist_uart.c's #defines are the protocol's constants (a change on one side fails)."""
    text = (FIRMWARE_DIR / "apps" / "mnist_uart.c").read_text()
    defines = dict(re.findall(r"#define (DEMO_\w+) (\S+)", text))
    assert int(defines["DEMO_SYNC0"].rstrip("u"), 0) == SYNC[0]
    assert int(defines["DEMO_SYNC1"].rstrip("u"), 0) == SYNC[1]
    assert defines["DEMO_TYPE_IMAGE"] == repr(chr(TYPE_IMAGE))
    assert defines["DEMO_TYPE_HELLO"] == repr(chr(TYPE_HELLO))
    assert int(defines["DEMO_PROTOCOL"].rstrip("u")) == PROTOCOL
    assert int(defines["DEMO_FRAME_OVERHEAD"].rstrip("u")) == FRAME_OVERHEAD
    assert "SOC_UART_RX_DEPTH / (mnist_input_bytes(b) + DEMO_FRAME_OVERHEAD)" in text
    assert int(defines["DEMO_TIMEOUT_BYTES"].rstrip("u")) == TIMEOUT_BYTES
    # The answer formats the firmware prints are the ones parse_answer reads.
    assert 'uprintf("digit %u cycles %u logits "' in text
    assert 'uprintf("mnist-uart ready %ux%ux%u %u classes protocol %u window %u\\n"' in text
    assert 'uart_puts("error overrun\\n")' in text
