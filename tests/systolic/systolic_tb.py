"""Stream driver / monitor helpers for Amaranth-simulator testbenches of the systolic array."""

from __future__ import annotations

import random

from amaranth.sim import Simulator


async def drive(ctx, port, payloads, rng: random.Random, gap: float) -> None:
    """Send ``payloads`` (dicts for the port's layout) in order, idling ``gap`` of the time."""
    for payload in payloads:
        while rng.random() < gap:
            await ctx.tick()
        ctx.set(port.payload, payload)
        ctx.set(port.valid, 1)
        await ctx.tick().until(port.ready)
        ctx.set(port.valid, 0)


async def collect(ctx, port, count: int, rng: random.Random, stall: float, out: list,
                  timeout: int) -> None:
    """Receive ``count`` beats into ``out`` as ``(data list, last)``, stalling ``stall`` of the
    time; fail after ``timeout`` cycles."""
    for _ in range(timeout):
        if len(out) == count:
            break
        ready = rng.random() >= stall
        ctx.set(port.ready, ready)
        _, _, valid, payload = await ctx.tick().sample(port.valid, port.payload)
        if valid and ready:
            out.append(([int(x) for x in payload.data], bool(payload.last)))
    else:
        raise AssertionError(f"timeout: received {len(out)} of {count} beats")
    # Keep accepting for a while: an extra (duplicated) beat must not appear.
    ctx.set(port.ready, 1)
    for _ in range(40):
        _, _, valid = await ctx.tick().sample(port.valid)
        assert not valid, "array emitted more beats than expected"


def run(dut, *testbenches, vcd: str | None = None) -> None:
    """Simulate ``dut`` with a 1 MHz clock until every testbench finishes."""
    sim = Simulator(dut)
    sim.add_clock(1e-6)
    for tb in testbenches:
        sim.add_testbench(tb)
    if vcd:
        with sim.write_vcd(vcd):
            sim.run()
    else:
        sim.run()
