"""``accelgen board``: bitstreams for FPGA boards, programming them, and the UART MNIST demo.

The work lives in the ``boards`` package (board definitions, tops, the tool flow, reports, the
demo protocol); this module is its command line. A request the board cannot meet (unknown board,
a design too big for it) is a one-line usage error (exit 2); a tool that is missing or fails, a
board that does not answer or a build that misses timing is a one-line error with exit code 1.
"""

from __future__ import annotations

import json
from dataclasses import fields
from pathlib import Path
from typing import Any

import click

from accel.cli.options import (AliasOption, config_from_options, config_options, json_option,
                               model_option, open_model, replace_config, reported_errors,
                               write_json)
from accel.cli.paths import require_output_dir
from accel.config import AccelConfig

__all__ = ["board"]

_OUT_HELP = "Build directory (default: build/board-<board>)."


def _build_dir_option(required: bool, help: str):
    """``--build-dir``: the directory of an earlier ``board build`` (passed as ``out``)."""
    return click.option("--build-dir", "out", cls=AliasOption, aliases=("--out",),
                        type=click.Path(file_okay=False, path_type=Path), required=required,
                        default=None, help=help)


def _board(name: str):
    from boards import BoardError, get_board

    try:
        return get_board(name)
    except BoardError as exc:
        raise click.UsageError(str(exc)) from None


def _board_option(command):
    from boards import BOARDS

    return click.option("--board", "board_name", required=True, metavar="NAME",
                        help=f"One of: {', '.join(BOARDS)}.")(command)


def _out_dir(out: Path | None, board) -> Path:
    return out if out is not None else Path("build") / f"board-{board.name}"


def _board_config(board, options: dict[str, Any]) -> AccelConfig:
    """The board's default configuration with the given flags, or --preset/--config with them."""
    if options["preset_name"] is not None or options["config_file"] is not None:
        return config_from_options(options)
    names = {f.name for f in fields(AccelConfig)}
    changes = {k: options.pop(k) for k in list(options) if k in names}
    options.pop("preset_name"), options.pop("config_file")
    return replace_config(board.default_config,
                          {k: v for k, v in changes.items() if v is not None})


@click.group()
def board() -> None:
    """FPGA boards: build the MNIST demo's bitstream, program it, talk to it over the UART."""


@board.command("list")
def list_command() -> None:
    """The supported boards, their devices, clocks and default arrays."""
    from boards import BOARDS

    for b in BOARDS.values():
        c = b.default_config
        logic, dsp, bram = b.capacity.logic, b.capacity.dsp, b.capacity.bram
        clock = f"{b.sys_hz / 1e6:g} MHz" + (" (PLL)" if b.uses_pll else "")
        click.echo(f"{b.name:<12} {b.title}: {logic[1]:,} LUT4, {dsp[1]} {dsp[0]}, "
                   f"{bram[1]} {bram[0]}; {clock}; default array {c.rows}x{c.cols}")
        if b.notes:
            click.echo(f"{'':<13}{b.notes}")


@board.command("build")
@_board_option
@config_options
@model_option("cnn", "The network baked into the bitstream.")
@click.option("--baud", type=click.IntRange(1200, 3_000_000), default=None,
              help="UART bit rate (default: the fastest standard rate the board clock divides "
                   "well, 3000000 on the ULX3S at 15 MHz; 115200 suits any terminal).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help=_OUT_HELP)
@json_option("the report (resources, clocks, timing)")
def build_command(board_name: str, model: str, baud: int | None, out: Path | None,
                  json_path: Path | None, **options: Any) -> None:
    """Build the MNIST demo bitstream for a board, with a report of resources and Fmax.

    The array is the board's default (see `accelgen board list`) unless --rows/--cols/...,
    --preset or --config say otherwise; the SoC's SRAM is sized to the firmware and network.
    Uses the YoWASP tools from PyPI (pip install 'accelgen[fpga]') unless system tools are on
    PATH or named by YOSYS, NEXTPNR_ECP5, ECPPACK, NEXTPNR_ICE40, ICEPACK. Writes the
    bitstream, report.json and report.txt into OUT.
    """
    from boards import BoardError
    from boards.build import build_board
    from boards.flow import ToolError
    from boards.report import render_table

    target = _board(board_name)
    config = _board_config(target, options)
    network = open_model(model)
    source = str(Path(model).resolve()) if Path(model).exists() else model
    out = _out_dir(out, target)
    require_output_dir(out, "--out")
    with reported_errors(out, usage=(BoardError,), failure=(ToolError,)):
        report = build_board(target, config, out, network=network, model=source,
                             baud=baud, progress=click.echo)
    click.echo(render_table(report), nl=False)
    click.echo(f"bitstream: {out / report['bitstream']}")
    if json_path is not None:
        write_json(json_path, report)
    if not report["timing_met"]:
        failing = [f"{name} {c['achieved_mhz']:.2f} of {c['target_mhz']:.2f} MHz"
                   for name, c in report["clocks"].items() if not c["met"]]
        raise click.ClickException(f"timing not met ({'; '.join(failing)}): the bitstream may "
                                   "not work")


def _report(out: Path) -> dict:
    path = out / "report.json"
    try:
        return json.loads(path.read_text())
    except OSError:
        raise click.UsageError(f"no build in {str(out)!r} (no report.json): run "
                               "accelgen board build first") from None
    except json.JSONDecodeError as exc:
        raise click.UsageError(f"{path} is not valid JSON: {exc.msg}") from None
    except UnicodeDecodeError:
        raise click.UsageError(f"{path} is not UTF-8 text: not a board build report") from None


@board.command("program")
@_board_option
@_build_dir_option(False, "The board build to program (default: build/board-<board>).")
@click.option("--flash", is_flag=True,
              help="ULX3S: write the SPI flash (kept at power-off) instead of the FPGA's "
                   "configuration SRAM. iCEBreaker: iceprog always writes the flash.")
def program_command(board_name: str, out: Path | None, flash: bool) -> None:
    """Write the built bitstream to an attached board (openFPGALoader or iceprog)."""
    from boards import BoardError
    from boards.program import program_board

    target = _board(board_name)
    out = _out_dir(out, target)
    report = _report(out)
    if report.get("board") != target.name:
        raise click.UsageError(f"{str(out)!r} holds a build for {report.get('board')!r}, "
                               f"not {target.name!r}")
    try:
        last = program_board(target, out / report["bitstream"], flash=flash)
    except BoardError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"programmed the {target.title}: {last}")


@board.command("demo")
@click.option("--port", required=True, metavar="DEVICE",
              help="The board's serial port (e.g. /dev/ttyUSB0).")
@_build_dir_option(True, "The build directory of the bitstream on the board (for its "
                         "network, clock and baud rate).")
@model_option(None, "The network in the bitstream, if not the one its build recorded.")
@click.option("--images", type=click.IntRange(1, 1000), default=20, show_default=True,
              help="How many MNIST images to classify: the 1,000 offline samples the default "
                   "models were not trained on (mnist extra).")
@click.option("--timeout", type=click.FloatRange(0.1, 600), default=10.0, show_default=True,
              help="Seconds to wait for each answer.")
@click.option("--batch/--one-at-a-time", default=True, show_default=True,
              help="Stream frames, as many unanswered as the board's handshake allows, or send "
                   "each after the previous answer.")
@json_option("each answer and the totals")
def demo_command(port: str, out: Path, model: str | None, images: int, timeout: float,
                 batch: bool, json_path: Path | None) -> None:
    """Classify MNIST images on the board over its UART; check them against the reference."""
    import time

    import numpy as np

    from boards import BoardError
    from boards.demo import classify, handshake, open_port

    from accel.nn.mnist.data import DatasetError
    from accel.nn.network import reference
    from accel.nn.mnist.recipe import load_dataset

    report = _report(out)
    network = open_model(model or report["memory"].get("model") or "cnn")
    try:
        serial_port = open_port(port, report["uart"]["baud"], timeout)
    except BoardError as exc:
        raise click.ClickException(str(exc)) from None
    try:
        dataset = load_dataset()
    except DatasetError as exc:
        serial_port.close()
        raise click.ClickException(str(exc)) from None
    pixels, labels = dataset.eval_images[:images], dataset.eval_labels[:images]
    clock_hz = report["clock"]["target_mhz"] * 1e6
    agree = correct = 0
    cycles = []
    answers = []

    def show(index: int, result) -> None:
        nonlocal agree, correct
        answer = result.answer
        entry = {"image": index, "label": int(labels[index]), "seconds": result.seconds}
        answers.append(entry)
        if answer.error is not None:
            entry["error"] = str(answer.error)
            click.echo(f"image {index:4d}: label {labels[index]}  board error: {answer.error}")
            return
        want = reference(network, pixels[index])
        same = np.array_equal(answer.logits, want)
        entry.update(digit=int(answer.digit), cycles=int(answer.cycles), matches=bool(same))
        agree += same
        correct += answer.digit == labels[index]
        cycles.append(answer.cycles)
        click.echo(f"image {index:4d}: label {labels[index]}  board {answer.digit}  "
                   f"{'matches' if same else 'DIFFERS FROM'} the reference  "
                   f"{answer.cycles:,} cycles ({1e3 * answer.cycles / clock_hz:.2f} ms)  "
                   f"{1e3 * result.seconds:.0f} ms round trip")

    try:
        with serial_port:
            window = handshake(serial_port, timeout=timeout).window if batch else 1
            began = time.monotonic()
            classify(serial_port, pixels, timeout=timeout, window=window, on_result=show)
            seconds = time.monotonic() - began
    except BoardError as exc:
        raise click.ClickException(str(exc)) from None
    if cycles:
        mean = sum(cycles) / len(cycles)
        click.echo(f"{correct}/{images} correct, {agree}/{images} equal to the reference; "
                   f"{mean:,.0f} cycles per inference = {clock_hz / mean:,.1f} inferences/s "
                   f"at {clock_hz / 1e6:g} MHz")
    click.echo(f"{images / seconds:,.1f} images/s end to end over the link "
               f"({report['uart']['baud']:,} baud, {window} frame(s) in flight)")
    if json_path is not None:
        write_json(json_path, {
            "board": report.get("board"), "network": network.name, "images": images,
            "window": window, "images_per_second": images / seconds,
            "correct": int(correct), "agree": int(agree), "clock_hz": clock_hz,
            "mean_cycles": sum(cycles) / len(cycles) if cycles else None, "answers": answers})
    if agree != images:
        raise click.ClickException(f"{images - agree} of {images} answers differ from the "
                                   "reference")
