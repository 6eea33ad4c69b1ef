"""``accelgen board build``: from a board and a configuration to a bitstream and a report.

Steps (each reported with the elapsed time):

1. image: build the ``mnist_uart`` firmware, compile the network above it, size the SoC's SRAM
   (`boards.image`);
2. elaborate: the `boards.top.BoardTop` through the board's amaranth-boards platform into a
   build plan (RTLIL, constraints, Yosys script, tool commands), extracted into ``OUT/gateware``;
   the multiplier plan (`boards.multipliers`) goes into ``multipliers.ys``, which the Yosys
   script runs right after reading the design;
3. synthesis, then a check that the cells fit the device (`boards.report.check_fits`), place
   and route (``nextpnr --report``), bitstream (`boards.flow.run_plan_commands`). On ECP5, when
   Yosys' ``abc9`` LUT mapper fails (a Yosys 0.70 bug some designs trigger), synthesis runs
   again with ``abc -lut 4`` (`with_abc_lut_mapping`) and the report says so (``lut_mapper``);
4. the report: ``OUT/report.json`` and ``OUT/report.txt`` (`boards.report`), the bitstream as
   ``OUT/<board>.bit`` (ECP5) or ``OUT/<board>.bin`` (iCE40), and ``OUT/sram.bin``.
"""

from __future__ import annotations

import json
import re
import shutil
import time
from pathlib import Path
from typing import Callable

from accel.config import AccelConfig
from accel.build.fpga_tools import (ToolError, ecp5_synth_abc_lut, yosys_failed_in_pass,
                                    yosys_stat_cells)

from boards import BoardError
from boards.flow import STEP_NAMES, find_tool, run_plan_commands
from boards.multipliers import plan_multipliers
from boards.report import check_fits, place_and_route_figures, render_table
from boards.spec import Board
from boards.baud import default_baud, uart_divisor
from boards.top import BoardTop

__all__ = ["build_board", "bitstream_name", "elaborate", "with_abc_lut_mapping"]

_NAME = "top"


def _bitstream_suffix(board: Board) -> str:
    return "bit" if board.family == "ecp5" else "bin"


def bitstream_name(board: Board) -> str:
    """File name of the board's bitstream in the output directory."""
    return f"{board.name}.{_bitstream_suffix(board)}"


def _platform(board: Board):
    platform = board.platform()
    if board.extra_resources is not None:
        board.extra_resources(platform)
    return platform


def elaborate(board: Board, config: AccelConfig, image: bytes, gateware: Path, *,
              baud: int | None = None, with_accelerator: bool = True):
    """Elaborate the board top into a build plan, extract it into ``gateware`` and write the
    multiplier plan beside it. Returns the `~boards.multipliers.MultiplierPlan`."""
    platform = _platform(board)
    top = BoardTop(board, config, image, baud=baud, with_accelerator=with_accelerator)
    plan = platform.prepare(
        top, name=_NAME, synth_opts=board.synth_opts, debug_verilog=False,
        script_after_read="script multipliers.ys",
        nextpnr_opts=" ".join(filter(None, ("--report report.json --timing-allow-fail",
                                            board.pnr_opts))))
    if gateware.exists():
        shutil.rmtree(gateware)
    plan.extract(str(gateware))
    rtlil = (gateware / f"{_NAME}.il").read_text()
    multipliers = plan_multipliers(rtlil, board.family, board.capacity.dsp[1])
    (gateware / "multipliers.ys").write_text(
        "# Multipliers beyond the device's hard multipliers, rebuilt in logic "
        "(boards.multipliers)\n" + (multipliers.yosys_script() or "# (none)\n"))
    return multipliers


_SYNTH_ECP5 = re.compile(r"^\s*synth_ecp5\b(?P<options>.*?)-top (?P<top>\S+)\s*$", re.M)


def with_abc_lut_mapping(script: str) -> str:
    """The Yosys script ``script`` (Amaranth's ``top.ys``) with its ``synth_ecp5`` mapping LUTs
    by ``abc -lut 4`` instead of ``abc9`` (`accel.build.fpga_tools.ecp5_synth_abc_lut`).

    Raises
    ------
    ValueError
        When the script has no ``synth_ecp5 ... -top NAME`` line.
    """
    match = _SYNTH_ECP5.search(script)
    if match is None:
        raise ValueError("no synth_ecp5 command in the Yosys script")
    commands = ecp5_synth_abc_lut(match["top"], match["options"].strip())
    return script[:match.start()] + "\n".join(f"    {c}" for c in commands) + script[match.end():]


def _run_tools(board: Board, gateware: Path, progress, start: float, after
               ) -> tuple[list[dict], float | None]:
    """Run the plan's tools; on ECP5, when Yosys' ``abc9`` fails (a Yosys bug some designs
    trigger), run them again with ``abc -lut 4``. Returns the step records and the seconds the
    failed synthesis took (None when there was none)."""
    began = time.monotonic()
    try:
        return run_plan_commands(gateware, _NAME, progress=progress, start=start,
                                 after_step=after), None
    except ToolError:
        log = gateware / f"{_NAME}.rpt"
        if board.family != "ecp5" or not log.exists() or \
                not yosys_failed_in_pass(log.read_text(errors="replace"), "ABC9"):
            raise
    failed = time.monotonic() - began
    progress(f"[{time.monotonic() - start:7.1f} s]   synthesis: Yosys' abc9 LUT mapper failed "
             f"after {failed:.0f} s (a Yosys bug); again with abc -lut 4")
    script = gateware / f"{_NAME}.ys"
    script.write_text(with_abc_lut_mapping(script.read_text()))
    return run_plan_commands(gateware, _NAME, progress=progress, start=start,
                             after_step=after), failed


def build_board(board: Board, config: AccelConfig, out_dir: str | Path, *, network=None,
                model: str | None = None, baud: int | None = None,
                with_accelerator: bool = True,
                progress: Callable[[str], None] = print) -> dict:
    """Build ``board``'s bitstream for ``config`` into ``out_dir``; return the report.

    Parameters
    ----------
    board : Board
    config : AccelConfig
        The accelerator; ``soc_sram_kib`` and ``mem_addr_width`` are sized by the build.
    out_dir : path
    network : accel.nn.network.QuantizedNetwork, optional
        The network baked into the SRAM (default: the committed ``cnn`` model).
    model : str, optional
        Where ``network`` came from (a default model's name or a file), recorded in the report
        for ``accelgen board demo``; default: the network's name.
    baud : int, optional
        UART bit rate of the demo (default `boards.baud.default_baud`: 3,000,000 on the ULX3S).
    with_accelerator : bool
        False builds the SoC without the accelerator and with an empty SRAM: a check of the
        board top and the tool flow only (the demo firmware needs the accelerator).
    progress : callable
        Receives one line per step (and a line a minute during long ones).

    Returns
    -------
    dict
        The report (also in ``report.json``); ``timing_met`` says whether every clock met
        its target.

    Raises
    ------
    BoardError
        One line: the design does not fit (naming the resource), the firmware or the network
        does not build, the clock cannot make ``baud`` (checked before any work).
    boards.flow.ToolError
        One line: a tool is missing or failed.
    """
    baud = default_baud(board) if baud is None else baud
    uart_divisor(board, baud)                      # an impossible rate fails before any work
    for tool in _platform(board).required_tools:   # missing tools fail before any work
        if tool in STEP_NAMES:
            find_tool(tool)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    start = time.monotonic()
    steps: list[dict] = []

    def step(name: str, began: float) -> None:
        seconds = time.monotonic() - began
        steps.append({"step": name, "seconds": round(seconds, 1)})
        progress(f"[{time.monotonic() - start:7.1f} s] {name} done in {seconds:.1f} s")

    began = time.monotonic()
    if with_accelerator:
        progress(f"[{0.0:7.1f} s] image: firmware and network for a {config.rows}x{config.cols} "
                 f"array ...")
        from boards.image import plan_board_image

        if network is None:
            from accel.nn.model_file import load_default

            network = load_default("cnn")
        planned = plan_board_image(config, network, out / "firmware",
                                   max_sram_kib=board.max_sram_kib,
                                   where=f"the {board.title}")
        config, image = planned.config, planned.image
        memory = {"firmware_bytes": planned.firmware_bytes,
                  "network_bytes": len(image) - planned.layout.free_start,
                  "image_bytes": len(image), "network": network.name,
                  "model": model or network.name,
                  "commands": planned.layout.compiled.commands,
                  "images_addr": planned.layout.images_addr}
        step("image", began)
    else:
        from boards.image import sized_config

        config, image = sized_config(config, 4), b""
        memory = {"firmware_bytes": 0, "network_bytes": 0, "image_bytes": 0, "network": None,
                  "model": None, "commands": 0, "images_addr": None}
    (out / "sram.bin").write_bytes(image)

    began = time.monotonic()
    progress(f"[{time.monotonic() - start:7.1f} s] elaborate: {board.title} top ...")
    gateware = out / "gateware"
    try:
        multipliers = elaborate(board, config, image, gateware, baud=baud,
                                with_accelerator=with_accelerator)
    except ValueError as exc:
        raise BoardError(f"cannot elaborate the {board.title} top: {exc}") from None
    progress(f"[{time.monotonic() - start:7.1f} s]   multipliers: {multipliers.summary()}")
    step("elaborate", began)

    what = (f"the SoC with a {config.rows}x{config.cols} array" if with_accelerator
            else "the SoC without the accelerator")

    def after(record: dict) -> None:
        if record["step"] == "synthesis":
            cells = yosys_stat_cells((gateware / f"{_NAME}.rpt").read_text(errors="replace"))
            check_fits(board, cells, what)

    tools, abc9_failed = _run_tools(board, gateware, progress, start, after)
    if abc9_failed is not None:
        steps.append({"step": "synthesis with abc9 (failed)", "seconds": round(abc9_failed, 1)})
    steps += [{"step": t["step"], "seconds": t["seconds"]} for t in tools]

    shutil.copyfile(gateware / f"{_NAME}.{_bitstream_suffix(board)}", out / bitstream_name(board))
    figures = place_and_route_figures(board, gateware / "report.json")
    report = {
        "board": board.name,
        "title": board.title,
        "family": board.family,
        "config": config.to_dict(),
        "with_accelerator": with_accelerator,
        "clock": {"oscillator_mhz": board.clock_hz / 1e6, "target_mhz": board.sys_hz / 1e6,
                  "pll": board.uses_pll},
        **figures,
        "timing_met": all(c["met"] for c in figures["clocks"].values()),
        "multipliers": multipliers.summary(),
        "lut_mapper": "synth default" if abc9_failed is None else "abc -lut 4 (abc9 failed)",
        "memory": memory,
        "uart": {"baud": baud, "divisor": uart_divisor(board, baud)},
        "bitstream": bitstream_name(board),
        "tools": {t["tool"]: {"path": t["path"], "source": t["source"]} for t in tools},
        "steps": steps,
        "build_seconds": round(time.monotonic() - start, 1),
    }
    (out / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    (out / "report.txt").write_text(render_table(report))
    return report
