"""A fuzz campaign: random programs on the RTL against the reference, minimizing any failure.

Programs are made in batches (`make_batch`); a batch is one simulator run in which its programs
run back to back, the first right after reset (so it may provoke ``NO_WEIGHTS``), the last
sometimes locking the DMA window (a lock lasts until reset, and the next batch is a new
simulator run). Each batch draws its own bus behaviour: stalls, wait states, command gaps,
response back-pressure and, in most batches, a bus error window. A share of the programs (drawn
per program from the seed) runs from a command buffer: its records are placed in the batch's
memory image past every region programs touch, and the program becomes one EXEC_BUFFER
(`accel.verify.buffers`).

On the first failing batch the campaign stops and minimizes (`minimize_failure`): it looks for
the shortest run of the batch's programs that still fails on a fresh accelerator, then removes
commands (`accel.verify.fuzz.minimize.ddmin`) and lowers counts (`shrink_counts`), each step trying
many candidates in one simulator run (`accel.runtime.rtl.run_programs` with ``isolate``). The result
is a `Reproducer`; when the failure does not survive isolation, the reproducer is the batch itself.
"""

from __future__ import annotations

import dataclasses
import random
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from accel.arch.microarch import align_up
from accel.config import AccelConfig
from accel.isa.encoding import Command
from accel.verify.buffers import buffer_bytes, choose_buffered, place_in_buffers
from accel.verify.randprog import ErrorRounds, ProgramSpace, random_program
from accel.runtime.rtl import BusModel, Program, run_programs
from accel.verify.fuzz.coverage import Coverage
from accel.verify.fuzz.minimize import ddmin, shrink_counts
from accel.verify.fuzz.reference import BusFaultModel
from accel.verify.fuzz.reproducer import MemoryImage, Reproducer

__all__ = ["Batch", "FuzzOptions", "FuzzReport", "failing_programs", "fuzz", "make_batch",
           "minimize_failure"]

#: Where fuzz programs roam by default: 2 KiB of data, the dump after it, a 256-byte bus error
#: window after the dump.
DEFAULT_SPACE = ProgramSpace(data_size=2048, dump_addr=2048, max_rows=6, fault_size=256)


@dataclass(frozen=True)
class FuzzOptions:
    """How a campaign makes and runs programs.

    Parameters
    ----------
    programs, seed : int
        Programs to run; seed of everything (same seed, same programs, same bus behaviour).
    length : int
        Largest number of commands per program before the state dump (each draws 4..length).
    illegal_rate : float
        Probability of a failing command at each step.
    batch : int
        Programs per simulator run.
    simulator : {"verilator", "icarus"}
    space : ProgramSpace
    fault_rate, lock_rate : float
        Probability that a batch has a bus error window, that its last program locks the DMA
        window.
    reference : type
        The model the RTL is compared with (a `BusFaultModel` subclass).
    buffers : float
        Probability that a program runs from a command buffer (one EXEC_BUFFER).
    """

    programs: int = 100
    seed: int = 0
    length: int = 30
    illegal_rate: float = 0.05
    batch: int = 100
    simulator: str = "verilator"
    space: ProgramSpace = DEFAULT_SPACE
    fault_rate: float = 0.8
    lock_rate: float = 0.3
    reference: type = BusFaultModel
    buffers: float = 0.5


@dataclass
class Batch:
    """One simulator run's worth of programs, with its memory and bus behaviour.

    ``programs`` are what the core issues (a buffered program is its EXEC_BUFFER, its records
    are in ``memory``); ``buffered`` says which ones are; ``instructions`` counts the commands
    with every record.
    """

    memory: MemoryImage
    bus: BusModel
    programs: list[list[Command]]
    buffered: list[bool] = field(default_factory=list)
    instructions: int = 0


def make_batch(config: AccelConfig, options: FuzzOptions, rng: random.Random, count: int, *,
               first: bool = False, rounds: ErrorRounds | None = None) -> Batch:
    """``count`` random programs and the memory and bus they run with.

    The ``first`` batch of a campaign always has a bus error window and (with two programs or
    more) ends with a lock, so that even a short campaign can meet every error cause; pass the
    campaign's ``rounds`` so that failing commands take turns over the causes.
    """
    rounds = rounds if rounds is not None else ErrorRounds()
    space = options.space
    if not first and rng.random() >= options.fault_rate:
        space = dataclasses.replace(space, fault_size=0)
    memory = MemoryImage(space.memory_size(config), seed=rng.getrandbits(32))
    lock_last = count > 1 and (first or rng.random() < options.lock_rate)
    programs = [random_program(config, rng, length=rng.randint(4, options.length),
                               illegal_rate=options.illegal_rate, space=space,
                               fresh=index == 0, lock=lock_last and index == count - 1,
                               rounds=rounds)
                for index in range(count)]
    bus = BusModel(stall_prob=rng.choice([0.0, 0.1, 0.3, 0.5]), max_wait=rng.randint(0, 4),
                   cmd_gap_prob=rng.choice([0.0, 0.2, 0.5]),
                   resp_stall_prob=rng.choice([0.0, 0.2, 0.5]),
                   error_windows=space.error_windows(config), seed=rng.randrange(1 << 30))
    buffered = choose_buffered(rng, count, options.buffers)
    if lock_last:   # the coverage report sees the commands of direct programs only
        buffered[-1] = False
    instructions = sum(len(p) for p in programs)
    if any(buffered):
        base = align_up(memory.size)
        image = np.zeros(base + buffer_bytes(programs, buffered), dtype=np.uint8)
        image[:memory.size] = memory.array()
        programs = place_in_buffers(programs, buffered, image, base)
        memory = MemoryImage(image.size, data=image.tobytes())
    return Batch(memory, bus, programs, buffered, instructions)


_PROGRAM = re.compile(r"^program (\d+)\b")


def failing_programs(mismatches: Sequence[str]) -> set[int]:
    """Indices of the programs that `accel.runtime.rtl.run_programs` mismatch lines name."""
    return {int(m.group(1)) for line in mismatches if (m := _PROGRAM.match(line))}


@dataclass
class FuzzReport:
    """What a campaign did and found."""

    programs: int = 0
    instructions: int = 0
    mismatches: int = 0
    seconds: float = 0.0
    coverage: Coverage = field(default_factory=Coverage)
    failure: list[str] = field(default_factory=list)
    reproducer: Reproducer | None = None
    reproducer_path: Path | None = None

    @property
    def programs_per_second(self) -> float:
        return self.programs / self.seconds if self.seconds else 0.0

    def summary(self) -> str:
        return (f"programs {self.programs}, instructions {self.instructions}, mismatches "
                f"{self.mismatches}, {self.seconds:.0f} s, {self.programs_per_second:.1f} "
                f"programs/s")


def fuzz(config: AccelConfig, options: FuzzOptions = FuzzOptions(), *,
         out_dir: str | Path | None = None, progress: Callable[[int], None] | None = None,
         log: Callable[[str], None] = lambda line: None, minimize: bool = True) -> FuzzReport:
    """Run a campaign; stop at the first failing batch and write its (minimized) reproducer.

    Parameters
    ----------
    out_dir : path, optional
        Where ``reproducer-<seed>.json`` is written on failure (not written when None).
    progress : callable, optional
        Called with the number of programs of each finished batch.
    log : callable
        Receives one-line messages (mismatches, minimization steps).
    minimize : bool
        Minimize a failure (else the reproducer is the failing batch).

    Raises
    ------
    RuntimeError, AssertionError, sim.runner.SimulatorNotFound
        From `accel.runtime.rtl.run_programs` (build failure, crashed simulator, missing simulator).
    """
    rng = random.Random(options.seed)
    report = FuzzReport()
    rounds = ErrorRounds()
    start = time.perf_counter()
    while report.programs < options.programs:
        count = min(options.batch, options.programs - report.programs)
        batch = make_batch(config, options, rng, count, first=not report.programs,
                           rounds=rounds)
        result = run_programs(config, batch.memory.array(),
                              [Program(p) for p in batch.programs], bus=batch.bus,
                              simulator=options.simulator, reference=options.reference)
        model = options.reference(config, mem_size=batch.memory.size,
                                  error_windows=batch.bus.error_windows)
        model.mem[:] = batch.memory.array()
        report.coverage.run(model, batch.programs)
        report.programs += count
        report.instructions += batch.instructions
        report.mismatches += len(result.mismatches)
        report.seconds = time.perf_counter() - start  # minimizing is not fuzzing
        if progress is not None:
            progress(count)
        if result.mismatches:
            report.failure = list(result.mismatches)
            for line in result.mismatches[:10]:
                log(f"MISMATCH: {line}")
            index = min(failing_programs(result.mismatches) or {len(batch.programs) - 1})
            reproducer = Reproducer(config, batch.memory, batch.bus,
                                    batch.programs[:index + 1], isolate=False,
                                    failure=[line for line in result.mismatches
                                             if failing_programs([line]) == {index}],
                                    note=f"fuzz seed {options.seed}: batch up to program "
                                         f"{index}")
            if minimize:
                reproducer = minimize_failure(reproducer, simulator=options.simulator,
                                              reference=options.reference, log=log)
            report.reproducer = reproducer
            if out_dir is not None:
                report.reproducer_path = reproducer.save(
                    Path(out_dir) / f"reproducer-{options.seed}.json")
            break
    return report


class _IsolatedTester:
    """Runs candidate programs, each on a fresh accelerator, many per simulator run."""

    def __init__(self, base: Reproducer, simulator: str, reference: type):
        self.base, self.simulator, self.reference = base, simulator, reference
        self.runs = 0

    def __call__(self, candidates: list[list[Command]]) -> list[bool]:
        verdicts: list[bool] = []
        while len(verdicts) < len(candidates):
            pending = candidates[len(verdicts):]
            longest = max(len(c) for c in pending)
            result = run_programs(self.base.config, self.base.memory.array(),
                                  [Program(c) for c in pending], bus=self.base.bus,
                                  simulator=self.simulator, isolate=True,
                                  reference=self.reference,
                                  timeout_cycles=50_000 + 400 * longest)
            self.runs += 1
            bad = failing_programs(result.mismatches)
            ran = len(result.cycles)  # a timeout ends the run: the rest is tried again
            if not ran:
                raise RuntimeError("the simulator ran none of the candidate programs")
            verdicts += [index in bad for index in range(ran)]
        return verdicts


def minimize_failure(failing: Reproducer, *, simulator: str = "verilator",
                     reference: type = BusFaultModel,
                     log: Callable[[str], None] = lambda line: None) -> Reproducer:
    """A small isolated reproducer of ``failing`` (back-to-back programs from one batch).

    Returns ``failing`` itself when no run of its programs fails on a fresh accelerator.
    """
    test = _IsolatedTester(failing, simulator, reference)
    programs = failing.programs
    last = len(programs) - 1
    starts = sorted({last, max(0, last - 1), max(0, last - 3), max(0, last - 15), 0},
                    reverse=True)
    runs = [[cmd for p in programs[s:] for cmd in p] for s in starts]
    verdicts = test(runs)
    failing_runs = [r for r, bad in zip(runs, verdicts) if bad]
    if not failing_runs:
        log("minimize: the failure needs the batch as it ran; keeping the whole batch")
        return failing
    commands = failing_runs[0]
    original = failing.commands
    log(f"minimize: {len(commands)} commands fail on a fresh accelerator")
    commands = ddmin(commands, test, max_batch=16)
    log(f"minimize: {len(commands)} commands after removing commands")
    shrunk = shrink_counts(commands, test)
    if shrunk != commands:
        commands = ddmin(shrunk, test, max_batch=16)
        log(f"minimize: {len(commands)} commands after lowering counts")
    minimal = Reproducer(failing.config, failing.memory, failing.bus, [commands], isolate=True,
                         note=f"minimized from {original} commands ({failing.note}) in "
                              f"{test.runs} simulator runs")
    confirm = minimal.run(simulator=simulator, reference=reference)
    if not confirm.mismatches:
        log("minimize: the minimized program passed when run alone; keeping the whole batch")
        return failing
    minimal.failure = list(confirm.mismatches)
    return minimal
