"""Run a compiled graph on the golden model: the exact result every other backend must match.

`run_golden` is to a `CompiledGraph` what `accel.nn.inference.run_golden` is to a native
network, with quantized int8 input tensors in and output tensors out (pixel tables and images
are the backends' business, `accel.runtime.target`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable

import numpy as np

from accel.compiler.lower import CompiledGraph
from accel.compiler.steps import AccelStep
from accel.golden import GoldenModel
from accel.isa.spec import Counter

__all__ = ["GraphResult", "run_golden"]

_COUNTERS = (Counter.MACS, Counter.LOAD_BYTES, Counter.STORE_BYTES, Counter.INSTRUCTIONS)


@dataclass(frozen=True)
class GraphResult:
    """One input's result.

    Members
    -------
    output : ndarray
        The output tensor (int8, or int32 raw sums), of the graph output's shape.
    macs, load_bytes, store_bytes, instructions : int
        Accelerator work (the golden model's counters; MACs include padding rows).
    """

    output: np.ndarray
    macs: int
    load_bytes: int
    store_bytes: int
    instructions: int


def run_golden(compiled: CompiledGraph, inputs: Iterable[np.ndarray],
               progress: Callable[[int], None] | None = None) -> list[GraphResult]:
    """Run every int8 input tensor through the golden model, one after the other in one
    memory (the borders and constants are written once).

    Raises
    ------
    ValueError
        On an input of the wrong shape or range.
    accel.golden.AccelError
        If a program is illegal (a compiler bug).
    """
    model = GoldenModel(compiled.config, mem_size=compiled.mem_size)
    model.mem[:] = compiled.memory_image()
    results = []
    for q in inputs:
        data = compiled.input_bytes(q)
        model.mem[compiled.input_addr:compiled.input_addr + data.size] = data
        before = [model.counters[c] for c in _COUNTERS]
        for step in compiled.steps:
            if isinstance(step, AccelStep):
                model.run(step.commands)
            else:
                step.op.apply(model.mem)
        after = [model.counters[c] for c in _COUNTERS]
        macs, loads, stores, instructions = (a - b for a, b in zip(after, before))
        results.append(GraphResult(compiled.read_output(model.mem), macs, loads, stores,
                                   instructions))
        if progress is not None:
            progress(1)
    return results
