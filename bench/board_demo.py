"""Throughput of the simulated MNIST board demo: inferences per second at the board clock.

The board's own SoC (``--board``'s default configuration, SRAM sized by the board flow, the
``mnist_uart`` firmware, the default CNN) runs on Verilator (`sim.board_demo`); a UART driver
plays the host. Two ways of feeding it:

* batch: the handshake, then ``--images`` frames streamed at the board's default rate
  (`boards.baud.default_baud`: 3 Mbaud on the ULX3S), as many unanswered as the board's window;
* one at a time (the demo before batch mode): each frame after the previous answer, at 115200
  baud (the same Verilog; the bench sets the UART's divisor).

Every answer is checked against the network's exact integer reference. Printed per mode: the
link's cycles per frame, the firmware's cycles per inference (from its answers), the simulated
cycles from the first image byte to the last answer, and inferences per second = images x board
clock / those cycles (also the steady state, first answer to last).

Usage::

    python bench/board_demo.py                          # ULX3S-85F (8x8), 8 + 2 images
    python bench/board_demo.py --quick                  # 2x2 array, 3 + 1 images
    python bench/board_demo.py --board ulx3s-45f --images 16 --serial-images 1
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from accel.config import AccelConfig  # noqa: E402
from accel.nn.mnist.recipe import load_dataset  # noqa: E402
from accel.nn.model_file import load_default  # noqa: E402
from accel.nn.network import reference  # noqa: E402
from accel.soc.registers import UART_RX_DEPTH  # noqa: E402
from boards import BOARDS  # noqa: E402
from boards.baud import default_baud, uart_divisor  # noqa: E402
from boards.protocol import FRAME_OVERHEAD, hello_frame, image_frame  # noqa: E402
from sim.board_demo import run_demo_sim  # noqa: E402

#: The rate of the demo before batch mode.
SERIAL_BAUD = 115_200


def _check(answers, network, images) -> list[int]:
    """Firmware cycles per inference; raises when an answer differs from the reference."""
    cycles = []
    for index, (answer, image) in enumerate(zip(answers, images)):
        if getattr(answer, "error", None) is not None or answer.logits is None:
            raise SystemExit(f"image {index}: the board answered {answer}")
        if not np.array_equal(answer.logits, reference(network, image)):
            raise SystemExit(f"image {index}: logits differ from the reference")
        cycles.append(answer.cycles)
    return cycles


def _row(mode, baud, divisor, window, frame_bytes, cycles, run, first, clock_hz):
    n = len(run.answered) - first
    total = run.answered[-1] - run.sent[first]
    steady = ((n - 1) * clock_hz / (run.answered[-1] - run.answered[first])
              if n > 1 else float("nan"))
    return (f"| {mode} | {baud:,} | {divisor} | {window} | {frame_bytes * 10 * divisor:,} | "
            f"{np.mean(cycles):,.0f} | {n} | {total:,} | {n * clock_hz / total:,.1f} | "
            f"{steady:,.1f} |")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--board", default="ulx3s-85f", choices=sorted(BOARDS))
    parser.add_argument("--images", type=int, default=8, help="images streamed in batch mode")
    parser.add_argument("--serial-images", type=int, default=2,
                        help="images sent one at a time at 115200 baud (0: skip)")
    parser.add_argument("--quick", action="store_true",
                        help="a 2x2 array (the CI demo's) instead of the board's default")
    parser.add_argument("--simulator", default="verilator")
    args = parser.parse_args(argv)
    if args.quick:
        args.images, args.serial_images = min(args.images, 3), min(args.serial_images, 1)

    board = BOARDS[args.board]
    config = (AccelConfig(rows=2, cols=2, sp_kib=1, acc_kib=1, sp_banks=1, acc_banks=1)
              if args.quick else board.default_config)
    network = load_default("cnn")
    images = load_dataset().eval_images[:max(args.images, args.serial_images)]
    h, w, c = network.input_shape
    frame_bytes = h * w * c + FRAME_OVERHEAD
    clock_hz = board.sys_hz
    baud = default_baud(board)
    divisor = uart_divisor(board, baud)

    print(f"# Simulated board demo: {board.title}, {config.rows}x{config.cols} array, "
          f"{clock_hz / 1e6:g} MHz, network {network.name} ({frame_bytes} bytes a frame)\n")
    print("| mode | baud | cycles/bit | frames in flight | link cycles/frame | "
          "firmware cycles/inference | images | cycles first byte to last answer | "
          "inferences/s | steady inferences/s |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    began = time.monotonic()
    batch = [image_frame(image) for image in images[:args.images]]
    window = max(1, UART_RX_DEPTH // frame_bytes)     # what the firmware's handshake says
    run = run_demo_sim(config, network, [hello_frame(), *batch], divisor=divisor,
                       simulator=args.simulator, window=window)
    if run.answers[0].window != window:
        raise SystemExit(f"the board's handshake says window {run.answers[0].window}, "
                         f"not {window}")
    cycles = _check(run.answers[1:], network, images)
    print(_row("batch", baud, divisor, window, frame_bytes, cycles, run, 1, clock_hz))
    if args.serial_images:
        slow = uart_divisor(board, SERIAL_BAUD)
        frames = [image_frame(image) for image in images[:args.serial_images]]
        old = run_demo_sim(config, network, frames, divisor=slow, build_divisor=divisor,
                           simulator=args.simulator, window=1)
        cycles = _check(old.answers, network, images)
        print(_row("one at a time", SERIAL_BAUD, slow, 1, frame_bytes, cycles, old, 0,
                   clock_hz))
    print(f"\n({time.monotonic() - began:.0f} s of simulation)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
