"""A cocotb model of a byte-addressed memory behind a Wishbone B4 pipelined slave port.

Requests are accepted in a cycle with ``cyc & stb & ~stall``; each gets exactly one ``ack`` (or
``err`` inside an error window) in order, at least one cycle later, after a random number of wait
cycles. ``stall`` is random. Reads return the memory contents at the time the request was
accepted; writes honour ``sel`` byte by byte.

Timing convention shared by every driver in ``sim/``: after each rising edge drive new inputs,
then at ``ReadOnly`` sample the settled values that the next rising edge will see.
"""

from __future__ import annotations

import random
from collections import deque

import numpy as np
from cocotb.triggers import ReadOnly, RisingEdge

__all__ = ["WishboneMemory"]


class WishboneMemory:
    """Serve a DUT's Wishbone master port from a NumPy byte array.

    Parameters
    ----------
    dut : cocotb handle
    prefix : str
        Port name prefix (``bus`` gives ``bus__cyc``, ``bus__stb``, ...).
    memory : ndarray of uint8
        Backing store, modified in place. Addresses past its end answer ``err``.
    data_width : int
        Bus width in bits.
    stall_prob : float
        Probability that ``stall`` is high in a cycle.
    max_wait : int
        Largest number of extra wait cycles before an answer.
    error_windows : list of (lo, hi) byte ranges
        Accesses touching these answer ``err`` (reads return 0, writes are dropped).
    seed : int
    record : bool
        Keep ``requests_log``: ``(we, byte address of the word, sel)`` of every accepted
        request, in order.
    """

    def __init__(self, dut, prefix: str, memory: np.ndarray, *, data_width: int,
                 stall_prob: float = 0.0, max_wait: int = 0,
                 error_windows: list[tuple[int, int]] | None = None, seed: int = 0,
                 record: bool = False):
        self.dut = dut
        self.clk = dut.clk
        self.port = {name: getattr(dut, f"{prefix}__{name}") for name in
                     ("cyc", "stb", "we", "adr", "dat_w", "dat_r", "sel", "ack", "err", "stall")}
        self.memory = memory
        self.bytes = data_width // 8
        self.stall_prob = stall_prob
        self.max_wait = max_wait
        self.error_windows = list(error_windows or [])
        self.rng = random.Random(seed)
        self.reads = 0
        self.writes = 0
        self.errors = 0
        self.out_of_window_writes: list[int] = []
        self.record = record
        self.requests_log: list[tuple[int, int, int]] = []

    def _faulty(self, byte_addr: int) -> bool:
        if byte_addr + self.bytes > self.memory.size:
            return True
        return any(lo < byte_addr + self.bytes and byte_addr < hi
                   for lo, hi in self.error_windows)

    def _access(self, we: int, adr: int, dat_w: int, sel: int) -> tuple[bool, int]:
        byte_addr = adr * self.bytes
        if self.record:
            self.requests_log.append((we, byte_addr, sel))
        if self._faulty(byte_addr):
            self.errors += 1
            return True, 0
        if we:
            self.writes += 1
            for lane in range(self.bytes):
                if sel >> lane & 1:
                    self.memory[byte_addr + lane] = (dat_w >> (8 * lane)) & 0xFF
            return False, 0
        self.reads += 1
        word = int.from_bytes(self.memory[byte_addr:byte_addr + self.bytes].tobytes(), "little")
        return False, word

    async def run(self) -> None:
        port = self.port
        pending: deque[tuple[int, bool, int]] = deque()  # (due cycle, err, data)
        cycle = 0
        for name in ("ack", "err", "stall", "dat_r"):
            port[name].value = 0
        while True:
            await RisingEdge(self.clk)
            cycle += 1
            answer = pending.popleft() if pending and pending[0][0] <= cycle else None
            port["ack"].value = int(answer is not None and not answer[1])
            port["err"].value = int(answer is not None and answer[1])
            port["dat_r"].value = answer[2] if answer is not None else 0
            stall = int(self.rng.random() < self.stall_prob)
            port["stall"].value = stall
            await ReadOnly()
            if not int(port["cyc"].value):
                pending.clear()  # a master that drops cyc abandons its outstanding requests
                continue
            if int(port["stb"].value) and not stall:
                err, data = self._access(int(port["we"].value), int(port["adr"].value),
                                         int(port["dat_w"].value), int(port["sel"].value))
                earliest = max(cycle + 1, pending[-1][0] + 1 if pending else 0)
                pending.append((earliest + self.rng.randint(0, self.max_wait), err, data))
