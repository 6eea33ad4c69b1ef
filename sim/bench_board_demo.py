"""cocotb bench of the MNIST UART demo: the SoC runs the board's ``mnist_uart`` firmware and a
compiled network from its SRAM; a UART driver sends frames, a monitor reads the answers.

Settings (environment):

``DEMO_DIVISOR``      UART clock cycles per bit (the SoC's ``uart_divisor``). Required.
``DEMO_SET_DIVISOR``  ``1``: write DEMO_DIVISOR into the UART's divisor as reset ends (the
                      Verilog was built with another rate).
``DEMO_IMAGE``        SRAM image (firmware + network), loaded into ``dut.sram.memory`` at reset.
``DEMO_FRAMES``       file of frames to send: each a little-endian uint32 length, then the bytes.
``DEMO_BOOT_CYCLES``  cycle limit for the firmware's ready line (default 200000).
``DEMO_FRAME_CYCLES`` cycle limit for each answer, counted from the previous answer.
``DEMO_WINDOW``       frames the host keeps unanswered (default 1: each frame after the previous
                      answer; the batch mode of protocol 2 allows the board's window).
``DEMO_TRANSCRIPT``   where to write the answers, one line per frame, then ``#`` and the UART
                      transcript.
``DEMO_TIMING``       where to write JSON ``{"sent": [...], "answered": [...]}``: the cycle each
                      frame's first byte went out and each answer's newline came in (from reset).

Frames go out back to back as long as fewer than ``DEMO_WINDOW`` are unanswered (as
`boards.demo.classify` does). An answer is a ``digit``, ``error`` or ``mnist-uart ready`` line
(the last answers a handshake frame). The bench fails when the ready line or an answer does not
come in time, on a UART framing error, a trap or a bus error of the core; the answers themselves
are checked by the caller (`sim.board_demo`).
"""

import json
import os
import re
import struct

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, Event, First, RisingEdge, Timer

from sim.bench_soc import load_image
from sim.uart_monitor import UARTDriver, UARTMonitor

_ANSWER = r"^(digit |error |mnist-uart ready )"


def _frames(path):
    data = open(path, "rb").read()
    frames, at = [], 0
    while at < len(data):
        (length,) = struct.unpack_from("<I", data, at)
        frames.append(data[at + 4:at + 4 + length])
        at += 4 + length
    return frames


async def _next_line(dut, monitor, seen, pattern, cycles, period, what):
    """Wait for a line after the first ``seen`` lines matching ``pattern``; returns its index
    and the new count of lines seen."""
    regex = re.compile(pattern)
    limit = cocotb.utils.get_sim_time("ns") + cycles * period
    while True:
        for index in range(seen, len(monitor.lines)):
            if regex.search(monitor.lines[index]):
                return index, index + 1
        seen = len(monitor.lines)
        now = cocotb.utils.get_sim_time("ns")
        if now >= limit:
            raise AssertionError(f"no {what} within {cycles} cycles; transcript: "
                                 f"{monitor.text[-400:]!r}")
        monitor.new_line.clear()
        fired = await First(Timer(limit - now, unit="ns"), monitor.new_line.wait(),
                            RisingEdge(dut.trap))
        if isinstance(fired, RisingEdge):
            await Timer(30 * monitor.bit_ns, unit="ns")
            raise AssertionError(f"the core trapped waiting for {what}; transcript: "
                                 f"{monitor.text[-400:]!r}")


@cocotb.test()
async def demo(dut):
    """Boot, then send every frame and collect the answers."""
    period = 10.0
    divisor = int(os.environ["DEMO_DIVISOR"])
    frames = _frames(os.environ["DEMO_FRAMES"])
    frame_cycles = int(os.environ["DEMO_FRAME_CYCLES"])

    cocotb.start_soon(Clock(dut.clk, period, unit="ns").start())
    driver = UARTDriver(dut.uart_rx, clock_period_ns=period, divisor=divisor)
    dut.rst.value = 1
    await ClockCycles(dut.clk, 1)
    load_image(dut, open(os.environ["DEMO_IMAGE"], "rb").read())
    await ClockCycles(dut.clk, 4)
    dut.rst.value = 0
    if os.environ.get("DEMO_SET_DIVISOR") == "1":
        await ClockCycles(dut.clk, 1)
        dut.uart.divisor.value = divisor
    monitor = UARTMonitor(dut.uart_tx, clock_period_ns=period, divisor=divisor,
                          log=dut._log).start()

    boot = int(os.environ.get("DEMO_BOOT_CYCLES", "200000"))
    ready, seen = await _next_line(dut, monitor, 0, r"^(mnist-uart ready|ERROR)", boot, period,
                                   "ready line")
    ready = monitor.lines[ready]
    assert ready.startswith("mnist-uart ready"), f"the firmware stopped: {ready}"
    window = int(os.environ.get("DEMO_WINDOW", "1"))
    answers, answered, sent = [], [], []
    progress = Event()

    def now_cycles():
        return round(cocotb.utils.get_sim_time("ns") / period)

    async def host():
        for index, frame in enumerate(frames):
            while index - len(answers) >= window:
                progress.clear()
                await progress.wait()
            sent.append(now_cycles())
            await driver.send(frame)

    sender = cocotb.start_soon(host())
    for index in range(len(frames)):
        line, seen = await _next_line(dut, monitor, seen, _ANSWER, frame_cycles, period,
                                      f"answer to frame {index}")
        answers.append(monitor.lines[line])
        answered.append(round(monitor.line_times[line] / period))
        progress.set()
    await sender

    with open(os.environ["DEMO_TRANSCRIPT"], "w") as handle:
        handle.write("".join(line + "\n" for line in answers) + "#\n" + monitor.text)
    if "DEMO_TIMING" in os.environ:
        with open(os.environ["DEMO_TIMING"], "w") as handle:
            json.dump({"sent": sent, "answered": answered}, handle)
    assert monitor.framing_errors == 0, f"{monitor.framing_errors} UART framing errors"
    assert dut.bus_error.value == 0, "the core made an access answered with a bus error"
