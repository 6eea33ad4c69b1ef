"""Run a compiled network on the accelerator's RTL (Verilator or Icarus through cocotb).

The golden model runs alongside and every image's logits must match it; the result per image is
the golden backend's `accel.nn.inference.Inference` with the RTL's cycles.
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from accel.nn.compiler import CompiledNetwork, HostStep
from accel.nn.inference import Inference, run_golden
from accel.runtime.rtl import Program, Waves, run_programs

__all__ = ["run_rtl"]


def run_rtl(compiled: CompiledNetwork, images: Sequence[np.ndarray], *,
            simulator: str = "verilator", batch: int = 8,
            progress: Callable[[int], None] | None = None,
            waves: Waves | None = None) -> list[Inference]:
    """Run every image on the accelerator's RTL, checked against the golden model as it runs.

    Host steps (pooling) happen between programs in zero simulated time, so ``cycles`` counts
    the accelerator alone (from the first command offered to the last response of each
    program). Images run ``batch`` per simulator invocation; ``progress`` is called with the
    number of images each invocation finished, and ``waves`` records each invocation's waveform.

    Raises
    ------
    RuntimeError
        When the RTL disagrees with the golden model (a hardware bug) or times out.
    """
    golden = run_golden(compiled, images)
    results: list[Inference] = []
    memory = compiled.memory_image()
    for start in range(0, len(images), batch):
        chunk = images[start:start + batch]
        programs, per_image = [], []
        for image in chunk:
            data = compiled.input_bytes(image)
            pokes = [(compiled.input_addr + i, int(v)) for i, v in enumerate(data)]
            pending: list = []
            first = len(programs)
            for step in compiled.steps:
                if isinstance(step, HostStep):
                    pending.append(step.op)
                    continue
                programs.append(Program(step.commands, pokes, tuple(pending)))
                pokes, pending = [], []
            if pending:
                raise ValueError("a network must end with an accelerator step")
            last = programs[-1]
            programs[-1] = Program(last.commands, last.pokes, last.host_ops,
                                   ((compiled.logits_addr, 4 * compiled.classes),))
            per_image.append((first, len(programs)))
        run = run_programs(compiled.config, memory, programs, simulator=simulator, waves=waves)
        if run.mismatches:
            raise RuntimeError("the RTL disagrees with the golden model: " + run.mismatches[0])
        for (first, end), reference in zip(per_image, golden[start:start + batch]):
            logits = compiled.read_logits(run.reads[end - 1][0])
            results.append(Inference(logits, reference.macs, reference.load_bytes,
                                     reference.store_bytes, reference.instructions,
                                     sum(run.cycles[first:end])))
        if progress is not None:
            progress(len(chunk))
    return results
