"""Run the MNIST UART demo on the simulated SoC: the board's firmware and SRAM image
(`boards.image`), frames from `boards.protocol`, the bench ``sim.bench_board_demo``.

The SoC is the one a board build puts on the FPGA (same configuration sizing, firmware and
network image), minus the board's clocking and pins; its UART runs at ``divisor`` cycles per bit
(a board runs at 115200 baud, hundreds of cycles per bit; fewer keep the simulation short while
leaving the firmware time to take every byte).
"""

from __future__ import annotations

import struct
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

__all__ = ["DEFAULT_DIVISOR", "DemoSimRun", "run_demo_sim"]

#: UART clock cycles per bit in the demo simulation (the receive loop needs ~100 cycles a byte).
DEFAULT_DIVISOR = 32


@dataclass(frozen=True, eq=False)
class DemoSimRun:
    """What a simulated demo returned.

    Members
    -------
    answers : list of boards.protocol.DemoAnswer
        One per frame sent, in order.
    transcript : str
        Everything the UART printed.
    planned : boards.image.BoardImage
        The SRAM image, its layout and the sized configuration.
    """

    answers: list
    transcript: str
    planned: object


def run_demo_sim(config, network, frames: Sequence[bytes], *, divisor: int = DEFAULT_DIVISOR,
                 simulator: str = "verilator", work_dir: str | Path | None = None,
                 frame_cycles: int | None = None, app: str | None = None) -> DemoSimRun:
    """Boot the demo firmware with ``network`` on the SoC of ``config`` and send ``frames``
    (`boards.protocol.frame` / ``image_frame``), each after the previous one was answered.
    ``app`` replaces the demo firmware (a ``.c`` file speaking the same protocol).

    Raises
    ------
    sim.soc_runner.SocRunError
        When the bench fails (no ready line, an answer late, a trap, framing errors).
    boards.BoardError
        When the firmware or the network does not build or fit.
    """
    from accel.nn.inference import bound_cycles, run_golden
    from accel.soc.soc import picorv32_source
    from boards.image import plan_board_image
    from boards.protocol import parse_answer

    from sim.runner import run_cocotb
    from sim.soc_runner import SocRunError, soc_verilog

    with tempfile.TemporaryDirectory(prefix="board-demo-") as tmp:
        work = Path(work_dir) if work_dir is not None else Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        planned = plan_board_image(config, network, work / "firmware",
                                   **({} if app is None else {"app": app}))
        if frame_cycles is None:
            h, w, c = network.input_shape
            blank = np.zeros((h, w), dtype=np.uint8)
            compiled = planned.layout.compiled
            golden = run_golden(compiled, [blank])[0]
            per_byte = 10 * divisor
            frame_cycles = (4 * bound_cycles(compiled, golden) + 200 * compiled.commands
                            + 2 * per_byte * (h * w * c + 8)
                            + 200 * per_byte + 2_000_000)
        (work / "image.bin").write_bytes(planned.image)
        (work / "frames.bin").write_bytes(b"".join(struct.pack("<I", len(f)) + bytes(f)
                                                   for f in frames))
        transcript = work / "answers.txt"
        verilog = soc_verilog(planned.config, uart_divisor=divisor)
        try:
            run_cocotb(sources=[verilog, picorv32_source()], toplevel="soc",
                       test_module="sim.bench_board_demo", build_key=verilog.parent.name,
                       simulator=simulator,
                       env={"DEMO_DIVISOR": str(divisor),
                            "DEMO_IMAGE": str(work / "image.bin"),
                            "DEMO_FRAMES": str(work / "frames.bin"),
                            "DEMO_FRAME_CYCLES": str(frame_cycles),
                            "DEMO_TRANSCRIPT": str(transcript)})
        except AssertionError as exc:
            raise SocRunError(str(exc)) from None
        answers_text, _, uart = transcript.read_text().partition("#\n")
    answers = [parse_answer(line) for line in answers_text.splitlines()]
    return DemoSimRun(answers, uart, planned)
