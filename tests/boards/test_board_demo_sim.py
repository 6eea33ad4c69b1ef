"""The MNIST UART demo, proven in simulation: the SoC runs the board firmware (mnist_uart) with
the compiled default CNN in its SRAM; a cocotb UART driver sends frames (boards.protocol) and
the answers are checked against the network's exact integer reference.

CI runs one image (plus a corrupted and a wrong-length frame) on a 2x2 array;
ACCELGEN_DEMO_IMAGES=N runs the first N held-out images (about 1.1 million simulated cycles each:
inference and the frame at 32 cycles per bit).
"""

import os

import numpy as np
import pytest

from accel.config import AccelConfig
from accel.nn.model_file import load_default
from accel.nn.network import reference
from accel.nn.mnist.recipe import load_dataset
from boards.protocol import frame, image_frame
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
    frames = [good[0], bytes(corrupt), short, *good[1:]]
    run = run_demo_sim(CONFIG, network, frames)

    assert run.transcript.startswith("mnist-uart ready 28x28x1 10 classes\n")
    assert [a.error for a in run.answers[1:3]] == ["checksum", "length 100"]
    answers = [run.answers[0], *run.answers[3:]]
    assert len(answers) == len(images)
    for answer, image in zip(answers, images):
        want = reference(network, image)
        assert answer.error is None
        np.testing.assert_array_equal(answer.logits, want)
        assert answer.digit == int(np.argmax(want))
        assert answer.cycles > 0
