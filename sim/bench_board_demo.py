"""cocotb bench of the MNIST UART demo: the SoC runs the board's ``mnist_uart`` firmware and a
compiled network from its SRAM; a UART driver sends frames, a monitor reads the answers.

Settings (environment):

``DEMO_DIVISOR``      UART clock cycles per bit (the SoC's ``uart_divisor``). Required.
``DEMO_IMAGE``        SRAM image (firmware + network), loaded into ``dut.sram.memory`` at reset.
``DEMO_FRAMES``       file of frames to send: each a little-endian uint32 length, then the bytes.
``DEMO_BOOT_CYCLES``  cycle limit for the firmware's ready line (default 200000).
``DEMO_FRAME_CYCLES`` cycle limit for each frame's answer, counted from its first byte.
``DEMO_TRANSCRIPT``   where to write the answers, one line per frame, then ``#`` and the UART
                      transcript.

A frame is sent once the previous one was answered (as the host script does). The bench fails
when the ready line or an answer does not come in time, on a UART framing error, a trap or a bus
error of the core; the answers themselves are checked by the caller (`sim.board_demo`).
"""

import os
import re
import struct

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, First, RisingEdge, Timer

from sim.bench_soc import load_image
from sim.uart_monitor import UARTDriver, UARTMonitor

_ANSWER = r"^(digit|error) "


def _frames(path):
    data = open(path, "rb").read()
    frames, at = [], 0
    while at < len(data):
        (length,) = struct.unpack_from("<I", data, at)
        frames.append(data[at + 4:at + 4 + length])
        at += 4 + length
    return frames


async def _next_line(dut, monitor, seen, pattern, cycles, period, what):
    """Wait for a line after the first ``seen`` lines matching ``pattern``; returns it and the
    new count of lines seen."""
    regex = re.compile(pattern)
    limit = cocotb.utils.get_sim_time("ns") + cycles * period
    while True:
        for index in range(seen, len(monitor.lines)):
            if regex.search(monitor.lines[index]):
                return monitor.lines[index], index + 1
        seen = len(monitor.lines)
        now = cocotb.utils.get_sim_time("ns")
        if now >= limit:
            raise AssertionError(f"no {what} within {cycles} cycles; transcript: "
                                 f"{monitor.text[-400:]!r}")
        fired = await First(Timer(min(monitor.bit_ns * 10, limit - now), unit="ns"),
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
    monitor = UARTMonitor(dut.uart_tx, clock_period_ns=period, divisor=divisor,
                          log=dut._log).start()

    boot = int(os.environ.get("DEMO_BOOT_CYCLES", "200000"))
    ready, seen = await _next_line(dut, monitor, 0, r"^(mnist-uart ready|ERROR)", boot, period,
                                   "ready line")
    assert ready.startswith("mnist-uart ready"), f"the firmware stopped: {ready}"
    answers = []
    for index, frame in enumerate(frames):
        sender = cocotb.start_soon(driver.send(frame))
        answer, seen = await _next_line(dut, monitor, seen, _ANSWER, frame_cycles, period,
                                        f"answer to frame {index}")
        await sender
        answers.append(answer)

    with open(os.environ["DEMO_TRANSCRIPT"], "w") as handle:
        handle.write("".join(line + "\n" for line in answers) + "#\n" + monitor.text)
    assert monitor.framing_errors == 0, f"{monitor.framing_errors} UART framing errors"
    assert dut.bus_error.value == 0, "the core made an access answered with a bus error"
