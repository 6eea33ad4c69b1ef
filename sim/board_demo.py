"""Run the MNIST UART demo on the simulated SoC: the board's firmware and SRAM image
(`boards.image`), frames from `boards.protocol`, the bench ``sim.bench_board_demo``.

The SoC is the one a board build puts on the FPGA (same configuration sizing, firmware and
network image), minus the board's clocking and pins; its UART runs at ``divisor`` cycles per bit
(the ULX3S's default 3 Mbaud at 15 MHz is 5: `boards.baud.uart_divisor`). ``window`` frames may
be unanswered at a time (the batch mode of `boards.protocol`); the run records the cycle each
frame went out and each answer came back, for throughput at the board clock.
"""

from __future__ import annotations

import json
import struct
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

__all__ = ["DEFAULT_DIVISOR", "DemoSimRun", "run_demo_sim"]

#: UART clock cycles per bit in the demo simulation: the ULX3S's 3 Mbaud at 15 MHz.
DEFAULT_DIVISOR = 5


@dataclass(frozen=True, eq=False)
class DemoSimRun:
    """What a simulated demo returned.

    Members
    -------
    answers : list of boards.protocol.DemoAnswer or boards.protocol.BoardHello
        One per frame sent, in order (a `BoardHello` answers a handshake frame).
    transcript : str
        Everything the UART printed.
    planned : boards.image.BoardImage
        The SRAM image, its layout and the sized configuration.
    sent : list of int
        The cycle (from reset) each frame's first byte went out.
    answered : list of int
        The cycle each answer's newline came in.
    """

    answers: list
    transcript: str
    planned: object
    sent: list
    answered: list

    @property
    def cycles(self) -> int:
        """Cycles from the first frame's first byte to the last answer."""
        return self.answered[-1] - self.sent[0]

    def per_second(self, clock_hz: float) -> float:
        """Answers per second at ``clock_hz``, first byte to last answer."""
        return len(self.answered) * clock_hz / self.cycles


def run_demo_sim(config, network, frames: Sequence[bytes], *, divisor: int = DEFAULT_DIVISOR,
                 simulator: str = "verilator", work_dir: str | Path | None = None,
                 frame_cycles: int | None = None, app: str | None = None,
                 window: int = 1, build_divisor: int | None = None) -> DemoSimRun:
    """Boot the demo firmware with ``network`` on the SoC of ``config`` and send ``frames``
    (`boards.protocol.frame` / ``image_frame`` / ``hello_frame``), back to back while fewer
    than ``window`` are unanswered (1: each after the previous answer). ``app`` replaces the
    demo firmware (a ``.c`` file speaking the same protocol). ``build_divisor`` (default
    ``divisor``) is the UART's reset value in the Verilog; when it differs, the bench writes
    ``divisor`` into the UART's DIVISOR register before the firmware starts (one Verilator build
    serves several rates; a board built with ``--baud`` has it as its reset value).

    Raises
    ------
    sim.soc_runner.SocRunError
        When the bench fails (no ready line, an answer late, a trap, framing errors).
    boards.BoardError
        When the firmware or the network does not build or fit.
    """
    from accel.runtime.target import bound_cycles, run_golden
    from accel.soc.soc import picorv32_source
    from boards.image import plan_board_image
    from boards.protocol import parse_answer, parse_hello

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
            compiled = planned.layout.target     # a native network or a graph alike
            golden = run_golden(compiled, [blank])[0]
            per_byte = 10 * divisor
            frame_cycles = (4 * bound_cycles(compiled, golden) + 200 * compiled.commands
                            + 2 * per_byte * (h * w * c + 8)
                            + 200 * per_byte + 2_000_000)
        (work / "image.bin").write_bytes(planned.image)
        (work / "frames.bin").write_bytes(b"".join(struct.pack("<I", len(f)) + bytes(f)
                                                   for f in frames))
        transcript, timing = work / "answers.txt", work / "timing.json"
        build_divisor = divisor if build_divisor is None else build_divisor
        verilog = soc_verilog(planned.config, uart_divisor=build_divisor)
        try:
            run_cocotb(sources=[verilog, picorv32_source()], toplevel="soc",
                       test_module="sim.bench_board_demo", build_key=verilog.parent.parent.name,
                       simulator=simulator,
                       env={"DEMO_DIVISOR": str(divisor),
                            "DEMO_SET_DIVISOR": str(int(divisor != build_divisor)),
                            "DEMO_IMAGE": str(work / "image.bin"),
                            "DEMO_FRAMES": str(work / "frames.bin"),
                            "DEMO_FRAME_CYCLES": str(frame_cycles),
                            "DEMO_WINDOW": str(window),
                            "DEMO_TRANSCRIPT": str(transcript),
                            "DEMO_TIMING": str(timing)})
        except AssertionError as exc:
            raise SocRunError(str(exc)) from None
        answers_text, _, uart = transcript.read_text().partition("#\n")
        times = json.loads(timing.read_text())
    answers = [parse_hello(line) or parse_answer(line) for line in answers_text.splitlines()]
    return DemoSimRun(answers, uart, planned, times["sent"], times["answered"])
