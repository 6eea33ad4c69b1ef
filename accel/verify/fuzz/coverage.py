"""Functional coverage of a fuzz run: instruction kinds, hazard kinds and error causes.

Measured from the program stream, by executing it on the reference model (the fuzzer's
`accel.verify.fuzz.reference.BusFaultModel`, so that bus errors count) and recording, per command:

- **instruction kinds**: every instruction of `accel.isa.spec` that executed (not failed or
  discarded);
- **hazard kinds**: RAW, WAR and WAW on scratchpad rows, accumulator rows and main-memory bytes
  between an executed instruction and an earlier executed one that could still be in flight —
  within the last ``in_flight`` commands and with no barrier (``fence``, or ``config_window``,
  which waits like a fence) in between;
- **error causes**: every `accel.isa.spec.ErrorCause` (except NONE) an instruction failed with.

The kinds come from the spec, so instructions and causes added to the ISA appear here (as
misses until the generator provokes them). Which rows and bytes an instruction reads and writes
is this module's table (`footprint`), mirroring the golden model's semantics.
"""

from __future__ import annotations

import json
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Iterable, Sequence

from accel.config import Dataflow
from accel.golden import AccelError, BufferRecordError, GoldenModel
from accel.isa.encoding import Command, IllegalInstruction, decode
from accel.isa.spec import ALWAYS_EXECUTED, BY_NAME, INSTRUCTIONS, ErrorCause

__all__ = ["HAZARDS", "RESOURCES", "Coverage", "Footprint", "footprint"]

RESOURCES = ("sp", "acc", "mem")
#: Every hazard kind, e.g. ``"RAW sp"``: an instruction reads scratchpad rows an earlier,
#: possibly still running, instruction writes.
HAZARDS = tuple(f"{kind} {res}" for kind in ("RAW", "WAR", "WAW") for res in RESOURCES)
#: Instructions that wait for every earlier one to complete.
BARRIERS = frozenset(name for name in ("fence", "config_window") if name in BY_NAME)


@dataclass
class Footprint:
    """Rows and bytes one instruction reads and writes (sets per resource)."""

    reads: dict[str, set[int]] = field(default_factory=lambda: {r: set() for r in RESOURCES})
    writes: dict[str, set[int]] = field(default_factory=lambda: {r: set() for r in RESOURCES})


def _mem_bytes(mem_addr: int, rows: int, cols: int, stride: int, elem: int) -> set[int]:
    width = cols * elem
    return {mem_addr + r * stride + b for r in range(rows) for b in range(width)}


def footprint(model: GoldenModel, name: str, ops: dict[str, int]) -> Footprint:
    """What instruction ``name`` with operands ``ops`` touches, given ``model``'s state
    (strides, weights) just before it executes."""
    cfg = model.config
    fp = Footprint()
    r, w = fp.reads, fp.writes
    if name in ("load_sp", "load_sp_t", "load_acc"):
        elem = cfg.acc_bytes if name == "load_acc" else cfg.in_bytes
        r["mem"] = _mem_bytes(ops["mem_addr"], ops["rows"], ops["cols"], model.load_stride, elem)
        if name == "load_acc":
            w["acc"] = set(range(ops["acc_addr"], ops["acc_addr"] + ops["rows"]))
        else:
            count = ops["cols"] if name == "load_sp_t" else ops["rows"]
            w["sp"] = set(range(ops["sp_addr"], ops["sp_addr"] + count))
    elif name in ("store_sp", "store_acc", "store_act"):
        elem = cfg.acc_bytes if name == "store_acc" else cfg.in_bytes
        w["mem"] = _mem_bytes(ops["mem_addr"], ops["rows"], ops["cols"], model.store_stride,
                              elem)
        res, addr = ("sp", ops["sp_addr"]) if name == "store_sp" else ("acc", ops["acc_addr"])
        r[res] = set(range(addr, addr + ops["rows"]))
    elif name == "config_act_channels":     # the multiplier and shift rows
        r["acc"] = set(range(ops["acc_addr"], ops["acc_addr"] + 2))
    elif name in ("compute", "compute_acc") and model.weights is not None:
        b_addr, k, _ = model.weights
        a_rows = ops["m"] if cfg.dataflow is Dataflow.WS else k
        r["sp"] = set(range(ops["a_addr"], ops["a_addr"] + a_rows)) | set(range(b_addr,
                                                                              b_addr + k))
        w["acc"] = set(range(ops["c_addr"], ops["c_addr"] + ops["m"]))
        if name == "compute_acc":
            r["acc"] = set(w["acc"])
    return fp


def _hazards(earlier: Footprint, later: Footprint) -> list[str]:
    found = []
    for res in RESOURCES:
        if earlier.writes[res] & later.reads[res]:
            found.append(f"RAW {res}")
        if earlier.reads[res] & later.writes[res]:
            found.append(f"WAR {res}")
        if earlier.writes[res] & later.writes[res]:
            found.append(f"WAW {res}")
    return found


class Coverage:
    """Coverage counts, accumulated over any number of runs.

    Parameters
    ----------
    in_flight : int
        How many preceding commands an instruction may still overlap with (the default: three
        units with up to four commands each, `accel.control.dispatcher.Dispatcher`).

    Members
    -------
    executed, failed, discarded : Counter of instruction name
        ``failed`` counts illegal commands under ``".illegal"``.
    hazards : Counter of hazard kind
    hazard_by_instruction : Counter of (later instruction, hazard kind)
    hazard_pairs : Counter of (earlier instruction, later instruction, hazard kind)
    errors : Counter of cause name
    error_by_instruction : Counter of (cause name, instruction name or ``".illegal"``)
    """

    def __init__(self, in_flight: int = 12):
        self.in_flight = in_flight
        self.executed: Counter = Counter()
        self.failed: Counter = Counter()
        self.discarded: Counter = Counter()
        self.hazards: Counter = Counter()
        self.hazard_by_instruction: Counter = Counter()
        self.hazard_pairs: Counter = Counter()
        self.errors: Counter = Counter()
        self.error_by_instruction: Counter = Counter()

    # -- measuring ----------------------------------------------------------------------------

    def run(self, model: GoldenModel, programs: Iterable[Sequence[Command]]) -> None:
        """Execute ``programs`` back to back on ``model`` (which they change), recording."""
        window: deque[tuple[int, str, Footprint]] = deque()
        position = 0
        for program in programs:
            for cmd in program:
                self._step(model, cmd, position, window)
                position += 1

    def _step(self, model: GoldenModel, cmd: Command, position: int,
              window: deque) -> None:
        while window and window[0][0] < position - self.in_flight:
            window.popleft()
        try:
            ins, ops = decode(cmd)
            name = ins.name
        except IllegalInstruction:
            ins, ops, name = None, {}, ".illegal"
        if model.error != ErrorCause.NONE and name not in ALWAYS_EXECUTED:
            self.discarded[name] += 1
            model.execute(cmd)
            return
        fp = footprint(model, name, ops) if ins is not None else None
        try:
            model.execute(cmd)
        except BufferRecordError as exc:   # EXEC_BUFFER ran; one of its records failed
            self.executed[name] += 1
            self.errors[exc.cause.name] += 1
            self.error_by_instruction[(exc.cause.name, f"{name} record")] += 1
            return
        except AccelError as exc:
            self.failed[name] += 1
            self.errors[exc.cause.name] += 1
            self.error_by_instruction[(exc.cause.name, name)] += 1
            return
        self.executed[name] += 1
        if name in BARRIERS:
            window.clear()
            return
        for _, earlier_name, earlier in window:
            for hazard in _hazards(earlier, fp):
                self.hazards[hazard] += 1
                self.hazard_by_instruction[(name, hazard)] += 1
                self.hazard_pairs[(earlier_name, name, hazard)] += 1
        window.append((position, name, fp))

    def merge(self, other: "Coverage") -> None:
        """Add ``other``'s counts to these."""
        for attr in ("executed", "failed", "discarded", "hazards", "hazard_by_instruction",
                     "hazard_pairs", "errors", "error_by_instruction"):
            getattr(self, attr).update(getattr(other, attr))

    # -- reporting ----------------------------------------------------------------------------

    @staticmethod
    def goals() -> dict[str, list[str]]:
        """Everything that should be hit: instruction names, hazard kinds, cause names."""
        return {"instructions": [ins.name for ins in INSTRUCTIONS], "hazards": list(HAZARDS),
                "errors": [c.name for c in ErrorCause if c != ErrorCause.NONE]}

    def missing(self) -> dict[str, list[str]]:
        """The goals not hit yet, per category."""
        hit = {"instructions": self.executed, "hazards": self.hazards, "errors": self.errors}
        return {kind: [name for name in names if not hit[kind][name]]
                for kind, names in self.goals().items()}

    def complete(self) -> bool:
        return not any(self.missing().values())

    def summary_line(self) -> str:
        goals, missing = self.goals(), self.missing()
        parts = [f"{len(goals[k]) - len(missing[k])}/{len(goals[k])} {label}"
                 for k, label in (("instructions", "instruction kinds"),
                                  ("hazards", "hazard kinds"), ("errors", "error causes"))]
        return "coverage: " + ", ".join(parts)

    def table(self) -> str:
        """The compact report: one row per instruction (runs, hazards as the later instruction
        of the pair, failures), one per error cause, and what was missed."""
        width = max(len(n) for n in [*self.goals()["instructions"], ".illegal"])
        heads = ["run"] + [h.replace(" ", ".") for h in HAZARDS] + ["fail", "disc"]
        lines = [self.summary_line(),
                 f"{'instruction':<{width}} " + " ".join(f"{h:>7}" for h in heads)]
        for name in [*self.goals()["instructions"], ".illegal"]:
            cells = [self.executed[name]] + [self.hazard_by_instruction[(name, h)]
                                             for h in HAZARDS]
            cells += [self.failed[name], self.discarded[name]]
            lines.append(f"{name:<{width}} " + " ".join(f"{c or '-':>7}" for c in cells))
        lines.append(f"{'hazards':<{width}} {'':>7} "
                     + " ".join(f"{self.hazards[h] or '-':>7}" for h in HAZARDS))
        causes = self.goals()["errors"]
        cause_width = max(len(c) for c in causes) + len("error ")
        for cause in causes:
            sources = sorted(((n, i) for (c, i), n in self.error_by_instruction.items()
                              if c == cause), reverse=True)
            detail = ", ".join(f"{i} {n}" for n, i in sources[:4])
            lines.append(f"{'error ' + cause:<{max(width, cause_width)}} "
                         f"{self.errors[cause] or '-':>7}  {detail}".rstrip())
        missing = {k: v for k, v in self.missing().items() if v}
        lines.append("missing: " + ("; ".join(f"{k}: {', '.join(v)}" for k, v in
                                              missing.items()) if missing else "nothing"))
        return "\n".join(lines)

    def to_dict(self) -> dict:
        """Every count, JSON-ready (pairs joined with ``" -> "`` / ``" @ "``)."""
        return {
            "in_flight": self.in_flight,
            "goals": self.goals(),
            "missing": self.missing(),
            "executed": dict(self.executed), "failed": dict(self.failed),
            "discarded": dict(self.discarded), "hazards": dict(self.hazards),
            "hazard_by_instruction": {f"{i} @ {h}": n
                                      for (i, h), n in self.hazard_by_instruction.items()},
            "hazard_pairs": {f"{a} -> {b} @ {h}": n for (a, b, h), n in
                             self.hazard_pairs.items()},
            "errors": dict(self.errors),
            "error_by_instruction": {f"{c} @ {i}": n
                                     for (c, i), n in self.error_by_instruction.items()},
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n"
