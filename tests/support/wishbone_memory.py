"""A byte-addressed memory behind a pipelined Wishbone B4 slave, for Amaranth simulations.

Usage::

    mem = WishboneMemory(dut.bus, size=4096, seed=1, stall_prob=0.3, max_latency=4)
    sim.add_clock(1e-6)
    sim.add_process(mem.process)
    sim.add_testbench(testbench)   # reads and writes mem.data / mem.writes

The model checks the master's side of the protocol as it goes (``cyc`` held while responses
are outstanding, a stalled request held unchanged until accepted, requests inside the memory)
and raises :class:`ProtocolError` otherwise.
"""

from __future__ import annotations

import random
from collections import deque
from dataclasses import dataclass

__all__ = ["WishboneMemory", "ProtocolError", "Write"]


class ProtocolError(AssertionError):
    """The master broke the Wishbone B4 pipelined protocol or accessed outside the memory."""


@dataclass(frozen=True)
class Write:
    """One accepted write request: word-aligned byte address, the word's bytes, ``sel`` mask."""

    addr: int
    data: bytes
    sel: int
    err: bool


class WishboneMemory:
    """Pipelined Wishbone B4 slave model with a ``bytearray`` backing store.

    Every request is performed when it is accepted (``cyc & stb & ~stall`` at a clock edge);
    its response (``ack`` with ``dat_r``, or ``err``) appears ``latency`` cycles later, where
    ``latency`` is drawn uniformly from ``min_latency..max_latency`` (1 means the cycle right
    after acceptance), in order and at most one per cycle. ``stall`` is redrawn every cycle with
    probability ``stall_prob``. Outside response cycles ``dat_r`` carries random junk.

    Parameters
    ----------
    bus : interface
        The master's port (a :class:`accel.bus.wishbone.Signature` interface with ``stall`` and
        ``err``); the model drives ``dat_r``, ``ack``, ``err`` and ``stall``.
    size : int
        Bytes of memory, a multiple of the bus word; byte address 0 is word address 0.
    seed : int
        Seed of the model's own random generator.
    stall_prob : float
        Probability that ``stall`` is high in a cycle.
    min_latency, max_latency : int
        Range of the request-to-response latency in cycles (``1 <= min <= max``).
    init : bytes-like, optional
        Initial contents (default: random bytes from ``seed``).

    Attributes
    ----------
    data : bytearray
        The memory contents; testbenches may read and modify it at any time.
    writes : list of Write
        Every accepted write request, in order (including errored ones, which change nothing).
    err_ranges : list of (int, int)
        Half-open byte ranges; a request whose word overlaps one is answered with ``err`` and
        has no effect. Testbenches may change the list at any time.
    requests, cycles, busy_cycles, max_outstanding : int
        Statistics: accepted requests, clock edges seen, edges with ``cyc`` high, and the most
        responses ever outstanding.
    """

    def __init__(self, bus, *, size: int, seed: int = 0, stall_prob: float = 0.0,
                 min_latency: int = 1, max_latency: int = 1, init=None) -> None:
        self.bus = bus
        self.word_bytes = len(bus.dat_w) // 8
        if size % self.word_bytes:
            raise ValueError(f"size must be a multiple of {self.word_bytes}, not {size!r}")
        if not 1 <= min_latency <= max_latency:
            raise ValueError(f"need 1 <= min_latency <= max_latency, "
                             f"not {min_latency!r}, {max_latency!r}")
        self.rng = random.Random(seed)
        self.data = bytearray(init if init is not None else self.rng.randbytes(size))
        if len(self.data) != size:
            raise ValueError(f"init must have {size} bytes, not {len(self.data)}")
        self.stall_prob = stall_prob
        self.min_latency = min_latency
        self.max_latency = max_latency
        self.err_ranges: list[tuple[int, int]] = []
        self.writes: list[Write] = []
        self.requests = 0
        self.cycles = 0
        self.busy_cycles = 0
        self.max_outstanding = 0

    def _is_err(self, addr: int) -> bool:
        end = addr + self.word_bytes
        return any(lo < end and addr < hi for lo, hi in self.err_ranges)

    def _perform(self, we: int, adr: int, dat_w: int, sel: int) -> tuple[bool, int]:
        nb = self.word_bytes
        addr = adr * nb
        if addr + nb > len(self.data):
            raise ProtocolError(f"access to word address {adr:#x} outside the {len(self.data)}"
                                f"-byte memory")
        err = self._is_err(addr)
        if we:
            word = dat_w.to_bytes(nb, "little")
            self.writes.append(Write(addr, word, sel, err))
            if not err:
                for lane in range(nb):
                    if sel >> lane & 1:
                        self.data[addr + lane] = word[lane]
            return err, 0
        return err, int.from_bytes(self.data[addr:addr + nb], "little")

    async def process(self, ctx) -> None:
        """The model; pass to ``Simulator.add_process``."""
        bus = self.bus
        rng = self.rng
        pending: deque = deque()           # (due cycle, err, read data)
        last_due = -1
        shown = False                      # a response was visible during the cycle that ended
        held = None                        # a request that was stalled at the last edge
        stall = rng.random() < self.stall_prob
        ctx.set(bus.stall, stall)
        async for _, _, cyc, stb, we, adr, dat_w, sel in ctx.tick().sample(
                bus.cyc, bus.stb, bus.we, bus.adr, bus.dat_w, bus.sel):
            self.cycles += 1
            now = self.cycles
            self.busy_cycles += bool(cyc)
            if not cyc and (shown or pending):
                raise ProtocolError(f"cyc dropped with {len(pending) + shown} response(s) "
                                    f"outstanding (cycle {now})")
            request = (we, adr, dat_w, sel) if cyc and stb else None
            if held is not None and request != held:
                raise ProtocolError(f"stalled request {held!r} changed to {request!r} "
                                    f"(cycle {now})")
            held = request if stall else None
            if cyc and stb and not stall:
                self.requests += 1
                err, value = self._perform(we, adr, dat_w, sel)
                latency = rng.randint(self.min_latency, self.max_latency)
                last_due = max(now + latency - 1, last_due + 1)
                pending.append((last_due, err, value))
            self.max_outstanding = max(self.max_outstanding, len(pending) + shown)

            shown = bool(pending) and pending[0][0] <= now
            if shown:
                _, err, value = pending.popleft()
                ctx.set(bus.ack, not err)
                ctx.set(bus.err, err)
                ctx.set(bus.dat_r, value)
            else:
                ctx.set(bus.ack, 0)
                ctx.set(bus.err, 0)
                ctx.set(bus.dat_r, rng.getrandbits(len(bus.dat_r)))
            stall = rng.random() < self.stall_prob
            ctx.set(bus.stall, stall)
