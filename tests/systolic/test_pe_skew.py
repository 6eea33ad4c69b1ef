"""PE and skew components against cycle-level Python models (Amaranth simulator)."""

from __future__ import annotations

import random

import pytest
from amaranth.hdl import signed

from accel.systolic import (OutputStationaryPE, Skew, WeightStationaryPE, deskew_delays,
                            skew_delays)
from tests.systolic.systolic_ref import wrap
from tests.systolic.systolic_tb import run


def test_ws_pe_cycle_model():
    rng = random.Random(1)
    dut = WeightStationaryPE(input_width=8, acc_width=12)

    async def tb(ctx):
        a_out = sw_out = psum_out = w_out = weight = 0
        for _ in range(300):
            a_in, sw_in = rng.randint(-128, 127), rng.random() < 0.2
            psum_in, w_in = rng.randint(-2048, 2047), rng.randint(-128, 127)
            w_shift = rng.random() < 0.5
            for sig, val in ((dut.a_in, a_in), (dut.sw_in, sw_in), (dut.psum_in, psum_in),
                             (dut.w_in, w_in), (dut.w_shift, w_shift)):
                ctx.set(sig, val)
            await ctx.tick()
            psum_out = int(wrap(psum_in + a_out * weight, 12))
            weight = w_out if sw_in else weight
            w_out = w_in if w_shift else w_out
            a_out, sw_out = a_in, int(sw_in)
            assert (ctx.get(dut.a_out), ctx.get(dut.sw_out), ctx.get(dut.psum_out),
                    ctx.get(dut.w_out)) == (a_out, sw_out, psum_out, w_out)

    run(dut, tb)


def test_os_pe_cycle_model():
    rng = random.Random(2)
    dut = OutputStationaryPE(input_width=8, acc_width=16)

    async def tb(ctx):
        a_out = b_out = last_out = result = valid = 0
        for _ in range(300):
            a_in, b_in, last_in = rng.randint(-128, 127), rng.randint(-128, 127), rng.random() < 0.2
            for sig, val in ((dut.a_in, a_in), (dut.b_in, b_in), (dut.last_in, last_in)):
                ctx.set(sig, val)
            await ctx.tick()
            result = int(wrap((0 if valid else result) + a_out * b_out, 16))
            valid = last_out
            a_out, b_out, last_out = a_in, b_in, int(last_in)
            assert (ctx.get(dut.a_out), ctx.get(dut.b_out), ctx.get(dut.last_out),
                    ctx.get(dut.result), ctx.get(dut.result_valid)) == \
                (a_out, b_out, last_out, result, valid)

    run(dut, tb)


@pytest.mark.parametrize("delays", [skew_delays(2), skew_delays(4), deskew_delays(5, extra=1),
                                    (3, 0, 2)])
def test_skew_delays(delays):
    rng = random.Random(len(delays))
    dut = Skew(shape=signed(6), delays=delays)

    async def tb(ctx):
        history = []
        for _ in range(40):
            values = [rng.randint(-32, 31) for _ in delays]
            history.append(values)
            ctx.set(dut.i, values)
            # Combinational view of the current cycle: lane k shows the input of k cycles ago.
            for lane, delay in enumerate(delays):
                want = history[-1 - delay][lane] if delay < len(history) else 0
                assert ctx.get(dut.o[lane]) == want
            await ctx.tick()

    run(dut, tb)


@pytest.mark.parametrize("delays,message", [((), "at least one lane"), ((1, -1), "non-negative")])
def test_skew_bad_delays(delays, message):
    with pytest.raises(ValueError, match=message):
        Skew(shape=signed(4), delays=delays)
