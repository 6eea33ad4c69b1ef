"""Run a compiled network on the golden model; what every backend returns per image.

Every backend returns an `Inference` per image: its int32 logits plus what the accelerator did (MACs
and bytes moved from the golden model's counters, cycles on the RTL). The SoC backend, where the
firmware on PicoRV32 runs the same steps, lives in `accel.runtime.network_soc`; the RTL backend
in `accel.runtime.network_rtl`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable

import numpy as np

from accel.golden import GoldenModel
from accel.isa.spec import Counter
from accel.nn.compiler import AccelStep, CompiledNetwork

__all__ = ["Inference", "run_golden", "bound_cycles"]


@dataclass(frozen=True)
class Inference:
    """One image's result.

    Members
    -------
    logits : ndarray of int32
    macs, load_bytes, store_bytes, instructions : int
        Accelerator work (the golden model's counters).
    cycles : int or None
        Clock cycles of the inference (None on the golden backend).
    """

    logits: np.ndarray
    macs: int
    load_bytes: int
    store_bytes: int
    instructions: int
    cycles: int | None = None

    @property
    def prediction(self) -> int:
        return int(np.argmax(self.logits))


def bound_cycles(compiled: CompiledNetwork, inference: Inference) -> int:
    """max(MACs / (rows x cols), bytes moved / bus bytes per cycle) for one inference.

    MACs are the network's (not the extra ones the compiled program spends on padding rows);
    bytes moved are the program's main-memory traffic (the golden model's counters).
    """
    cfg = compiled.config
    compute = -(-compiled.network.macs() // (cfg.rows * cfg.cols))
    traffic = -(-(inference.load_bytes + inference.store_bytes) // (cfg.bus_width // 8))
    return max(compute, traffic)


_COUNTERS = (Counter.MACS, Counter.LOAD_BYTES, Counter.STORE_BYTES, Counter.INSTRUCTIONS)


def run_golden(compiled: CompiledNetwork, images: Iterable[np.ndarray],
               progress: Callable[[int], None] | None = None) -> list[Inference]:
    """Run every image through the golden model, one after the other in one memory."""
    model = GoldenModel(compiled.config, mem_size=compiled.mem_size)
    model.mem[:] = compiled.memory_image()
    results = []
    for image in images:
        data = compiled.input_bytes(image)
        model.mem[compiled.input_addr:compiled.input_addr + data.size] = data
        before = [model.counters[c] for c in _COUNTERS]
        for step in compiled.steps:
            if isinstance(step, AccelStep):
                model.run(step.commands)  # raises AccelError on an illegal command
            else:
                step.op.apply(model.mem)
        after = [model.counters[c] for c in _COUNTERS]
        macs, loads, stores, instructions = (a - b for a, b in zip(after, before))
        results.append(Inference(compiled.read_logits(model.mem), macs, loads, stores,
                                 instructions))
        if progress is not None:
            progress(1)
    return results
