"""A byte-addressed memory behind a pipelined Wishbone B4 slave port, for Amaranth's simulator
and for cocotb benches alike.

We keep our own: cocotbext-wishbone (2.0.1) has no backing memory, byte lanes or error windows,
checks nothing of the master, needs the undeclared cocotb-bus, and cannot run under Amaranth's
simulator, where most bus tests run.

Every request is performed when it is accepted (``cyc & stb & ~stall`` at a clock edge); its
response (``ack`` with ``dat_r``, or ``err``) appears ``latency`` cycles later, where ``latency``
is drawn uniformly from ``min_latency..max_latency`` (1 means the cycle right after acceptance),
in order and at most one per cycle. ``stall`` is redrawn every cycle with probability
``stall_prob``. Outside response cycles ``dat_r`` carries random junk. The model checks the
master's side of the protocol as it goes (``cyc`` held while responses are outstanding, a stalled
request held unchanged until accepted) and raises :class:`ProtocolError` otherwise.

Amaranth (``bus`` is the master's port, a :class:`accel.bus.wishbone.Signature` interface)::

    mem = WishboneMemory(dut.bus, size=4096, seed=1, stall_prob=0.3, max_latency=4)
    sim.add_clock(1e-6)
    sim.add_process(mem.process)
    sim.add_testbench(testbench)   # reads and writes mem.data / mem.writes

cocotb (``bus`` gives the handles ``dut.bus__cyc``, ``dut.bus__stb``, ...)::

    mem = WishboneMemory.cocotb(dut, "bus", memory, data_width=32, stall_prob=0.2, max_latency=3)
    cocotb.start_soon(mem.run())

Timing convention shared by every cocotb driver in ``sim/``: after each rising edge drive new
inputs, then at ``ReadOnly`` sample the settled values that the next rising edge will see.
"""

from __future__ import annotations

import random
from collections import deque
from dataclasses import dataclass
from types import SimpleNamespace

__all__ = ["ProtocolError", "WishboneMemory", "Write"]

_PORTS = ("cyc", "stb", "we", "adr", "dat_w", "dat_r", "sel", "ack", "err", "stall")
_PAST_END = ("raise", "err")


class ProtocolError(AssertionError):
    """The master broke the Wishbone B4 pipelined protocol or accessed outside the memory."""


@dataclass(frozen=True)
class Write:
    """One accepted write request: word-aligned byte address, the word's bytes, ``sel`` mask,
    and whether it was answered with ``err`` (then it changed nothing)."""

    addr: int
    data: bytes
    sel: int
    err: bool


class WishboneMemory:
    """Pipelined Wishbone B4 slave model over a mutable byte buffer.

    Parameters
    ----------
    bus : interface or namespace
        The master's port: an Amaranth interface (for :meth:`process`) or, through
        :meth:`cocotb`, the cocotb handles (for :meth:`run`). The model drives ``dat_r``,
        ``ack``, ``err`` and ``stall``.
    size : int, optional
        Bytes of memory, a multiple of the bus word; byte address 0 is word address 0.
        Defaults to the length of ``memory``.
    memory : bytearray or ndarray of uint8, optional
        Backing store to serve and modify in place (instead of a new ``bytearray``).
    seed : int
        Seed of the model's own random generator.
    stall_prob : float
        Probability that ``stall`` is high in a cycle.
    min_latency, max_latency : int
        Range of the request-to-response latency in cycles (``1 <= min <= max``).
    init : bytes-like, optional
        Initial contents of a new memory (default: random bytes from ``seed``).
    err_ranges : iterable of (int, int), optional
        Half-open byte ranges; a request whose word overlaps one is answered with ``err`` and has
        no effect (reads return 0).
    past_end : {"raise", "err"}
        A request past the end of the memory raises :class:`ProtocolError`, or is answered with
        ``err`` like an error range.
    record : bool
        Keep :attr:`requests_log`.
    data_width : int, optional
        Bus width in bits (default: the width of ``bus.dat_w``).

    Attributes
    ----------
    data : bytearray or ndarray
        The memory contents; testbenches may read and modify it at any time.
    writes : list of Write
        Every accepted write request, in order (including errored ones, which change nothing).
    err_ranges : list of (int, int)
        As the parameter; testbenches may change the list at any time.
    requests_log : list of (int, int, int)
        With ``record``: ``(we, byte address of the word, sel)`` of every accepted request.
    requests, errors, cycles, busy_cycles, max_outstanding : int
        Statistics: accepted requests, those answered with ``err``, clock edges seen, edges with
        ``cyc`` high, and the most responses ever outstanding.
    rng : random.Random
        The model's random generator (a bench may replace it to replay a sequence).
    """

    def __init__(self, bus, *, size: int | None = None, memory=None, seed: int = 0,
                 stall_prob: float = 0.0, min_latency: int = 1, max_latency: int = 1,
                 init=None, err_ranges=(), past_end: str = "raise", record: bool = False,
                 data_width: int | None = None) -> None:
        self.bus = bus
        self.data_width = len(bus.dat_w) if data_width is None else data_width
        self.word_bytes = self.data_width // 8
        if not 1 <= min_latency <= max_latency:
            raise ValueError(f"need 1 <= min_latency <= max_latency, "
                             f"not {min_latency!r}, {max_latency!r}")
        if not 0.0 <= stall_prob <= 1.0:
            raise ValueError(f"stall_prob must be between 0 and 1, not {stall_prob!r}")
        if past_end not in _PAST_END:
            raise ValueError(f"past_end must be one of {', '.join(_PAST_END)}, not {past_end!r}")
        self.rng = random.Random(seed)
        if memory is not None:
            if init is not None:
                raise ValueError("give memory or init, not both")
            if size is not None and size != len(memory):
                raise ValueError(f"size {size} differs from the memory's {len(memory)} bytes")
            self.data = memory
        else:
            if size is None:
                raise ValueError("give the memory's size or the memory")
            self.data = bytearray(init if init is not None else self.rng.randbytes(size))
            if len(self.data) != size:
                raise ValueError(f"init must have {size} bytes, not {len(self.data)}")
        if len(self.data) % self.word_bytes:
            raise ValueError(f"size must be a multiple of {self.word_bytes}, "
                             f"not {len(self.data)!r}")
        self.stall_prob = stall_prob
        self.min_latency = min_latency
        self.max_latency = max_latency
        self.err_ranges: list[tuple[int, int]] = [tuple(r) for r in err_ranges]
        self.past_end = past_end
        self.record = record
        self.writes: list[Write] = []
        self.requests_log: list[tuple[int, int, int]] = []
        self.requests = 0
        self.errors = 0
        self.cycles = 0
        self.busy_cycles = 0
        self.max_outstanding = 0
        self._pending: deque = deque()     # (due cycle, err, read data)
        self._last_due = -1
        self._shown = False                # a response was visible during the cycle that ended
        self._held = None                  # a request that was stalled at the last edge
        self._stall = False
        self._clk = None                   # the clock handle, under cocotb

    @classmethod
    def cocotb(cls, dut, prefix: str, memory, *, data_width: int, **options) -> WishboneMemory:
        """The model on the cocotb handles ``<prefix>__cyc``, ``<prefix>__stb`` ... of ``dut``,
        serving ``memory`` in place; ``options`` as for the constructor. Run it with
        ``cocotb.start_soon(mem.run())``; ``dut.clk`` is the clock."""
        port = SimpleNamespace(**{name: getattr(dut, f"{prefix}__{name}") for name in _PORTS})
        model = cls(port, memory=memory, data_width=data_width, **options)
        model._clk = dut.clk
        return model

    def _is_err(self, addr: int) -> bool:
        end = addr + self.word_bytes
        return any(lo < end and addr < hi for lo, hi in self.err_ranges)

    def _perform(self, we: int, adr: int, dat_w: int, sel: int) -> tuple[bool, int]:
        nb = self.word_bytes
        addr = adr * nb
        if self.record:
            self.requests_log.append((we, addr, sel))
        past_end = addr + nb > len(self.data)
        if past_end and self.past_end == "raise":
            raise ProtocolError(f"access to word address {adr:#x} outside the {len(self.data)}"
                                f"-byte memory")
        err = past_end or self._is_err(addr)
        self.errors += err
        if we:
            word = dat_w.to_bytes(nb, "little")
            self.writes.append(Write(addr, word, sel, err))
            if not err:
                for lane in range(nb):
                    if sel >> lane & 1:
                        self.data[addr + lane] = word[lane]
            return err, 0
        if err:
            return True, 0
        return False, int.from_bytes(bytes(self.data[addr:addr + nb]), "little")

    def _draw_stall(self) -> bool:
        self._stall = self.rng.random() < self.stall_prob
        return self._stall

    def _edge(self, cyc, stb, we, adr, dat_w, sel) -> tuple[bool, bool, int, bool]:
        """One clock edge, given the master's signals as they settled before it. Returns
        ``(ack, err, dat_r, stall)`` for the cycle after the edge."""
        self.cycles += 1
        now = self.cycles
        pending = self._pending
        self.busy_cycles += bool(cyc)
        if not cyc and (self._shown or pending):
            raise ProtocolError(f"cyc dropped with {len(pending) + self._shown} response(s) "
                                f"outstanding (cycle {now})")
        request = (we, adr, dat_w, sel) if cyc and stb else None
        if self._held is not None and request != self._held:
            raise ProtocolError(f"stalled request {self._held!r} changed to {request!r} "
                                f"(cycle {now})")
        self._held = request if self._stall else None
        if cyc and stb and not self._stall:
            self.requests += 1
            err, value = self._perform(we, adr, dat_w, sel)
            latency = self.rng.randint(self.min_latency, self.max_latency)
            self._last_due = max(now + latency - 1, self._last_due + 1)
            pending.append((self._last_due, err, value))
        self.max_outstanding = max(self.max_outstanding, len(pending) + self._shown)

        self._shown = bool(pending) and pending[0][0] <= now
        if self._shown:
            _, err, value = pending.popleft()
            answer = (not err, err, value)
        else:
            answer = (False, False, self.rng.getrandbits(self.data_width))
        return (*answer, self._draw_stall())

    async def process(self, ctx) -> None:
        """The model under Amaranth's simulator; pass to ``Simulator.add_process``."""
        bus = self.bus
        ctx.set(bus.stall, self._draw_stall())
        async for _, _, *request in ctx.tick().sample(
                bus.cyc, bus.stb, bus.we, bus.adr, bus.dat_w, bus.sel):
            ack, err, dat_r, stall = self._edge(*request)
            ctx.set(bus.ack, ack)
            ctx.set(bus.err, err)
            ctx.set(bus.dat_r, dat_r)
            ctx.set(bus.stall, stall)

    async def run(self) -> None:
        """The model under cocotb (built with :meth:`cocotb`); start with ``cocotb.start_soon``."""
        from cocotb.triggers import ReadOnly, RisingEdge  # here: Amaranth tests need no cocotb

        port = self.bus
        for name in ("ack", "err", "dat_r", "stall"):
            getattr(port, name).value = 0          # before the first edge (the master is in reset)
        outputs = (0, 0, 0, self._draw_stall())
        while True:
            await RisingEdge(self._clk)
            for name, value in zip(("ack", "err", "dat_r", "stall"), outputs):
                getattr(port, name).value = int(value)
            await ReadOnly()
            outputs = self._edge(*(int(getattr(port, name).value)
                                   for name in ("cyc", "stb", "we", "adr", "dat_w", "sel")))
