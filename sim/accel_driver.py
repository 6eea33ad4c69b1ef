"""cocotb driver and monitor for the accelerator's command and response ports.

The accelerator top has ports ``cmd__valid``, ``cmd__ready``, ``cmd__payload`` (funct7 in bits
[6:0], funct3 [9:7], rs1 [41:10], rs2 [73:42]) and ``resp__valid``, ``resp__ready``,
``resp__payload`` (rd). Same timing convention as `sim.wishbone_memory`.
"""

from __future__ import annotations

import random
from typing import Iterable

from cocotb.triggers import ReadOnly, RisingEdge

from accel.isa.encoding import Command

__all__ = ["pack_command", "CommandDriver", "ResponseMonitor"]


def pack_command(cmd: Command) -> int:
    """The ``cmd__payload`` bits of a command."""
    return cmd.funct7 | (cmd.funct3 << 7) | (cmd.rs1 << 10) | (cmd.rs2 << 42)


class CommandDriver:
    """Feed commands into ``cmd``, optionally with random idle cycles between them."""

    def __init__(self, dut, *, gap_prob: float = 0.0, seed: int = 0):
        self.dut = dut
        self.gap_prob = gap_prob
        self.rng = random.Random(seed)
        self.accepted = 0

    async def send(self, commands: Iterable[Command]) -> None:
        dut = self.dut
        queue = list(commands)
        index = 0
        dut.cmd__valid.value = 0
        while index < len(queue):
            await RisingEdge(dut.clk)
            if self.gap_prob and self.rng.random() < self.gap_prob:
                dut.cmd__valid.value = 0
                continue
            dut.cmd__valid.value = 1
            dut.cmd__payload.value = pack_command(queue[index])
            await ReadOnly()
            if int(dut.cmd__ready.value):
                index += 1
                self.accepted += 1
        await RisingEdge(dut.clk)
        dut.cmd__valid.value = 0


class ResponseMonitor:
    """Collect ``resp`` values in order; ``ready`` is random when ``stall_prob`` > 0."""

    def __init__(self, dut, *, stall_prob: float = 0.0, seed: int = 1):
        self.dut = dut
        self.stall_prob = stall_prob
        self.rng = random.Random(seed)
        self.values: list[int] = []

    async def run(self) -> None:
        dut = self.dut
        while True:
            await RisingEdge(dut.clk)
            ready = int(self.rng.random() >= self.stall_prob)
            dut.resp__ready.value = ready
            await ReadOnly()
            if ready and int(dut.resp__valid.value):
                self.values.append(int(dut.resp__payload.value))

    async def wait_for(self, count: int, timeout_cycles: int) -> bool:
        """Wait until ``count`` responses arrived; False on timeout."""
        for _ in range(timeout_cycles):
            if len(self.values) >= count:
                return True
            await RisingEdge(self.dut.clk)
        return len(self.values) >= count


