"""Reproducers: everything needed to re-run a fuzz failure on the RTL, in one JSON file.

A reproducer holds the configuration, the initial main memory (a seed, or the bytes), the bus
model (stalls, wait states, command gaps, back-pressure, error windows, its seed), the programs
as assembler text (`accel.isa.assembler`; ``.raw`` lines for illegal commands) and how they run:
``isolate`` true (each program from a fresh accelerator, how minimized reproducers run) or false
(back to back, as in a fuzz batch). The simulation is deterministic, so a replay sees the same
cycles as the run that produced the file. ``failure`` records the mismatches seen then.
"""

from __future__ import annotations

import base64
import json
import random
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from accel.config import AccelConfig, ConfigError
from accel.isa.assembler import AssemblyError, assemble, disassemble
from accel.isa.encoding import Command
from accel.isa.spec import ISA_VERSION
from accel.runtime.rtl import BusModel, Program, RunResult, Waves, run_programs
from accel.verify.fuzz.reference import BusFaultModel

__all__ = ["FORMAT", "MemoryImage", "Reproducer", "ReproducerError", "programs_text"]

FORMAT = "accelgen-fuzz-reproducer"
VERSION = 1


class ReproducerError(ValueError):
    """A reproducer file cannot be read; the message is one line naming the file."""


@dataclass(frozen=True)
class MemoryImage:
    """Initial main memory: ``size`` bytes from ``random.Random(seed).randbytes``, or ``data``."""

    size: int
    seed: int | None = None
    data: bytes | None = None

    def array(self) -> np.ndarray:
        """The bytes as a writable uint8 array."""
        raw = self.data if self.data is not None else random.Random(self.seed).randbytes(self.size)
        return np.frombuffer(raw, dtype=np.uint8).copy()

    def to_dict(self) -> dict[str, Any]:
        if self.data is not None:
            return {"size": self.size,
                    "zlib_base64": base64.b64encode(zlib.compress(self.data, 9)).decode()}
        return {"size": self.size, "seed": self.seed}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "MemoryImage":
        size = int(data["size"])
        if "seed" in data:
            return cls(size, seed=int(data["seed"]))
        raw = zlib.decompress(base64.b64decode(data["zlib_base64"]))
        if len(raw) != size:
            raise ValueError(f"memory image holds {len(raw)} bytes, not {size}")
        return cls(size, data=raw)


@dataclass
class Reproducer:
    """One failing (or formerly failing) experiment.

    Members
    -------
    config : AccelConfig
    memory : MemoryImage
    bus : accel.runtime.rtl.BusModel
    programs : list of list of Command
    isolate : bool
        Run each program from a fresh accelerator (`accel.runtime.rtl.run_programs`).
    failure : list of str
        Mismatches seen when the reproducer was made.
    note : str
        How it was made (e.g. "minimized from 214 commands").
    """

    config: AccelConfig
    memory: MemoryImage
    bus: BusModel
    programs: list[list[Command]]
    isolate: bool = True
    failure: list[str] = field(default_factory=list)
    note: str = ""

    @property
    def commands(self) -> int:
        return sum(len(p) for p in self.programs)

    def run(self, *, simulator: str = "verilator", reference: type = BusFaultModel,
            timeout_cycles: int = 1_000_000, waves: Waves | None = None) -> RunResult:
        """Run on the RTL, compared with ``reference``; mismatches are in the result.
        ``waves`` records the run's waveform (one simulator run: ``waves.written[0]``)."""
        return run_programs(self.config, self.memory.array(),
                            [Program(p) for p in self.programs], bus=self.bus,
                            simulator=simulator, isolate=self.isolate, reference=reference,
                            timeout_cycles=timeout_cycles, waves=waves)

    # -- files --------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        bus = self.bus
        return {
            "format": FORMAT, "version": VERSION, "isa_version": ISA_VERSION,
            "note": self.note,
            "config": self.config.to_dict(),
            "memory": self.memory.to_dict(),
            "bus": {"stall_prob": bus.stall_prob, "max_wait": bus.max_wait,
                    "cmd_gap_prob": bus.cmd_gap_prob, "resp_stall_prob": bus.resp_stall_prob,
                    "error_windows": [list(w) for w in bus.error_windows], "seed": bus.seed},
            "isolate": self.isolate,
            "programs": [disassemble(p).splitlines() for p in self.programs],
            "failure": list(self.failure),
        }

    def save(self, path: str | Path) -> Path:
        """Write the JSON file (creating its directory); return its path."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_dict(), indent=1) + "\n")
        return path

    @classmethod
    def from_dict(cls, data: Any) -> "Reproducer":
        """Build from `to_dict`'s form.

        Raises
        ------
        ValueError, KeyError, TypeError, ConfigError, AssemblyError
            When a part is missing or malformed (`load` turns these into `ReproducerError`).
        """
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ValueError(f"not an {FORMAT} file")
        if data.get("version") != VERSION:
            raise ValueError(f"format version {data.get('version')!r} is not {VERSION}")
        bus = data["bus"]
        return cls(
            config=AccelConfig.from_dict(data["config"]),
            memory=MemoryImage.from_dict(data["memory"]),
            bus=BusModel(stall_prob=float(bus["stall_prob"]), max_wait=int(bus["max_wait"]),
                         cmd_gap_prob=float(bus["cmd_gap_prob"]),
                         resp_stall_prob=float(bus["resp_stall_prob"]),
                         error_windows=tuple((int(lo), int(hi))
                                             for lo, hi in bus["error_windows"]),
                         seed=int(bus["seed"])),
            programs=[assemble("\n".join(lines)) for lines in data["programs"]],
            isolate=bool(data["isolate"]),
            failure=[str(line) for line in data.get("failure", [])],
            note=str(data.get("note", "")))

    @classmethod
    def load(cls, path: str | Path) -> "Reproducer":
        """Read a reproducer file.

        Raises
        ------
        ReproducerError
            One line naming the file and what is wrong.
        """
        path = Path(path)
        try:
            data = json.loads(path.read_text())
            return cls.from_dict(data)
        except OSError as exc:
            raise ReproducerError(f"cannot read reproducer {str(path)!r}: "
                                  f"{exc.strerror or exc}") from None
        except json.JSONDecodeError as exc:
            raise ReproducerError(f"reproducer {str(path)!r} is not valid JSON: {exc.msg} at "
                                  f"line {exc.lineno}") from None
        except KeyError as exc:
            raise ReproducerError(f"reproducer {str(path)!r} lacks {exc.args[0]!r}") from None
        except (ValueError, TypeError, ConfigError, AssemblyError, zlib.error) as exc:
            message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise ReproducerError(f"reproducer {str(path)!r}: {message}") from None


def programs_text(programs: Sequence[Sequence[Command]]) -> str:
    """The programs as assembler text, separated by comment lines."""
    return "\n".join(f"# program {i}\n{disassemble(p)}" for i, p in enumerate(programs))
