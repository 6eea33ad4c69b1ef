"""Run a program image on the SoC's emitted Verilog (``sim.bench_soc``) and return what the UART
printed.

By default one simulator build of an SoC with empty SRAM serves every image of a configuration:
the bench loads the image into the SRAM during reset (``SOC_IMAGE``). ``baked=True`` instead
emits the image as the SRAM's initial contents (one build per image). Builds are cached by
`sim.runner`; the SoC tests (tests/soc) and `accel.runtime.network_soc` run through here.
"""

from __future__ import annotations

import hashlib
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

__all__ = ["SocRun", "SocRunError", "DEFAULT_DIVISOR", "soc_verilog", "run_soc_image"]

#: UART clock cycles per bit in simulation: fast, and still sampled cleanly by the monitor.
DEFAULT_DIVISOR = 8


@dataclass(frozen=True)
class SocRun:
    """What one run printed.

    Members
    -------
    transcript : str
        Everything the UART sent, up to the line that ended the run.
    cycles : int
        Clock cycles from the end of reset to the end of the run.
    """

    transcript: str
    cycles: int


class SocRunError(RuntimeError):
    """The bench failed (no ending line within the cycle limit, a trap, a failed expectation).

    Members
    -------
    transcript : str
        What the UART printed until then ("" when the bench did not get that far).
    """

    def __init__(self, message: str, transcript: str = "") -> None:
        super().__init__(message)
        self.transcript = transcript


def soc_verilog(config, *, with_accelerator: bool = True, uart_divisor: int = DEFAULT_DIVISOR,
                firmware: bytes | None = None) -> Path:
    """The SoC's Verilog for ``config`` (top module ``soc``), emitted once per process.

    ``firmware`` bakes an SRAM image into the design; without it the SRAM starts empty.
    """
    from accel.soc.soc import SoC

    from sim.runner import emit_cached

    kind = "accel" if with_accelerator else "core"
    sram = f"baked-{hashlib.sha256(firmware).hexdigest()[:12]}" if firmware else "blank"
    key = (f"soc-{config.rows}x{config.cols}-{config.dataflow}-{kind}-{sram}-"
           f"div{uart_divisor}-{config.hardware_digest()}")
    return emit_cached(key, lambda: SoC(config, firmware, uart_divisor=uart_divisor,
                                        with_accelerator=with_accelerator), name="soc")


def run_soc_image(config, image: bytes, *, env: Mapping[str, str] | None = None,
                  with_accelerator: bool = True, uart_divisor: int = DEFAULT_DIVISOR,
                  baked: bool = False, simulator: str = "verilator",
                  waves: str | None = None, waves_file: Path | None = None) -> SocRun:
    """Run ``image`` (SRAM contents from address 0) on the SoC until the bench's ending line.

    Parameters
    ----------
    config : AccelConfig
        The SoC's configuration (``soc_sram_kib`` bounds the image).
    image : bytes
    env : mapping, optional
        Bench settings (``SOC_END``, ``SOC_MAX_CYCLES``, ``SOC_EXPECT``..., see
        ``sim.bench_soc``); ``SOC_DIVISOR``, ``SOC_IMAGE`` and ``SOC_TRANSCRIPT`` are set here.
    baked : bool
        Build the SoC with ``image`` as its initial SRAM (one build per image).
    simulator : {"verilator", "icarus"}
    waves : {None, "fst", "vcd"}
        Record the run's waveform into ``waves_file`` (see `sim.runner.run_cocotb`).
    waves_file : Path, optional

    Raises
    ------
    SocRunError
        When the bench fails; carries the transcript printed so far.
    sim.runner.SimulatorNotFound, RuntimeError
        When the simulator is missing or its build fails.
    """
    from accel.soc.soc import picorv32_source

    from sim.runner import run_cocotb

    verilog = soc_verilog(config, with_accelerator=with_accelerator, uart_divisor=uart_divisor,
                          firmware=image if baked else None)
    with tempfile.TemporaryDirectory(prefix="soc-run-") as tmp:
        transcript = Path(tmp) / "uart.txt"
        settings = {"SOC_DIVISOR": str(uart_divisor), "SOC_TRANSCRIPT": str(transcript)}
        if not baked:
            (Path(tmp) / "image.bin").write_bytes(image)
            settings["SOC_IMAGE"] = str(Path(tmp) / "image.bin")
        try:
            run_cocotb(sources=[verilog, picorv32_source()], toplevel="soc",
                       test_module="sim.bench_soc", build_key=verilog.parent.parent.name,
                       simulator=simulator, env={**settings, **dict(env or {})},
                       waves=waves, waves_file=waves_file)
        except AssertionError as exc:
            text = transcript.read_text() if transcript.is_file() else ""
            raise SocRunError(str(exc), _strip_header(text)[0]) from None
        return SocRun(*_strip_header(transcript.read_text()))


def _strip_header(text: str) -> tuple[str, int]:
    """Split the bench's ``# cycles N`` first line from the transcript."""
    match = re.match(r"# cycles (\d+)\n", text)
    if not match:
        return text, 0
    return text[match.end():], int(match.group(1))
