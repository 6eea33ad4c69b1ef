"""`sim.uart_monitor` (cocotbext-uart underneath) on a loopback wire in Icarus."""

import pytest
from amaranth.hdl import Module
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from sim import runner

pytestmark = pytest.mark.rtl


class Loopback(wiring.Component):
    """``tx`` follows ``rx``; ``rx_q`` is ``rx`` a cycle later (so the design has a clock)."""

    rx: In(1, init=1)
    tx: Out(1)
    rx_q: Out(1, init=1)

    def elaborate(self, platform):
        m = Module()
        m.d.comb += self.tx.eq(self.rx)
        m.d.sync += self.rx_q.eq(self.rx)
        return m


def test_lines_end_pattern_and_framing_errors():
    source = runner.emit_cached("uart-loopback", Loopback, name="loopback")
    runner.run_cocotb(sources=[source], toplevel="loopback",
                      test_module="tests.sim.uart_loopback_bench", build_key="uart-loopback",
                      simulator="icarus")
