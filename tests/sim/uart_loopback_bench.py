"""cocotb bench of `sim.uart_monitor` on a wire (``tx = rx``): the driver's frames come back as
bytes and lines, the end pattern fires, and a frame with a low stop bit counts as a framing
error (see ``tests/sim/test_uart_monitor.py``)."""

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import Timer

from sim.uart_monitor import UARTDriver, UARTMonitor

PERIOD_NS = 10
DIVISOR = 7          # 70 ns per bit: not a power of two, so the bit timing is exercised


@cocotb.test()
async def loopback(dut):
    cocotb.start_soon(Clock(dut.clk, PERIOD_NS, unit="ns").start())
    driver = UARTDriver(dut.rx, clock_period_ns=PERIOD_NS, divisor=DIVISOR)
    await Timer(20 * PERIOD_NS * DIVISOR, unit="ns")
    monitor = UARTMonitor(dut.tx, clock_period_ns=PERIOD_NS, divisor=DIVISOR, end=r"^done$",
                          log=dut._log).start()
    text = bytes(range(256)).replace(b"\n", b"") + b"\r\nsecond line\ndone\n"
    await driver.send(text)
    await Timer(2 * 10 * PERIOD_NS * DIVISOR, unit="ns")
    assert monitor.ended.is_set()
    assert bytes(monitor.data) == text
    assert monitor.lines == [bytes(range(256)).replace(b"\n", b"").decode("latin-1"),
                             "second line", "done"]
    assert monitor.framing_errors == 0

    # 0x55 with its stop bit low (then idle): one framing error, the byte still delivered.
    bit_ns = PERIOD_NS * DIVISOR
    for bit in [0] + [0x55 >> i & 1 for i in range(8)] + [0]:
        dut.rx.value = bit
        await Timer(bit_ns, unit="ns")
    dut.rx.value = 1
    await Timer(20 * bit_ns, unit="ns")
    assert monitor.framing_errors == 1
    assert monitor.data[-1] == 0x55
