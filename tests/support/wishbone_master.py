"""A pipelined Wishbone B4 master for Amaranth testbenches (drives a slave-facing port)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Request", "Response", "burst"]


@dataclass(frozen=True)
class Request:
    """One request: ``we`` (write), word address ``adr``, ``dat_w`` and ``sel``."""

    adr: int
    we: bool = False
    dat_w: int = 0
    sel: int = -1


@dataclass(frozen=True)
class Response:
    """One response: ``err`` flag and ``dat_r`` (meaningful for an acknowledged read)."""

    err: bool
    dat_r: int


async def burst(ctx, port, requests, *, rng=None, idle_prob: float = 0.0,
                max_cycles: int = 10_000) -> list[Response]:
    """Run one bus cycle on ``port`` (a master-side interface): raise ``cyc``, issue
    ``requests`` back to back (with random idle cycles when ``rng`` is given), collect one
    response per request, then drop ``cyc`` for one cycle. Returns the responses in order."""
    sel_all = (1 << len(port.sel)) - 1
    responses: list[Response] = []
    issued = 0
    present = stalled = False
    ctx.set(port.cyc, 1)
    for _ in range(max_cycles):
        if len(responses) == len(requests):
            break
        if not stalled:             # a stalled request is held unchanged (no retraction)
            present = issued < len(requests) and not (rng is not None and
                                                      rng.random() < idle_prob)
            ctx.set(port.stb, present)
            if present:
                req = requests[issued]
                ctx.set(port.we, req.we)
                ctx.set(port.adr, req.adr)
                ctx.set(port.dat_w, req.dat_w)
                ctx.set(port.sel, sel_all if req.sel == -1 else req.sel)
        _, _, stall, ack, err, dat_r = await ctx.tick().sample(
            port.stall, port.ack, port.err, port.dat_r)
        stalled = present and stall
        if present and not stall:
            issued += 1
        if ack or err:
            if len(responses) >= issued:
                raise AssertionError("response without an outstanding request")
            responses.append(Response(bool(err), dat_r))
    else:
        raise AssertionError(f"burst did not finish within {max_cycles} cycles")
    ctx.set(port.stb, 0)
    ctx.set(port.cyc, 0)
    await ctx.tick()
    return responses
