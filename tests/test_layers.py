"""The layers of `accel/`, checked: what may import what, and which code runs without Amaranth.

Every module of the package is read (not imported) with `ast`; every ``import`` counts, at module
level or inside a function. The layers, lowest first, by folder:

    base      the configuration, the ISA spec (`accel.isa` but its decoder) and the
              microarchitecture constants (`accel.arch`)
    model     the pure-Python models: golden model, cycle model, int8 network stack
    gateware  the Amaranth hardware
    tools     building, running and verifying it: `accel.build`, `accel.runtime`, `accel.verify`
    sweep     design-space sweeps
    cli       the command line, and `accel/__init__.py` (the public API, which re-exports tools)

A module imports its own layer and lower ones only. The base and model layers are "pure": nothing
they import, directly or through other modules, is Amaranth or gateware.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
ACCEL = REPO / "accel"

#: Layers, lowest first: name -> module prefixes (folders, or single modules). The longest
#: matching prefix decides, so `accel.isa.decoder` is gateware although `accel.isa` is base.
LAYERS: dict[str, tuple[str, ...]] = {
    "base": ("accel.config", "accel.isa", "accel.arch", "accel.util"),
    "model": ("accel.golden", "accel.perf", "accel.compiler", "accel.nn", "accel.frontend"),
    "gateware": ("accel.hdl", "accel.systolic", "accel.memory", "accel.control", "accel.bus",
                 "accel.soc", "accel.riscv_bridge", "accel.isa.decoder", "accel.accelerator"),
    "tools": ("accel.build", "accel.runtime", "accel.verify"),
    "sweep": ("accel.sweep",),
    "cli": ("accel.cli", "accel"),
}

LAYER_ORDER = tuple(LAYERS)
PURE_LAYERS = ("base", "model")

#: The only files allowed in the `accel/` root (everything else lives in a folder named for its
#: layer).
ROOT_FILES = {"__init__.py", "config.py", "accelerator.py"}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@cache
def modules() -> dict[str, Path]:
    """Every module of the repository's first-party packages that `accel` may import."""
    out = {}
    for top in ("accel", "sim", "boards", "bench"):
        for path in sorted((REPO / top).rglob("*.py")):
            out[_module_name(path)] = path
    return out


def layer_of(module: str) -> str | None:
    """The layer of an `accel` module (None outside `accel`)."""
    best, best_len = None, -1
    for layer, prefixes in LAYERS.items():
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best_len:
                best, best_len = layer, len(prefix)
    if module != "accel" and best_len == len("accel"):
        return None             # only the root package itself is the public API
    return best


@dataclass(frozen=True)
class Import:
    target: str         # the module imported (a submodule when ``from package import submodule``)
    line: int
    typing_only: bool   # under ``if TYPE_CHECKING:``
    names: tuple[str, ...] = ()     # the names of ``from target import names``


class _Imports(ast.NodeVisitor):
    def __init__(self, module: str, is_package: bool) -> None:
        self.package = module if is_package else module.rpartition(".")[0]
        self.found: list[Import] = []
        self._typing = 0

    def visit_If(self, node: ast.If) -> None:
        test = node.test
        typing = (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or \
            (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")
        self._typing += typing
        for child in node.body:
            self.visit(child)
        self._typing -= typing
        for child in node.orelse:
            self.visit(child)

    def _add(self, target: str, node: ast.stmt, names: tuple[str, ...] = ()) -> None:
        self.found.append(Import(target, node.lineno, self._typing > 0, names))

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._add(alias.name, node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level:
            base = self.package.split(".")
            base = base[:len(base) - node.level + 1]
            source = ".".join(base + ([node.module] if node.module else []))
        else:
            source = node.module or ""
        self._add(source, node, tuple(alias.name for alias in node.names))
        for alias in node.names:
            if f"{source}.{alias.name}" in modules():
                self._add(f"{source}.{alias.name}", node)


@cache
def imports_of(module: str) -> tuple[Import, ...]:
    path = modules()[module]
    visitor = _Imports(module, path.name == "__init__.py")
    visitor.visit(ast.parse(path.read_text(encoding="utf-8"), str(path)))
    return tuple(visitor.found)


def _parents(module: str) -> list[str]:
    """The packages Python imports first when importing ``module``, except the root `accel`
    package (the public API; `test_pure_modules_import_without_amaranth` runs it for real)."""
    parts = module.split(".")
    return [".".join(parts[:i]) for i in range(2, len(parts))]


@cache
def reach(module: str) -> dict[str, tuple[str, ...]]:
    """Every first-party module and third-party top-level package ``module`` may import, at
    module level or in a function, directly or transitively: name -> one import chain to it."""
    chains: dict[str, tuple[str, ...]] = {}
    todo = [(module, (module,))]
    while todo:
        current, chain = todo.pop()
        for imp in imports_of(current):
            if imp.typing_only:
                continue
            for target in [imp.target, *_parents(imp.target)]:
                name = target if target in modules() else target.split(".")[0]
                if name in chains or name == module:
                    continue
                chains[name] = chain + (name,)
                if name in modules():
                    todo.append((name, chains[name]))
    return chains


def pure_modules() -> list[str]:
    return [m for m in modules() if layer_of(m) in PURE_LAYERS]


def test_the_layer_table_covers_every_module():
    unplaced = [m for m in modules() if m.startswith("accel") and layer_of(m) is None]
    assert unplaced == []
    for folder in ("accel/golden", "accel/perf", "accel/compiler", "accel/nn", "accel/isa",
                   "accel/arch", "accel/util"):
        assert any(modules()[m].is_relative_to(REPO / folder) for m in pure_modules()), folder
    assert layer_of("accel.isa.decoder") == "gateware"
    assert layer_of("accel.config") == "base"


def _is_hardware(name: str) -> bool:
    return name == "amaranth" or layer_of(name) == "gateware"


@pytest.mark.parametrize("module", pure_modules())
def test_pure_module_reaches_no_amaranth_and_no_gateware(module):
    bad = {name: chain for name, chain in reach(module).items() if _is_hardware(name)}
    assert not bad, "\n".join(" -> ".join(chain) for chain in bad.values())


def _upward_imports() -> set[tuple[str, str, int]]:
    found = set()
    for module in modules():
        own = layer_of(module)
        if own is None:
            continue
        for imp in imports_of(module):
            if imp.target == "accel" and imp.names == ("__version__",):
                continue    # the root package is imported first by every `accel.*` import anyway
            target = imp.target if imp.target in modules() else None
            their = layer_of(target) if target else None
            if their is not None and LAYER_ORDER.index(their) > LAYER_ORDER.index(own):
                found.add((module, target, imp.line))
    return found


def test_imports_only_go_down():
    upward = _upward_imports()
    assert sorted(f"{m}:{line} imports {t} ({layer_of(m)} < {layer_of(t)})"
                  for m, t, line in upward) == []


def test_accel_root_holds_only_the_api_the_config_and_the_top():
    files = {p.name for p in ACCEL.iterdir() if p.is_file() and p.suffix == ".py"}
    assert files == ROOT_FILES
    stray = [p.name for p in ACCEL.iterdir()
             if p.is_file() and p.suffix not in (".py", ".typed") and p.name != ".gitignore"]
    assert stray == []


# -- for real: the pure code runs where Amaranth cannot be imported ------------------------------

#: Run first in the child: a meta-path finder that makes ``import amaranth`` fail.
_BLOCK_AMARANTH = """
import sys
class _NoAmaranth:
    def find_spec(self, name, path=None, target=None):
        if name == "amaranth" or name.startswith("amaranth."):
            raise ModuleNotFoundError(f"No module named {name!r} (blocked by the test)")
        return None
sys.meta_path.insert(0, _NoAmaranth())
"""


def _run_without_amaranth(code: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])]))
    return subprocess.run([sys.executable, "-c", _BLOCK_AMARANTH + code], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=300)


def test_the_blocker_blocks():
    result = _run_without_amaranth("import amaranth")
    assert result.returncode != 0
    assert "blocked by the test" in result.stderr


def test_pure_modules_import_without_amaranth():
    names = pure_modules()
    result = _run_without_amaranth(
        "import importlib, sys\n"
        f"for name in {names!r}:\n"
        "    importlib.import_module(name)\n"
        "assert not any(m == 'amaranth' or m.startswith('amaranth.') for m in sys.modules)\n"
        "print(len(" f"{names!r}" "))\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [str(len(names))]


def _predict(*args: str) -> subprocess.CompletedProcess:
    return _run_without_amaranth(
        "import sys\n"
        "from accel.cli import main\n"
        f"sys.argv = ['accelgen', 'predict', *{list(args)!r}]\n"
        "main()\n")


def test_predict_a_gemm_without_amaranth():
    result = _predict("--rows", "4", "--cols", "4", "--gemm", "16x16x16")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "accelgen predict: 4x4 ws, bus 32 bits"
    fields = dict(line.split(None, 1) for line in lines[2:] if line.strip())
    assert int(fields["MACs"].replace(",", "")) == 16 * 16 * 16
    assert int(fields["cycles"].replace(",", "")) >= 16 * 16 * 16 // 16


def test_predict_a_network_without_amaranth():
    result = _predict("--rows", "4", "--cols", "4", "--model", "cnn")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "accelgen predict: 4x4 ws, bus 32 bits"
    assert lines[1].startswith("network cnn: ")
    # step, commands, cycles, bound, % of bound, program-traffic bound; then the bound's terms
    steps = [line.split() for line in lines[3:-2]]
    total = lines[-2].split()
    assert total[0] == "total" and len(steps) >= 3
    assert lines[-1].startswith("bound = max(MACs/PEs ")
    assert any(step[0].startswith("conv2d") for step in steps)
    cycles = [int(step[-4].replace(",", "")) for step in steps]
    assert all(c > 0 for step, c in zip(steps, cycles) if "(host)" not in step)
    assert int(total[-4].replace(",", "")) == sum(cycles)
