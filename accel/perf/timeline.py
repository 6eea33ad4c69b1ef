"""Where the cycles go: per-unit busy intervals over time, and the bound they are judged by.

A `Timeline` holds, for one workload, the intervals in which each unit was busy (`LANES`): the
command issuer (``issue``: the dispatcher taking commands in the cycle model and on the
accelerator alone, the core executing custom instructions on the SoC), the ``load``,
``execute`` and ``store`` units (a command in flight, as the scoreboard counts it) and the DMA
on the ``bus`` (``kind`` ``"read"`` or ``"write"``). The cycle model's come from
`predict_program` recording into a `accel.perf.trace.ProgramTrace` (`program_timeline`,
`matmul_timeline`, `network_timeline`); the RTL's from monitors in the benches
(`accel.runtime.timeline`). `accel.runtime.timeline_plot` draws one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

from accel.config import AccelConfig
from accel.isa.encoding import Command
from accel.perf.bound import Bound, gemm_bound, graph_bound, network_bound
from accel.perf.estimate import CycleEstimate
from accel.perf.program import predict_program
from accel.perf.trace import ProgramTrace, recording

__all__ = ["LANES", "Interval", "Timeline", "drawn_bound", "workload_bound", "matmul_timeline",
           "network_timeline", "program_timeline"]

#: The lanes of a timeline, top to bottom.
LANES = ("issue", "load", "execute", "store", "bus")


@dataclass(frozen=True)
class Interval:
    """Cycles ``start`` (inclusive) to ``end`` (exclusive) in which ``lane`` was busy;
    ``kind`` refines it (``"read"``/``"write"`` on the bus)."""

    lane: str
    start: float
    end: float
    kind: str = ""


@dataclass(frozen=True)
class Timeline:
    """The busy intervals of one workload.

    Members
    -------
    title : str
        The workload, e.g. ``"GEMM 16x16 @ 16x16"``.
    source : str
        Where the intervals come from: ``"cycle model"``, ``"RTL"`` or ``"SoC"``.
    cycles : int
        The workload's total cycles; every interval lies within ``0..cycles``.
    intervals : tuple of Interval
    bound : int
        The bound drawn in (`drawn_bound`), in cycles.
    bound_label : str
        What the bound is, e.g. ``"compute bound MACs/PEs"``.
    marks : tuple of (float, str)
        Named instants, e.g. the start of each step of a network.
    """

    title: str
    source: str
    cycles: int
    intervals: tuple[Interval, ...]
    bound: int
    bound_label: str
    marks: tuple[tuple[float, str], ...] = field(default_factory=tuple)

    def lane(self, name: str) -> list[Interval]:
        """The intervals of lane ``name``, by start."""
        return sorted((i for i in self.intervals if i.lane == name), key=lambda i: i.start)

    def busy(self, name: str) -> float:
        """Cycles in which lane ``name`` was busy (overlapping intervals counted once)."""
        total, until = 0.0, float("-inf")
        for interval in self.lane(name):
            start = max(interval.start, until)
            if interval.end > start:
                total += interval.end - start
                until = interval.end
        return total


def drawn_bound(config: AccelConfig, workload, count: int = 1) -> tuple[int, str]:
    """The bound a timeline draws for ``count`` runs of ``workload``: ``(cycles, label)``.

    ``workload`` is the workload's `accel.perf.bound.Bound` (the physical bound, max(MACs /
    PEs, minimal bytes / bus bytes per cycle)), or, where only a program is known, its
    multiply-accumulates (then the compute bound ``ceil(MACs / PEs)``).
    """
    if isinstance(workload, Bound):
        return count * workload.cycles, "bound max(MACs/PEs, minimal bytes/bus)"
    pes = config.rows * config.cols
    return count * -(-workload // pes), "compute bound MACs/PEs"


def workload_bound(config: AccelConfig, compiled) -> Bound:
    """The physical bound of one inference of a compiled graph or native network."""
    graph = getattr(compiled, "graph", None)
    if graph is not None:
        return graph_bound(config, graph)
    return network_bound(config, compiled.network)


def _intervals(trace: ProgramTrace, offset: float) -> list[Interval]:
    out = [Interval("issue", offset + fire, offset + fire + 1) for fire in trace.issues]
    out += [Interval(unit, offset + fire, offset + retire) for unit, fire, retire in trace.units]
    out += [Interval("bus", offset + entry[0], offset + entry[1], channel)
            for channel, entry, _ in trace.bus if entry[1] > entry[0]]
    return out


def program_timeline(config: AccelConfig, commands: Sequence[Command], title: str,
                     workload: Bound | None = None) -> tuple[Timeline, CycleEstimate]:
    """The cycle model's timeline of one program, and its `CycleEstimate` (whose breakdown's
    ``load``, ``compute`` and ``store`` are the busy cycles of those lanes, and ``issue`` the
    issue lane's); the bound drawn is ``workload``'s, or the program's compute bound."""
    with recording(ProgramTrace()) as trace:
        estimate = predict_program(config, commands)
    bound, label = drawn_bound(config, estimate.macs if workload is None else workload)
    return Timeline(title, "cycle model", estimate.cycles, tuple(_intervals(trace, 0.0)),
                    bound, label), estimate


def matmul_timeline(config: AccelConfig, m: int, k: int, n: int, *, bias: bool = False,
                    requant=None) -> tuple[Timeline, CycleEstimate]:
    """`program_timeline` of the program `accel.compiler.tiler.plan_matmul` emits.

    Raises
    ------
    ValueError
        As `plan_matmul`.
    """
    from accel.compiler.tiler import plan_matmul

    plan = plan_matmul(config, m, k, n, bias=bias, requant=requant)
    title = f"GEMM {m}x{k} @ {k}x{n}" + (" + bias" if bias else "") \
        + (" -> requant" if requant is not None else "")
    return program_timeline(config, plan.program, title,
                            gemm_bound(config, m, k, n, bias=bias, requant=requant))


def network_timeline(config: AccelConfig, compiled, title: str) -> Timeline:
    """The cycle model's timeline of one inference of ``compiled`` (a `CompiledNetwork`): its
    programs back to back, as `accel.perf.predict_network` counts them (host steps take no
    accelerator cycles; each marks where it happens). The bound is the network's (its MACs, not
    the padded programs')."""
    from accel.nn.compiler import AccelStep
    from accel.perf.network import step_name

    intervals: list[Interval] = []
    marks: list[tuple[float, str]] = []
    offset = 0
    for step in compiled.steps:
        if not isinstance(step, AccelStep):
            marks.append((offset, step_name(compiled, (step.layer,), host=True)))
            continue
        marks.append((offset, step_name(compiled, step.layers)))
        with recording(ProgramTrace()) as trace:
            estimate = predict_program(config, step.commands)
        intervals += _intervals(trace, offset)
        offset += estimate.cycles
    bound, label = drawn_bound(config, workload_bound(config, compiled))
    return Timeline(title, "cycle model", offset, tuple(intervals), bound, label, tuple(marks))

