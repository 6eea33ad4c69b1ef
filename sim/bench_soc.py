"""cocotb bench for the SoC: reset, run the firmware baked into SRAM, watch the UART.

The run ends when the UART prints a line matching ``SOC_END``, the core traps, or
``SOC_MAX_CYCLES`` clock cycles pass; then the expectations are checked. Settings come from the
simulation environment:

``SOC_DIVISOR``       UART clock cycles per bit (the SoC's ``uart_divisor``). Required.
``SOC_CLK_NS``        clock period in ns (default 10).
``SOC_MAX_CYCLES``    cycle limit (default 2000000); reaching it fails the test.
``SOC_END``           regex ending the run on a matching line (default ``PASS|FAIL|ERROR``).
``SOC_EXPECT``        regex (multiline) that must match the transcript (optional).
``SOC_REJECT``        regex (multiline) that must not match the transcript (optional).
``SOC_EXPECT_LEDS``   value the ``leds`` output must hold at the end (optional).
``SOC_EXPECT_TRAP``   ``1`` if the run is expected to end in a trap (default: a trap fails).
``SOC_EXPECT_BUS_ERROR`` ``1`` if the core is expected to have made an unmapped access (default:
                      the sticky ``bus_error`` output fails the test).
``SOC_TIMELINE``      file (``.npz``) to write the accelerator's busy intervals to (optional):
                      ``rows`` as `sim.busy_monitor.BusyMonitor.rows` gives them, in cycles from
                      the end of reset; ``issue`` is the core in an accelerator instruction
                      (PicoRV32's ``pcpi_wait``); ``missing`` names lanes the design lacks.
``SOC_UART_INPUT``    text sent to ``uart_rx`` after reset (optional; ``\\n`` escapes allowed).
``SOC_UART_INPUT_AFTER`` regex: send ``SOC_UART_INPUT`` only once a line matching it was printed
                      (the UART holds one received byte; firmware that is busy printing loses
                      input).
``SOC_IMAGE``         a flat binary loaded into the SRAM (``dut.sram.memory``) during reset,
                      replacing the image baked into the Verilog (the rest of the SRAM is zeroed):
                      one simulator build then serves every program (optional).
``SOC_TRANSCRIPT``    file to write the UART transcript to (optional).
``SOC_EXPECT_SRAM_BUS_IDLE`` ``1``: the SRAM's Wishbone port (the accelerator DMA's) must never
                      see a bus cycle: the core's fetches, loads and stores take its own port.
"""

import json
import os
import re

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, First, RisingEdge, Timer

from sim.busy_monitor import LANES, BusyMonitor, find_handle
from sim.uart_monitor import UARTDriver, UARTMonitor


def _env_int(name, default=None):
    value = os.environ.get(name)
    if value is None or value == "":
        if default is None:
            raise AssertionError(f"the bench needs the environment variable {name}")
        return default
    return int(value, 0)


def load_image(dut, image: bytes):
    """Write ``image`` (little-endian words from address 0) into the SoC's SRAM through the
    simulator's access to ``dut.sram.memory`` (words of the SRAM's width: the SoC's bus width),
    and zero the rest of it."""
    memory = dut.sram.memory
    depth = len(memory)
    word_bytes = len(memory[0].value) // 8
    if len(image) > word_bytes * depth:
        raise AssertionError(f"image of {len(image)} bytes does not fit {word_bytes * depth} "
                             f"bytes of SRAM")
    image = image + bytes(-len(image) % word_bytes)
    words = [int.from_bytes(image[i:i + word_bytes], "little")
             for i in range(0, len(image), word_bytes)]
    words += [0] * (depth - len(words))
    for index, word in enumerate(words):
        memory[index].value = word


@cocotb.test()
async def run_firmware(dut):
    """Run the firmware until its final UART line (or a trap or the cycle limit)."""
    period = float(os.environ.get("SOC_CLK_NS", "10"))
    divisor = _env_int("SOC_DIVISOR")
    max_cycles = _env_int("SOC_MAX_CYCLES", 2_000_000)
    end = os.environ.get("SOC_END", r"PASS|FAIL|ERROR")
    expect_trap = os.environ.get("SOC_EXPECT_TRAP") == "1"

    cocotb.start_soon(Clock(dut.clk, period, unit="ns").start())
    driver = UARTDriver(dut.uart_rx, clock_period_ns=period, divisor=divisor)
    dut.rst.value = 1
    await ClockCycles(dut.clk, 1)
    if os.environ.get("SOC_IMAGE"):
        load_image(dut, open(os.environ["SOC_IMAGE"], "rb").read())
    await ClockCycles(dut.clk, 4)
    dut.rst.value = 0
    monitor = UARTMonitor(dut.uart_tx, clock_period_ns=period, divisor=divisor, end=end,
                          log=dut._log).start()
    start = cocotb.utils.get_sim_time("ns")
    busy = missing = None
    if os.environ.get("SOC_TIMELINE"):
        busy = BusyMonitor(period)
        accel = find_handle(dut, "accelerator")
        missing = (list(LANES) if accel is None
                   else busy.watch_accelerator(accel, [find_handle(dut, "pcpi_wait")]))
    if os.environ.get("SOC_UART_INPUT"):
        text = os.environ["SOC_UART_INPUT"].encode().decode("unicode_escape").encode("latin-1")
        after = os.environ.get("SOC_UART_INPUT_AFTER")

        async def send():
            if after:
                await monitor.wait_line(after)
            await driver.send(text)

        cocotb.start_soon(send())

    sram_bus_cycles = [0]
    if os.environ.get("SOC_EXPECT_SRAM_BUS_IDLE") == "1":
        async def watch_sram_bus():
            while True:
                await RisingEdge(dut.clk)
                sram_bus_cycles[0] += int(dut.sram.bus__cyc.value)

        cocotb.start_soon(watch_sram_bus())

    limit = Timer(max_cycles * period, unit="ns")
    trap = RisingEdge(dut.trap)
    fired = await First(monitor.ended.wait(), limit, trap)
    cycles = int((cocotb.utils.get_sim_time("ns") - start) / period)
    if fired is trap:
        await Timer(30 * divisor * period, unit="ns")          # let the UART drain
    transcript = monitor.text
    if busy is not None:
        first = int(round(start / period))
        np.savez(os.environ["SOC_TIMELINE"], rows=busy.rows(first, first + cycles),
                 missing=np.array(json.dumps(missing)))
    dut._log.info("ran %d cycles; transcript:\n%s", cycles, transcript)
    if os.environ.get("SOC_TRANSCRIPT"):
        with open(os.environ["SOC_TRANSCRIPT"], "w") as handle:
            handle.write(f"# cycles {cycles}\n{transcript}")

    assert monitor.framing_errors == 0, f"{monitor.framing_errors} UART framing errors"
    if fired is limit:
        raise AssertionError(f"no line matching {end!r} within {max_cycles} cycles; "
                             f"transcript: {transcript!r}")
    if fired is trap and not expect_trap:
        raise AssertionError(f"the core trapped after {cycles} cycles; "
                             f"transcript: {transcript!r}")
    if expect_trap and fired is not trap:
        raise AssertionError("the core was expected to trap")
    if os.environ.get("SOC_EXPECT"):
        assert re.search(os.environ["SOC_EXPECT"], transcript, re.M), \
            f"transcript does not match {os.environ['SOC_EXPECT']!r}: {transcript!r}"
    if os.environ.get("SOC_REJECT"):
        found = re.search(os.environ["SOC_REJECT"], transcript, re.M)
        assert not found, f"transcript matches {os.environ['SOC_REJECT']!r}: {found.group(0)!r}"
    if os.environ.get("SOC_EXPECT_LEDS"):
        leds = dut.leds.value.to_unsigned()
        assert leds == _env_int("SOC_EXPECT_LEDS"), f"leds = {leds:#04x}"
    assert sram_bus_cycles[0] == 0, \
        f"the SRAM's Wishbone port saw {sram_bus_cycles[0]} cycles of bus activity"
    expect_bus_error = os.environ.get("SOC_EXPECT_BUS_ERROR") == "1"
    assert dut.bus_error.value == int(expect_bus_error), \
        ("the core made an access answered with a bus error" if not expect_bus_error
         else "the core made no access answered with a bus error")
