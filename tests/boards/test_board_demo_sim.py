"""The MNIST UART demo, proven in simulation: the SoC runs the board firmware (mnist_uart) with
the compiled default CNN in its SRAM; a cocotb UART driver sends frames (boards.protocol) in
batch mode at the ULX3S's 3 Mbaud (5 cycles a bit) and the answers are checked against the
network's exact integer reference.

CI runs a handshake, one image, a corrupted, a wrong-length and a wrong-type frame on a 2x2
array, two frames in flight; ACCELGEN_DEMO_IMAGES=N runs the first N held-out images (about
0.9 million simulated cycles each on 2x2). ``python -m bench board-demo`` measures throughput
on the board's own configuration.
"""

import os

import numpy as np
import pytest

from accel.config import AccelConfig
from accel.nn.model_file import load_default
from accel.nn.network import reference
from accel.nn.mnist.recipe import load_dataset
from boards.protocol import BoardHello, frame, hello_frame, image_frame
from sim.board_demo import run_demo_sim
from tests.support.riscv import require_toolchain

pytestmark = [pytest.mark.rtl, pytest.mark.soc, pytest.mark.slow]

#: The smallest array the board flow builds (one Verilator build serves every run here).
CONFIG = AccelConfig(rows=2, cols=2, sp_kib=1, acc_kib=1, sp_banks=1, acc_banks=1)


def _images():
    count = int(os.environ.get("ACCELGEN_DEMO_IMAGES", "1"))
    return load_dataset().eval_images[:count]


def test_demo_answers_match_the_reference():
    require_toolchain()
    network = load_default("cnn")
    images = _images()
    good = [image_frame(image) for image in images]
    corrupt = bytearray(good[0])
    corrupt[10] ^= 0x40                                  # a pixel changed: the sum is wrong
    short = frame(bytes(100))                            # a frame of the wrong length
    odd = frame(bytes(3), kind=ord("Q"))                 # a frame of an unknown type
    frames = [hello_frame(), good[0], bytes(corrupt), short, odd, *good[1:]]
    run = run_demo_sim(CONFIG, network, frames, window=2)

    ready = "mnist-uart ready 28x28x1 10 classes protocol 2 window 2\n"
    assert run.transcript.startswith(ready)
    assert run.answers[0] == BoardHello((28, 28, 1), 10, protocol=2, window=2)
    assert [a.error for a in run.answers[2:5]] == ["checksum", "length 100", "type 81"]
    # Batch mode: the corrupt frame went out before the image was answered.
    assert run.sent[2] < run.answered[1]
    assert len(run.answered) == len(frames) and run.answered == sorted(run.answered)
    answers = [run.answers[1], *run.answers[5:]]
    assert len(answers) == len(images)
    for answer, image in zip(answers, images):
        want = reference(network, image)
        assert answer.error is None
        np.testing.assert_array_equal(answer.logits, want)
        assert answer.digit == int(np.argmax(want))
        assert answer.cycles > 0
