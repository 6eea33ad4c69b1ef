"""Run a compiled network on the accelerator's RTL (Verilator or Icarus through cocotb).

Any network the backends take (`accel.runtime.target.as_target`: a native network or a graph,
compiled or not) runs; the golden model runs alongside and every image's output must match it.
The result per image is the golden backend's `accel.nn.inference.Inference` with the RTL's
cycles.
"""

from __future__ import annotations

from typing import Callable, Sequence

from accel.config import AccelConfig
from accel.isa.encoding import encode
from accel.nn.inference import Inference
from accel.runtime.rtl import Program, Waves, run_programs
from accel.runtime.target import as_target, run_golden

__all__ = ["run_rtl"]


def _step_label(target, step, number: int) -> str:
    """The name a timeline marks an accelerator step with: its layers (``conv2d[0]``) for a
    native network, else its own name or number."""
    layers = getattr(step, "layers", None)
    if layers is not None and hasattr(target.compiled, "network"):
        from accel.perf.network import step_name

        return step_name(target.compiled, tuple(layers))
    return str(getattr(step, "name", "") or f"step {number}")


def run_rtl(compiled, images: Sequence, *, config: AccelConfig | None = None,
            simulator: str = "verilator", batch: int = 8,
            progress: Callable[[int], None] | None = None,
            waves: Waves | None = None, timelines: list | None = None) -> list[Inference]:
    """Run every uint8 image on the accelerator's RTL, checked against the golden model as it
    runs.

    ``compiled`` is a `CompiledNetwork` or `CompiledGraph`, or a `QuantizedNetwork` or `Graph`
    with ``config`` to compile it for. Host steps (pooling, adds) happen between programs in
    zero simulated time (a network ending with host steps gets a last program of one fence), so
    ``cycles`` counts the accelerator alone (from the first command offered to the last
    response of each program). Images run ``batch`` per simulator invocation; ``progress`` is
    called with the number of images each invocation finished, and ``waves`` records each
    invocation's waveform. The `Inference` holds the output values (flattened, int8 or int32)
    as its ``logits``. When ``timelines`` is a list, the first image's `Timeline` (its programs
    back to back, each step marked) is appended to it.

    Raises
    ------
    RuntimeError
        When the RTL disagrees with the golden model (a hardware bug) or times out.
    ValueError
        When an image has the wrong shape or pixels outside 0..255.
    """
    target = as_target(compiled, config)
    images = list(images)
    golden = run_golden(target, images)
    results: list[Inference] = []
    memory = target.memory_image()
    output = ((target.output_addr, target.output_count * target.output_item),)
    for start in range(0, len(images), batch):
        chunk = images[start:start + batch]
        programs, per_image, names = [], [], []
        for image in chunk:
            data = target.input_bytes(image)
            pokes = [(target.input_addr + i, int(v)) for i, v in enumerate(data)]
            pending: list = []
            first = len(programs)
            for step in target.steps:
                if not hasattr(step, "commands"):
                    pending.append(step.op)
                    continue
                programs.append(Program(step.commands, pokes, tuple(pending)))
                names.append(("host, " if pending else "")
                             + _step_label(target, step, len(programs) - first))
                pokes, pending = [], []
            if pending or pokes:
                programs.append(Program((encode("fence"),), pokes, tuple(pending)))
                names.append("host ops")
            last = programs[-1]
            programs[-1] = Program(last.commands, last.pokes, last.host_ops, output)
            per_image.append((first, len(programs)))
        record = timelines is not None and start == 0
        run = run_programs(target.config, memory, programs, simulator=simulator, waves=waves,
                           timeline=record)
        if run.mismatches:
            raise RuntimeError("the RTL disagrees with the golden model: " + run.mismatches[0])
        for (first, end), reference in zip(per_image, golden[start:start + batch]):
            values = target.read_output(run.reads[end - 1][0])
            if not (values == reference.logits).all():
                raise RuntimeError(f"the RTL's output {values.tolist()} differs from the golden "
                                   f"model's {reference.logits.tolist()}")
            results.append(Inference(values, reference.macs, reference.load_bytes,
                                     reference.store_bytes, reference.instructions,
                                     sum(run.cycles[first:end])))
        if record:
            from accel.perf.timeline import workload_bound
            from accel.runtime.timeline import rtl_timeline

            first, end = per_image[0]
            timelines.append(rtl_timeline(
                target.config, f"{target.name}: one inference",
                [(run.timelines[i], run.cycles[i], names[i]) for i in range(first, end)],
                workload_bound(target.config, target.compiled)))
        if progress is not None:
            progress(len(chunk))
    return results
