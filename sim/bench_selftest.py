"""cocotb bench proving the runner glue: a counter and an adder (see ``tests/sim/test_runner.py``).

The design under test has ports ``clk``, ``rst``, ``en`` (1 bit), ``count`` (8-bit counter that
increments while ``en``), ``a``, ``b`` (8 bits) and ``sum = a + b`` (9 bits).

``test_must_fail`` fails on purpose; it is skipped unless ``SELFTEST_EXPECT_FAIL=1`` is set in the
simulation environment, so a test can check that failures are reported.
"""

import os
import random

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge, RisingEdge, Timer


@cocotb.test()
async def test_adder(dut):
    """``sum`` equals ``a + b`` for seeded random and corner operands."""
    rng = random.Random(1234)
    cases = [(0, 0), (255, 255), (255, 1), (1, 0)]
    cases += [(rng.randrange(256), rng.randrange(256)) for _ in range(50)]
    for a, b in cases:
        dut.a.value = a
        dut.b.value = b
        await Timer(1, unit="ns")
        assert dut.sum.value.to_unsigned() == a + b, f"{a} + {b}"


@cocotb.test()
async def test_counter(dut):
    """``count`` resets to 0, holds while ``en`` is low and counts (wrapping) while it is high."""
    cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
    dut.en.value = 0
    dut.rst.value = 1
    for _ in range(2):
        await RisingEdge(dut.clk)
    dut.rst.value = 0
    await FallingEdge(dut.clk)
    assert dut.count.value.to_unsigned() == 0
    rng = random.Random(99)
    expected = 0
    for _ in range(300):
        enable = rng.random() < 0.9
        dut.en.value = int(enable)
        await FallingEdge(dut.clk)
        expected = (expected + enable) % 256
        assert dut.count.value.to_unsigned() == expected


@cocotb.test(skip=os.environ.get("SELFTEST_EXPECT_FAIL") != "1")
async def test_must_fail(dut):
    """Fails on purpose (only when ``SELFTEST_EXPECT_FAIL=1``)."""
    dut.a.value = 2
    dut.b.value = 2
    await Timer(1, unit="ns")
    assert dut.sum.value.to_unsigned() == 5, "2 + 2 is not 5 (intended failure)"
