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
from accel.compiler.steps import run_steps

__all__ = ["GraphResult", "run_golden"]

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
    runs = run_steps(compiled.config, compiled.memory_image(), compiled.steps,
                     compiled.input_addr, inputs, compiled.input_bytes, compiled.read_output,
                     progress)
    return [GraphResult(r.output, r.macs, r.load_bytes, r.store_bytes, r.instructions)
            for r in runs]
