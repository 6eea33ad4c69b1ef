"""ActivationUnit against :func:`accel.golden.arith.activate`, under random stream timing."""

from __future__ import annotations

import random

import numpy as np
import pytest
from amaranth.back import verilog
from amaranth.sim import Simulator

from accel.control.activation import ActivationUnit
from accel.golden.arith import activate

MAX_MULT = (1 << 31) - 1


def _param(rng: random.Random, *, multiplier=None, shift=None, relu=None, zero_point=None):
    return {
        "multiplier": rng.choice([0, 1, MAX_MULT, rng.randrange(1 << 31),
                                  rng.randrange(1 << 16)]) if multiplier is None else multiplier,
        "shift": rng.randrange(64) if shift is None else shift,
        "relu": rng.randrange(2) if relu is None else relu,
        "zero_point": rng.choice([0, rng.randrange(-(1 << 15), 1 << 15), -(1 << 15),
                                  (1 << 15) - 1]) if zero_point is None else zero_point,
    }


def _max_tie_shift(acc_width: int) -> int:
    """The largest shift at which a tie ``x * multiplier == k * 2**shift + 2**(shift-1)`` exists
    (``x`` an odd multiple of ``2**(acc_width-1)``, at most, times ``2**30``)."""
    return min(63, acc_width + 30)


def _tie(rng: random.Random, acc_width: int, shift: int, m: int | None = None) -> tuple[int, int]:
    """An ``(x, 2**m)`` whose product is ``k * 2**shift + 2**(shift-1)`` (an exact tie)."""
    # x * 2**m has its lowest set bit at shift - 1 when x = odd << (shift - 1 - m).
    if m is None:
        m = rng.randint(max(0, shift - acc_width), min(30, shift - 1))
    low = shift - 1 - m
    half, hi = 1 << (acc_width - 1), (1 << (acc_width - 1)) - 1
    k = rng.randrange(-(half >> low) // 2, ((hi >> low) - 1) // 2 + 1)
    return (2 * k + 1) << low, 1 << m


def _beats(rng: random.Random, lanes: int, acc_width: int, count: int) -> list:
    """Random ``(params, vector)`` beats with the hard cases mixed in."""
    lo, hi = -(1 << (acc_width - 1)), (1 << (acc_width - 1)) - 1
    beats = []
    for index in range(count):
        kind = rng.choice(["random", "random", "tie", "extreme", "saturate", "shift_edge"])
        if kind == "tie":
            shift = rng.randint(1, _max_tie_shift(acc_width))
            x, mult = _tie(rng, acc_width, shift)
            m = mult.bit_length() - 1
            xs = [x] + [_tie(rng, acc_width, shift, m)[0] for _ in range(lanes - 1)]
            params = _param(rng, multiplier=mult, shift=shift)
        elif kind == "extreme":
            xs = [rng.choice([lo, hi, lo + 1, -1, 0, 1]) for _ in range(lanes)]
            params = _param(rng, multiplier=MAX_MULT, shift=rng.choice([0, 1, 31, 62, 63,
                                                                       rng.randrange(64)]))
        elif kind == "saturate":
            xs = [rng.randint(max(lo, -300), min(hi, 300)) for _ in range(lanes)]
            params = _param(rng, multiplier=1, shift=rng.choice([0, 1, 2]),
                            zero_point=rng.choice([-(1 << 15), (1 << 15) - 1, -200, 200]))
        elif kind == "shift_edge":
            xs = [rng.randint(lo, hi) for _ in range(lanes)]
            params = _param(rng, shift=rng.choice([0, 63]))
        else:
            xs = [rng.choice([rng.randint(lo, hi), rng.randint(max(lo, -1000), min(hi, 1000))])
                  for _ in range(lanes)]
            params = _param(rng)
        beats.append((params, xs))
    # A directed sweep of every shift, with ties at each one, guarantees 0..63 are all hit.
    for shift in range(64):
        xs = [rng.randint(lo, hi) for _ in range(lanes)]
        mult = rng.randrange(1 << 31)
        if 0 < shift <= _max_tie_shift(acc_width):
            x, mult = _tie(rng, acc_width, shift)
            xs[0] = x
            xs[-1] = -x if -x <= hi else x
        beats.append((_param(rng, multiplier=mult, shift=shift), xs))
    return beats


def _expected(beats, acc_width: int, out_width: int) -> list[list[int]]:
    return [activate(np.array(xs, dtype=np.int64), multiplier=p["multiplier"], shift=p["shift"],
                     relu=bool(p["relu"]), zero_point=p["zero_point"], acc_width=acc_width,
                     out_width=out_width).tolist()
            for p, xs in beats]


def _run(lanes: int, acc_width: int, out_width: int, beats, *, seed: int,
         in_gaps: float, out_stalls: float) -> tuple[list, int]:
    dut = ActivationUnit(lanes=lanes, acc_width=acc_width, out_width=out_width)
    rng = random.Random(seed)
    got = []
    cycles = 0

    async def producer(ctx):
        for params, xs in beats:
            while rng.random() < in_gaps:
                await ctx.tick()
            ctx.set(dut.params, params)
            ctx.set(dut.i.payload, xs)
            ctx.set(dut.i.valid, 1)
            await ctx.tick().until(dut.i.ready)
            ctx.set(dut.i.valid, 0)
            # Garbage between beats: the unit must have sampled params with the vector.
            ctx.set(dut.params, _param(rng))

    async def consumer(ctx):
        nonlocal cycles
        held = None
        while len(got) < len(beats):
            ready = int(rng.random() >= out_stalls)
            ctx.set(dut.o.ready, ready)
            _, _, valid, payload = await ctx.tick().sample(dut.o.valid, dut.o.payload)
            payload = [int(v) for v in payload]
            cycles += 1
            if held is not None:
                assert valid, "o.valid dropped before the transfer"
                assert payload == held, "o.payload changed while stalled"
            held = None
            if valid and ready:
                got.append(payload)
            elif valid:
                held = payload
            assert cycles < 20 * len(beats) + 100, "pipeline hung"

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(producer)
    sim.add_testbench(consumer)
    sim.run()
    return got, cycles


@pytest.mark.slow
@pytest.mark.parametrize("lanes, acc_width, out_width", [
    (1, 32, 8),
    (3, 48, 16),
    (5, 32, 16),
    (2, 64, 8),
    (4, 4, 2),
    (7, 48, 8),
])
def test_matches_golden_under_random_timing(lanes, acc_width, out_width):
    rng = random.Random(1000 * lanes + acc_width + out_width)
    beats = _beats(rng, lanes, acc_width, 400)
    got, _ = _run(lanes, acc_width, out_width, beats, seed=rng.randrange(1 << 30),
                  in_gaps=0.3, out_stalls=0.3)
    expected = _expected(beats, acc_width, out_width)
    for index, (g, e, (params, xs)) in enumerate(zip(got, expected, beats)):
        assert g == e, f"beat {index}: x={xs} params={params}: got {g}, expected {e}"
    assert len(got) == len(beats)


def test_full_throughput_and_latency():
    """Without gaps or stalls one vector leaves per cycle, LATENCY cycles after acceptance."""
    rng = random.Random(7)
    beats = _beats(rng, 2, 32, 40)
    dut = ActivationUnit(lanes=2, acc_width=32, out_width=8)
    accepted, emitted = [], []

    async def bench(ctx):
        ctx.set(dut.o.ready, 1)
        ctx.set(dut.i.valid, 1)
        cycle = 0
        index = 0
        while len(emitted) < len(beats):
            if index < len(beats):
                ctx.set(dut.params, beats[index][0])
                ctx.set(dut.i.payload, beats[index][1])
            else:
                ctx.set(dut.i.valid, 0)
            _, _, i_ready, o_valid, payload = await ctx.tick().sample(
                dut.i.ready, dut.o.valid, dut.o.payload)
            if index < len(beats):
                assert i_ready, "i.ready low with a free-flowing output"
                accepted.append(cycle)
                index += 1
            if o_valid:
                emitted.append((cycle, [int(v) for v in payload]))
            cycle += 1

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()
    assert [p for _, p in emitted] == _expected(beats, 32, 8)
    # Accepted on edge a, registered on edges a..a+3, sampled valid on edge a + LATENCY.
    assert [e - a for (e, _), a in zip(emitted, accepted)] == [ActivationUnit.LATENCY] * len(beats)


def test_valid_does_not_depend_on_ready():
    dut = ActivationUnit(lanes=1, acc_width=16, out_width=8)

    async def bench(ctx):
        ctx.set(dut.params, {"multiplier": 1, "shift": 0, "relu": 0, "zero_point": 0})
        ctx.set(dut.i.payload, [5])
        ctx.set(dut.i.valid, 1)
        ctx.set(dut.o.ready, 0)
        for _ in range(ActivationUnit.LATENCY + 2):
            await ctx.tick()
        assert ctx.get(dut.o.valid) == 1
        assert ctx.get(dut.i.ready) == 0          # all four stages full and stalled
        ctx.set(dut.o.ready, 1)
        assert ctx.get(dut.o.valid) == 1
        assert ctx.get(dut.i.ready) == 1          # ready may follow o.ready combinationally
        ctx.set(dut.o.ready, 0)
        assert ctx.get(dut.o.valid) == 1

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()


def test_stalled_pipeline_fills_bubbles():
    """With ``o`` stalled, empty stages still accept beats until all four stages are full."""
    dut = ActivationUnit(lanes=1, acc_width=16, out_width=8)
    params = {"multiplier": 1, "shift": 0, "relu": 0, "zero_point": 0}

    async def bench(ctx):
        ctx.set(dut.params, params)
        ctx.set(dut.o.ready, 0)
        accepted = 0
        for cycle in range(20):
            # One beat, then a long gap (the beat reaches the output register), then a burst.
            ctx.set(dut.i.valid, int(cycle == 0 or cycle >= 8))
            ctx.set(dut.i.payload, [cycle])
            _, _, valid, ready = await ctx.tick().sample(dut.i.valid, dut.i.ready)
            accepted += valid & ready
        assert accepted == ActivationUnit.LATENCY
        ctx.set(dut.i.valid, 0)
        ctx.set(dut.o.ready, 1)
        out = []
        for _ in range(6):
            _, _, valid, payload = await ctx.tick().sample(dut.o.valid, dut.o.payload)
            if valid:
                out.append(int(payload[0]))
        assert out == [0, 8, 9, 10]

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()


@pytest.mark.parametrize("kwargs, message", [
    ({"lanes": 0, "acc_width": 32, "out_width": 8}, "lanes must be between 1 and 128, not 0"),
    ({"lanes": 4, "acc_width": 65, "out_width": 8}, "acc_width must be between 4 and 64, not 65"),
    ({"lanes": 4, "acc_width": 32, "out_width": 1}, "out_width must be between 2 and 32, not 1"),
    ({"lanes": 4.0, "acc_width": 32, "out_width": 8}, "lanes must be between 1 and 128, not 4.0"),
])
def test_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ActivationUnit(**kwargs)


@pytest.mark.slow
def test_converts_to_verilog():
    dut = ActivationUnit(lanes=16, acc_width=32, out_width=8)
    text = verilog.convert(dut, name="activation_unit")
    assert "module activation_unit" in text


@pytest.mark.parametrize("lanes, acc_width, out_width", [(3, 32, 8), (1, 16, 8), (4, 20, 6)])
def test_per_channel_lanes(lanes, acc_width, out_width):
    """``params.per_channel`` picks each lane's multiplier and shift from ``channels``, sampled
    with the beat; per-tensor beats in between ignore ``channels``."""
    rng = random.Random(f"lanes-{lanes}-{acc_width}")
    dut = ActivationUnit(lanes=lanes, acc_width=acc_width, out_width=out_width)
    lo, hi = -(1 << (acc_width - 1)), (1 << (acc_width - 1)) - 1
    beats = []
    for _ in range(120):
        params = {**_param(rng), "per_channel": rng.randrange(2)}
        chans = [{"multiplier": rng.choice([0, 1, MAX_MULT, rng.randrange(1 << 31)]),
                  "shift": rng.randrange(64)} for _ in range(lanes)]
        beats.append((params, chans, [rng.randint(lo, hi) for _ in range(lanes)]))
    got = []

    async def producer(ctx):
        for params, chans, xs in beats:
            ctx.set(dut.params, params)
            ctx.set(dut.channels, chans)
            ctx.set(dut.i.payload, xs)
            ctx.set(dut.i.valid, 1)
            await ctx.tick().until(dut.i.ready)
            ctx.set(dut.i.valid, 0)
            ctx.set(dut.channels, [{"multiplier": rng.randrange(1 << 31),
                                    "shift": rng.randrange(64)} for _ in range(lanes)])
            if rng.random() < 0.3:
                await ctx.tick()

    async def consumer(ctx):
        while len(got) < len(beats):
            ready = int(rng.random() < 0.7)
            ctx.set(dut.o.ready, ready)
            _, _, valid, payload = await ctx.tick().sample(dut.o.valid, dut.o.payload)
            if valid and ready:
                got.append([int(v) for v in payload])

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(producer)
    sim.add_testbench(consumer)
    sim.run()
    for index, ((params, chans, xs), g) in enumerate(zip(beats, got)):
        want = []
        for n, x in enumerate(xs):
            source = chans[n] if params["per_channel"] else params
            want += activate(np.array([x], dtype=np.int64), multiplier=source["multiplier"],
                             shift=source["shift"], relu=bool(params["relu"]),
                             zero_point=params["zero_point"], acc_width=acc_width,
                             out_width=out_width).tolist()
        assert g == want, f"beat {index}: {params} {chans} {xs}"
