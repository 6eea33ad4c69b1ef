"""Run a compiled network on a backend: the golden model or the accelerator's RTL.

Both return an `Inference` per image: its int32 logits plus what the accelerator did (MACs and
bytes moved from the golden model's counters, cycles on the RTL). The SoC backend, where the
firmware on PicoRV32 runs the same steps, lives in `accel.nn.soc`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Iterable, Sequence

import numpy as np

from accel.golden import GoldenModel
from accel.isa.spec import Counter
from accel.nn.compiler import AccelStep, CompiledNetwork, HostStep

if TYPE_CHECKING:
    from accel.runtime.rtl import Waves

__all__ = ["Inference", "run_golden", "run_rtl", "bound_cycles"]


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


def run_rtl(compiled: CompiledNetwork, images: Sequence[np.ndarray], *,
            simulator: str = "verilator", batch: int = 8,
            progress: Callable[[int], None] | None = None,
            waves: "Waves | None" = None) -> list[Inference]:
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
    from accel.runtime.rtl import Program, run_programs

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
