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

from accel.compiler.steps import run_steps
from accel.nn.compiler import CompiledNetwork

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


def run_golden(compiled: CompiledNetwork, images: Iterable[np.ndarray],
               progress: Callable[[int], None] | None = None) -> list[Inference]:
    """Run every image through the golden model, one after the other in one memory."""
    runs = run_steps(compiled.config, compiled.memory_image(), compiled.steps,
                     compiled.input_addr, images, compiled.input_bytes, compiled.read_logits,
                     progress)  # raises AccelError on an illegal command
    return [Inference(r.output, r.macs, r.load_bytes, r.store_bytes, r.instructions)
            for r in runs]
