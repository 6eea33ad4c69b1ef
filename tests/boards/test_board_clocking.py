"""boards.clocking: ECP5 PLL dividers and the power-on reset."""

import pytest
from amaranth.hdl import ClockDomain, Module
from amaranth.sim import Simulator

from boards.clocking import PowerOnReset, ecp5_pll_params


@pytest.mark.parametrize("f_out", [25e6, 30e6, 40e6, 50e6, 62.5e6, 75e6, 100e6])
def test_pll_dividers_are_exact_and_in_range(f_out):
    p = ecp5_pll_params(25e6, f_out)
    assert 25e6 * p.clkfb_div / p.clki_div == pytest.approx(f_out, abs=1e-3)
    assert 3.125e6 <= 25e6 / p.clki_div <= 400e6
    assert 400e6 <= p.f_vco <= 800e6


def test_pll_for_50_mhz_is_the_usual_one():
    p = ecp5_pll_params(25e6, 50e6)
    assert (p.clki_div, p.clkfb_div, p.clkop_div) == (1, 2, 12)


def test_pll_rejects_what_it_cannot_make():
    with pytest.raises(ValueError, match="no ECP5 PLL setting gives 1 MHz"):
        ecp5_pll_params(25e6, 1e6)


def test_power_on_reset_holds_sync_until_counted_and_ready():
    m = Module()
    m.domains.por = ClockDomain("por", reset_less=True)
    m.submodules.por = por = PowerOnReset(cycles=5)
    resets = []

    async def bench(ctx):
        for _ in range(12):
            await ctx.tick("por")
            resets.append(ctx.get(por.rst))
        ctx.set(por.ready, 0)
        await ctx.tick("por").repeat(3)
        resets.append(ctx.get(por.rst))
        ctx.set(por.ready, 1)
        await ctx.tick("por").repeat(2 + 5 + 1)
        resets.append(ctx.get(por.rst))

    sim = Simulator(m)
    sim.add_clock(1e-6, domain="por")
    sim.add_testbench(bench)
    sim.run()
    # Two cycles to synchronise `ready`, then five counted.
    assert resets[:12] == [1] * 6 + [0] * 6
    assert resets[12:] == [1, 0]   # ready low: reset again, until counted once more


def test_power_on_reset_needs_a_cycle():
    with pytest.raises(ValueError, match="cycles must be at least 1"):
        PowerOnReset(cycles=0)
