"""Run accelerator programs on the emitted Verilog (cocotb + Verilator or Icarus).

`run_programs` is the one way host code runs programs on the RTL: it emits the accelerator's
Verilog for the configuration (cached by content), writes a job file, runs the cocotb bench
`sim.bench_accel` on it, and returns cycles, responses, golden-model mismatches and (optionally)
the final main memory. A `Waves` passed to it records each simulator run's waveform.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np

from accel.config import AccelConfig
from accel.isa.encoding import Command

__all__ = ["WAVE_FORMATS", "BusModel", "Program", "RunResult", "Waves", "accelerator_verilog",
           "run_programs"]

#: Waveform formats (the same as `sim.runner.WAVE_FORMATS`, which this module imports lazily).
WAVE_FORMATS = ("fst", "vcd")


@dataclass(frozen=True)
class Program:
    """Commands plus what happens to main memory around them.

    Before the commands run, ``host_ops`` (`accel.compiler.hostops` operations, the control core's
    work) are applied in order, then the byte writes ``pokes``; both happen to the golden model's
    memory too. After the program, the byte ranges ``reads`` ((address, length) pairs) are
    captured into `RunResult.reads`.
    """

    commands: Sequence[Command]
    pokes: Sequence[tuple[int, int]] = ()
    host_ops: Sequence = ()
    reads: Sequence[tuple[int, int]] = ()


@dataclass(frozen=True)
class BusModel:
    """Behaviour of the simulated main memory and of the core feeding commands."""

    stall_prob: float = 0.0
    max_wait: int = 0
    cmd_gap_prob: float = 0.0
    resp_stall_prob: float = 0.0
    error_windows: tuple[tuple[int, int], ...] = ()
    seed: int = 0


@dataclass
class RunResult:
    """What a job produced."""

    cycles: list[int]
    responses: list[list[int]]
    mismatches: list[str]
    memory: np.ndarray | None = None
    log: str = field(default="", repr=False)
    reads: list[list[bytes]] = field(default_factory=list)
    bus_requests: list[np.ndarray] = field(default_factory=list)
    timelines: list[np.ndarray] = field(default_factory=list)


@dataclass
class Waves:
    """Record the waveform of every simulator run into files, in order.

    The first run writes ``path``; a later run of the same `Waves` writes ``<stem>-2<suffix>``,
    ``<stem>-3<suffix>`` ... beside it (a batched command runs the simulator more than once).
    Without ``path`` the files go to the cache (kind ``runs``) as ``<label>.<format>``.

    Members
    -------
    format : {"fst", "vcd"}
    path : Path, optional
        The first file; its folder must exist.
    label : str
        Names the default file.
    written : list of Path
        The files written so far (also by a run that then failed).
    """

    format: str
    path: Path | None = None
    label: str = "run"
    written: list[Path] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.format not in WAVE_FORMATS:
            raise ValueError(f"waveform format must be one of {', '.join(WAVE_FORMATS)}, "
                             f"not {self.format!r}")
        if self.path is not None:
            self.path = Path(self.path)

    def next_path(self) -> Path:
        """The file the next simulator run records into."""
        if self.path is None:
            from accel.util.cache import kind_dir

            first = kind_dir("runs") / f"{self.label}.{self.format}"
        else:
            first = self.path
        count = len(self.written)
        return first if count == 0 else first.with_name(f"{first.stem}-{count + 1}{first.suffix}")

    def record(self, path: Path) -> None:
        """Note that a run wrote ``path`` (nothing happens if it did not)."""
        if path.is_file():
            self.written.append(path)


def accelerator_verilog(config: AccelConfig) -> Path:
    """The accelerator's Verilog for ``config`` (top module ``accelerator``), emitted once."""
    from sim.runner import emit_cached

    from accel.accelerator import Accelerator

    return emit_cached(f"accel-{config.rows}x{config.cols}-{config.dataflow}-"
                       f"{config.hardware_digest()}", lambda: Accelerator(config),
                       name="accelerator")


def run_programs(config: AccelConfig, memory: np.ndarray, programs: Sequence[Program], *,
                 check: bool = True, bus: BusModel = BusModel(), simulator: str = "verilator",
                 return_memory: bool = False, timeout_cycles: int = 2_000_000,
                 isolate: bool = False, reference: type | None = None,
                 record_bus: bool = False, waves: Waves | None = None,
                 timeline: bool = False) -> RunResult:
    """Run ``programs`` back to back on the RTL of ``config``.

    Parameters
    ----------
    memory : ndarray of uint8
        Initial main memory (its size is the memory the bus model serves).
    check : bool
        Compare responses and main memory with the golden model after every program; the
        differences (and timeouts) are returned in ``RunResult.mismatches``.
    return_memory : bool
        Also return the final main memory.
    isolate : bool
        Run every program as if on a fresh accelerator (reset, zeroed scratchpad and
        accumulator, ``memory`` restored, same random bus behaviour): the programs are
        independent, so one simulator run can try many (e.g. while minimizing a failure).
    reference : type, optional
        The model to compare with instead of `accel.golden.GoldenModel`: a subclass importable
        by its module and name (the bench imports it), constructed as ``reference(config,
        mem_size=..., error_windows=bus.error_windows)``, e.g.
        `accel.verify.fuzz.reference.BusFaultModel`.
    record_bus : bool
        Also return `RunResult.bus_requests`: per program, an int array of ``(we, byte address
        of the word, sel)`` rows, one per bus request the accelerator made from the program's
        first command until its last response.
    waves : Waves, optional
        Record this simulator run's waveform (into ``waves.next_path()``, noted in
        ``waves.written`` even when the run fails).
    timeline : bool
        Also return `RunResult.timelines`: per program, the busy intervals of its units as
        int64 rows ``(lane, kind, start, end)`` in cycles from its first command offered
        (`sim.busy_monitor`; `accel.runtime.timeline.rtl_timeline` makes a `Timeline` of them).

    Raises
    ------
    AssertionError
        When the simulation ends without producing results (e.g. it crashed).
    RuntimeError
        When the simulator build fails.
    sim.runner.SimulatorNotFound
        When the simulator is not installed.
    """
    from sim.runner import run_cocotb

    source = accelerator_verilog(config)
    with tempfile.TemporaryDirectory(prefix="accelgen-job-") as tmp:
        job_path = Path(tmp) / "job.npz"
        result_path = Path(tmp) / "result.npz"
        meta = {
            "config": config.to_dict(), "programs": len(programs), "check": check,
            "stall_prob": bus.stall_prob, "max_wait": bus.max_wait,
            "cmd_gap_prob": bus.cmd_gap_prob, "resp_stall_prob": bus.resp_stall_prob,
            "error_windows": [list(w) for w in bus.error_windows], "seed": bus.seed,
            "timeout_cycles": timeout_cycles, "return_memory": return_memory,
            "isolate": isolate, "record_bus": record_bus, "timeline": timeline,
            "reference": f"{reference.__module__}:{reference.__qualname__}" if reference else None,
        }
        arrays = {"meta": np.array(json.dumps(meta)),
                  "memory": np.ascontiguousarray(memory, dtype=np.uint8)}
        for index, program in enumerate(programs):
            words = [(c.funct7, c.funct3, c.rs1, c.rs2) for c in program.commands]
            arrays[f"program{index}"] = np.array(words, dtype=np.uint64).reshape(-1, 4)
            arrays[f"pokes{index}"] = np.array(list(program.pokes),
                                               dtype=np.int64).reshape(-1, 2)
            if program.host_ops:
                arrays[f"hostops{index}"] = np.array(json.dumps(
                    [op.to_dict() for op in program.host_ops]))
            if program.reads:
                arrays[f"reads{index}"] = np.array(list(program.reads),
                                                   dtype=np.int64).reshape(-1, 2)
        np.savez(job_path, **arrays)
        failure: AssertionError | None = None
        trace = waves.next_path() if waves is not None else None
        try:
            run_cocotb(sources=[source], toplevel="accelerator", test_module="sim.bench_accel",
                       build_key=source.parent.parent.name, simulator=simulator,
                       env={"ACCELGEN_JOB": str(job_path), "ACCELGEN_RESULT": str(result_path),
                            # The bench's asserts carry their messages; skipping cocotb's pytest
                            # assertion rewriting saves ~2.5 s per simulator start.
                            "COCOTB_REWRITE_ASSERTION_FILES": ""},
                       waves=waves.format if waves is not None else None, waves_file=trace)
        except AssertionError as exc:
            failure = exc
        finally:
            if waves is not None and trace is not None:
                waves.record(trace)
        if not result_path.is_file():
            raise failure or AssertionError("the bench wrote no result")
        result = np.load(result_path, allow_pickle=False)
        data = json.loads(str(result["meta"]))
        reads = [[bytes(result[key]) if (key := f"read{index}_{number}") in result.files
                  else b"" for number in range(len(program.reads))]
                 for index, program in enumerate(programs[:len(data["cycles"])])]
        out = RunResult(data["cycles"], data["responses"], data["mismatches"],
                        result["memory"].copy() if "memory" in result else None,
                        str(failure) if failure else "", reads,
                        [result[f"bus{index}"].copy() for index in range(len(data["cycles"]))
                         if f"bus{index}" in result.files],
                        [result[f"timeline{index}"].copy()
                         for index in range(len(data["cycles"]))
                         if f"timeline{index}" in result.files])
    if failure is not None and not out.mismatches:
        raise failure
    return out
