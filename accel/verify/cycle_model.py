"""Measure on the RTL what the cycle model (`accel.perf`) predicts, for checking the model.

`rtl_gemm_cycles` runs the programs `accel.compiler.tiler.plan_matmul` emits;
`rtl_network_cycles` runs every accelerator step of a compiled network as
`accel.runtime.network_rtl.run_rtl` does (host steps applied between programs in zero time). Both
use one simulator run per call and skip the golden-model comparison (timing does not depend on the
data), so they need the ``sim`` extra and a simulator.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from accel.arch.microarch import align_up
from accel.config import AccelConfig
from accel.compiler.tiler import ChannelRequant, Requant, plan_matmul
from accel.verify.buffers import buffer_bytes, place_in_buffers

__all__ = ["GemmCase", "rtl_gemm_cycles", "rtl_network_cycles", "percent_error"]


@dataclass(frozen=True)
class GemmCase:
    """One GEMM of a validation set: C (m x n) = A (m x k) @ B (k x n) [+ bias] [-> requant].

    A `ChannelRequant` reads its table wherever it points (timing does not depend on data).
    """

    m: int
    k: int
    n: int
    bias: bool = False
    requant: Requant | ChannelRequant | None = None

    @property
    def label(self) -> str:
        return (f"{self.m}x{self.k}x{self.n}" + (" +bias" if self.bias else "")
                + (" per-channel" if isinstance(self.requant, ChannelRequant) else
                   " requant" if self.requant is not None else ""))


def percent_error(predicted: float, measured: float) -> float:
    """``100 * (predicted - measured) / measured``."""
    return 100.0 * (predicted - measured) / measured


def rtl_gemm_cycles(config: AccelConfig, cases: Sequence[GemmCase], *,
                    simulator: str = "verilator", from_buffer: bool = False) -> list[int]:
    """RTL cycles of each case's planned program (one simulator run, programs back to back);
    with ``from_buffer`` each program runs as one EXEC_BUFFER (records past the data, at
    `accel.verify.buffers.place_in_buffers`)."""
    from accel.runtime.rtl import Program, run_programs

    plans = [plan_matmul(config, c.m, c.k, c.n, bias=c.bias, requant=c.requant) for c in cases]
    size = max(plan.layout.mem_size for plan in plans)
    programs = [list(plan.program) for plan in plans]
    memory = np.zeros(size, dtype=np.uint8)
    if from_buffer:
        base = align_up(size)
        flags = [True] * len(programs)
        memory = np.zeros(base + buffer_bytes(programs, flags), dtype=np.uint8)
        programs = place_in_buffers(programs, flags, memory, base)
    run = run_programs(config, memory, [Program(p) for p in programs], check=False,
                       simulator=simulator)
    if len(run.cycles) != len(plans) or run.mismatches:
        raise RuntimeError("the RTL run failed: " + "; ".join(run.mismatches[:1]))
    return list(run.cycles)


def rtl_network_cycles(compiled, *, simulator: str = "verilator") -> list[int | None]:
    """RTL cycles of each step of ``compiled`` (None for host steps), one zero image."""
    from accel.nn.compiler import AccelStep
    from accel.runtime.rtl import Program, run_programs

    image = np.zeros(compiled.network.input_shape[:2], dtype=np.uint8)
    data = compiled.input_bytes(image)
    pokes = [(compiled.input_addr + i, int(v)) for i, v in enumerate(data)]
    programs, pending = [], []
    for step in compiled.steps:
        if isinstance(step, AccelStep):
            programs.append(Program(step.commands, pokes, tuple(pending)))
            pokes, pending = [], []
        else:
            pending.append(step.op)
    run = run_programs(compiled.config, compiled.memory_image(), programs, check=False,
                       simulator=simulator)
    if len(run.cycles) != len(programs) or run.mismatches:
        raise RuntimeError("the RTL run failed: " + "; ".join(run.mismatches[:1]))
    cycles = iter(run.cycles)
    return [next(cycles) if isinstance(step, AccelStep) else None for step in compiled.steps]
