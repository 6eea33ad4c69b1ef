"""Async helpers that drive and watch ``amaranth.lib.stream`` interfaces in testbenches."""

from __future__ import annotations

import random

__all__ = ["send", "receive"]


async def send(ctx, port, payloads, *, rng: random.Random | None = None,
               gap_prob: float = 0.0) -> None:
    """Send each payload (anything ``ctx.set`` accepts) on ``port``; optional random gaps."""
    for payload in payloads:
        while rng is not None and rng.random() < gap_prob:
            ctx.set(port.valid, 0)
            await ctx.tick()
        ctx.set(port.valid, 1)
        ctx.set(port.payload, payload)
        await ctx.tick().until(port.ready)
    ctx.set(port.valid, 0)


async def receive(ctx, port, count: int, *, rng: random.Random | None = None,
                  stall_prob: float = 0.0, value=None) -> list:
    """Receive ``count`` beats from ``port``; return ``value(payload)`` (default: the payload)
    of each. With ``rng``, ``ready`` is low with probability ``stall_prob`` every cycle."""
    beats = []
    while len(beats) < count:
        ready = not (rng is not None and rng.random() < stall_prob)
        ctx.set(port.ready, ready)
        _, _, valid, payload = await ctx.tick().sample(port.valid, port.payload)
        if ready and valid:
            beats.append(payload if value is None else value(payload))
    ctx.set(port.ready, 0)
    return beats
