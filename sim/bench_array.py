"""cocotb bench of the emitted ``SystolicArray`` Verilog: driver, monitor, NumPy model, checker.

Parameters come as JSON in the environment variable ``ARRAY_PARAMS``::

    {"rows": 4, "cols": 4, "dataflow": "ws", "input_width": 8, "acc_width": 32,
     "seed": 1, "gap": 0.3, "stall": 0.3, "tiles": 3}      # "lengths": [1, 3, 2] for os

Ports (see :class:`accel.systolic.SystolicArray`): ``clk``, ``rst``, ``a__valid``,
``a__ready``, ``a__payload`` (``data`` lanes of ``input_width`` bits from bit 0, then
``new_weights``, then ``last``), ``b__*`` (``data``, then ``last``), ``c__*`` (``data`` lanes of
``acc_width`` bits, then ``last``).
"""

from __future__ import annotations

import json
import os
import random

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge, ReadOnly, RisingEdge, Timer

from accel.config import Dataflow

DEFAULTS = {"rows": 4, "cols": 4, "dataflow": "ws", "input_width": 8, "acc_width": 32,
            "seed": 1, "gap": 0.3, "stall": 0.3, "tiles": 3, "lengths": [1, 3, 1, 6, 2]}


def params() -> dict:
    return {**DEFAULTS, **json.loads(os.environ.get("ARRAY_PARAMS", "{}"))}


# -- model ------------------------------------------------------------------------------------

def wrap(values, width: int) -> list[int]:
    half = 1 << (width - 1)
    return [((int(v) + half) % (1 << width)) - half for v in values]


def model_ws(tiles, vectors, acc_width):
    """``(c_row, last)`` per ``(a_row, new_weights, last)``: ``a_row @`` current tile."""
    rows = len(vectors[0][0])
    cols = np.asarray(tiles[0]).shape[1]
    weights = np.zeros((rows, cols), dtype=object)
    pending = list(tiles)
    out = []
    for a_row, new_weights, last in vectors:
        if new_weights:
            weights = np.asarray(pending.pop(0), dtype=object)
        out.append((wrap(np.asarray(a_row, dtype=object) @ weights, acc_width), bool(last)))
    return out


def model_os(reductions, acc_width):
    out = []
    for a, b in reductions:
        c = np.asarray(a, dtype=object) @ np.asarray(b, dtype=object)
        out += [(wrap(c[i], acc_width), i == c.shape[0] - 1) for i in range(c.shape[0])]
    return out


def random_ints(rng, shape, width, extreme=False):
    lo, hi = -(1 << (width - 1)), (1 << (width - 1)) - 1
    if extreme:
        return rng.choice(np.array([lo, lo, hi]), size=shape).astype(np.int64)
    return rng.integers(lo, hi, size=shape, endpoint=True, dtype=np.int64)


# -- packing ----------------------------------------------------------------------------------

def pack(lanes, width: int, flags=()) -> int:
    value = 0
    for i, lane in enumerate(lanes):
        value |= (int(lane) & ((1 << width) - 1)) << (i * width)
    for k, flag in enumerate(flags):
        value |= int(bool(flag)) << (len(lanes) * width + k)
    return value


def unpack_c(value: int, cols: int, width: int) -> tuple[list[int], bool]:
    data = [(value >> (j * width)) & ((1 << width) - 1) for j in range(cols)]
    return wrap(data, width), bool((value >> (cols * width)) & 1)


# -- driver / monitor -------------------------------------------------------------------------

class StreamDriver:
    """Drives ``<name>__valid``/``__payload`` from a list of packed payloads, with random gaps.

    Inputs change only at falling edges; the handshake is sampled in the ReadOnly phase after
    everyone has set their inputs, so a transfer seen there happens on the next rising edge.
    """

    def __init__(self, dut, name: str, beats: list[int], rng: random.Random, gap: float):
        self.valid = getattr(dut, f"{name}__valid")
        self.ready = getattr(dut, f"{name}__ready")
        self.payload = getattr(dut, f"{name}__payload")
        self.clk = dut.clk
        self.beats, self.rng, self.gap = beats, rng, gap
        self.sent = 0
        self.accept_cycles: list[int] = []

    async def run(self, clock) -> None:
        holding = False
        while self.sent < len(self.beats):
            await FallingEdge(self.clk)
            if not holding and self.rng.random() >= self.gap:
                holding = True
                self.payload.value = self.beats[self.sent]
            self.valid.value = int(holding)
            await ReadOnly()
            if holding and self.ready.value == 1:
                self.accept_cycles.append(clock.cycle)
                self.sent += 1
                holding = False
        await FallingEdge(self.clk)
        self.valid.value = 0


class StreamMonitor:
    """Accepts ``c`` beats with random back-pressure and records ``(data, last)``."""

    def __init__(self, dut, cols: int, width: int, rng: random.Random, stall: float):
        self.dut, self.cols, self.width, self.rng, self.stall = dut, cols, width, rng, stall
        self.received: list[tuple[list[int], bool]] = []
        self.cycles: list[int] = []

    async def run(self, clock, count: int, timeout: int) -> None:
        dut = self.dut
        for _ in range(timeout):
            if len(self.received) >= count:
                break
            await FallingEdge(dut.clk)
            ready = self.rng.random() >= self.stall
            dut.c__ready.value = int(ready)
            await ReadOnly()
            if ready and dut.c__valid.value == 1:
                self.received.append(unpack_c(dut.c__payload.value.to_unsigned(), self.cols,
                                              self.width))
                self.cycles.append(clock.cycle)
        else:
            raise AssertionError(f"timeout: received {len(self.received)} of {count} beats")
        for _ in range(4 * self.cols + 40):  # nothing may follow the expected beats
            await FallingEdge(dut.clk)
            dut.c__ready.value = 1
            await ReadOnly()
            assert dut.c__valid.value == 0, "array emitted more beats than expected"


class CycleCounter:
    def __init__(self, clk):
        self.clk, self.cycle = clk, 0

    async def run(self) -> None:
        while True:
            await RisingEdge(self.clk)
            self.cycle += 1


async def reset(dut) -> CycleCounter:
    # Inputs are defined before the first clock edge; payloads stay defined while idle.
    for port in (dut.a__valid, dut.b__valid, dut.c__ready):
        port.value = 0
    dut.a__payload.value = 0
    dut.b__payload.value = 0
    dut.rst.value = 1
    await Timer(1, unit="ns")
    cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
    for _ in range(3):
        await RisingEdge(dut.clk)
    await FallingEdge(dut.clk)
    dut.rst.value = 0
    counter = CycleCounter(dut.clk)
    cocotb.start_soon(counter.run())
    return counter


# -- scenarios --------------------------------------------------------------------------------

def ws_scenario(p, rng, extreme):
    rows, cols, iw = p["rows"], p["cols"], p["input_width"]
    tiles = [random_ints(rng, (rows, cols), iw, extreme) for _ in range(p["tiles"])]
    vectors = [(random_ints(rng, rows, iw), False, False)]  # before any switch: zero weights
    for _ in tiles:
        count = int(rng.integers(1, 2 * (rows + cols) + 2))
        vectors += [(random_ints(rng, rows, iw, extreme), m == 0, m == count - 1)
                    for m in range(count)]
    a_beats = [pack(v, iw, (nw, last)) for v, nw, last in vectors]
    b_beats = [pack(t[k], iw, (k == rows - 1,)) for t in tiles for k in range(rows)]
    return a_beats, b_beats, model_ws(tiles, vectors, p["acc_width"])


def os_scenario(p, rng, extreme):
    rows, cols, iw = p["rows"], p["cols"], p["input_width"]
    reductions = [(random_ints(rng, (rows, k), iw, extreme),
                   random_ints(rng, (k, cols), iw, extreme)) for k in p["lengths"]]
    a_beats, b_beats = [], []
    for a, b in reductions:
        for k in range(a.shape[1]):
            # new_weights (a) and last (b) are ignored in os: drive them randomly.
            a_beats.append(pack(a[:, k], iw, (rng.integers(2), k == a.shape[1] - 1)))
            b_beats.append(pack(b[k], iw, (rng.integers(2),)))
    return a_beats, b_beats, model_os(reductions, p["acc_width"])


async def run_scenario(dut, *, extreme=False, gap=None, stall=None, seed_offset=0):
    p = params()
    seed = p["seed"] + seed_offset
    rng = np.random.default_rng(seed)
    scenario = ws_scenario if Dataflow(p["dataflow"]) is Dataflow.WS else os_scenario
    a_beats, b_beats, expected = scenario(p, rng, extreme)
    gap = p["gap"] if gap is None else gap
    stall = p["stall"] if stall is None else stall
    clock = await reset(dut)
    a = StreamDriver(dut, "a", a_beats, random.Random(seed), gap)
    b = StreamDriver(dut, "b", b_beats, random.Random(seed + 1), gap)
    c = StreamMonitor(dut, p["cols"], p["acc_width"], random.Random(seed + 2), stall)
    cocotb.start_soon(a.run(clock))
    cocotb.start_soon(b.run(clock))
    await c.run(clock, len(expected), timeout=30 * (len(a_beats) + len(b_beats) + len(expected))
                + 500)
    for index, (got, want) in enumerate(zip(c.received, expected)):
        assert got == (want[0], want[1]), f"beat {index}: got {got}, expected {want}"
    return a, b, c, expected


@cocotb.test()
async def test_random(dut):
    """Seeded random data with random valid gaps and back-pressure on ``c``."""
    await run_scenario(dut)


@cocotb.test()
async def test_extreme(dut):
    """Only the most negative / most positive inputs (exact sums or wrap-around)."""
    await run_scenario(dut, extreme=True, seed_offset=100)


@cocotb.test()
async def test_full_rate(dut):
    """No gaps, no back-pressure: ``c`` streams one vector per cycle inside each tile."""
    p = params()
    a, b, c, expected = await run_scenario(dut, gap=0.0, stall=0.0, seed_offset=200)
    if Dataflow(p["dataflow"]) is Dataflow.OS:
        # Each tile's rows leave on consecutive cycles.
        for start in range(0, len(c.cycles), p["rows"]):
            tile = c.cycles[start:start + p["rows"]]
            assert tile == list(range(tile[0], tile[0] + len(tile))), f"tile gaps: {tile}"
    else:
        # Within a tile (after its switch) the a vectors flow without bubbles.
        latency = p["rows"] + p["cols"]
        for accepted, emitted in zip(a.accept_cycles, c.cycles):
            assert emitted - accepted == latency, f"latency {emitted - accepted} != {latency}"
