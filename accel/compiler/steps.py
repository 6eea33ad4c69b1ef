"""The steps of a compiled network: accelerator programs and host operations between them.

Both compilers (`accel.nn.compiler` for the native networks, `accel.compiler.lower` for graphs)
produce a sequence of these; every backend runs them in order on one main memory.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable

import numpy as np

from accel.compiler.hostops import HostOp
from accel.config import AccelConfig
from accel.isa.encoding import Command
from accel.isa.spec import Counter

__all__ = ["AccelStep", "HostStep", "StepsRun", "run_steps"]


@dataclass(frozen=True)
class AccelStep:
    """One accelerator program (ending with a fence) computing ``layers`` (indices of the
    network's layers or the graph's nodes)."""

    commands: tuple[Command, ...]
    layers: tuple[int, ...]


@dataclass(frozen=True)
class HostStep:
    """Work for the control core between programs (for layer or node ``layer``)."""

    op: HostOp
    layer: int


@dataclass(frozen=True)
class StepsRun:
    """One input through the steps on the golden model: the output read back and the
    accelerator's work (counter differences: MACs, main-memory bytes, instructions)."""

    output: np.ndarray
    macs: int
    load_bytes: int
    store_bytes: int
    instructions: int


_COUNTERS = (Counter.MACS, Counter.LOAD_BYTES, Counter.STORE_BYTES, Counter.INSTRUCTIONS)


def run_steps(config: AccelConfig, memory: np.ndarray, steps, input_addr: int,
              inputs: Iterable, to_bytes: Callable[[object], np.ndarray],
              read: Callable[[np.ndarray], np.ndarray],
              progress: Callable[[int], None] | None = None) -> list[StepsRun]:
    """Run ``steps`` once per input on one golden model whose main memory starts as
    ``memory`` (constants and buffer borders are written once, not per input).

    Each input goes through ``to_bytes`` to ``input_addr``; after the steps, ``read(mem)`` is
    the output. Every compiled form's golden backend (native networks, graphs, runtime targets)
    is this loop.

    Raises
    ------
    accel.golden.AccelError
        An illegal command (a compiler bug).
    """
    from accel.golden import GoldenModel

    model = GoldenModel(config, mem_size=memory.size)
    model.mem[:] = memory
    results = []
    for item in inputs:
        data = to_bytes(item)
        model.mem[input_addr:input_addr + data.size] = data
        before = [model.counters[c] for c in _COUNTERS]
        for step in steps:
            if isinstance(step, AccelStep):
                model.run(step.commands)
            else:
                step.op.apply(model.mem)
        work = (a - b for a, b in zip([model.counters[c] for c in _COUNTERS], before))
        results.append(StepsRun(read(model.mem), *work))
        if progress is not None:
            progress(1)
    return results
