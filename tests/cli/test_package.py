"""The CLI package's structure: the group adds every command; commands import only downwards.

A command module defines a command or group of `accelgen`; a shared module (`accel.cli.options`
and the like) defines none. Command modules import shared modules and the `accel` layers below,
never `accel.cli` (the group) nor each other; shared modules import no command module.
"""

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import click

import accel.cli
from accel.cli import main

CLI = Path(accel.cli.__file__).parent
MODULES = sorted(p.stem for p in CLI.glob("*.py") if p.stem not in {"__init__", "__main__"})


def _commands_defined(name: str) -> list[click.Command]:
    module = importlib.import_module(f"accel.cli.{name}")
    return [value for value in vars(module).values()
            if isinstance(value, click.Command) and value.callback is not None
            and value.callback.__module__ == module.__name__]


COMMAND_MODULES = [name for name in MODULES if _commands_defined(name)]
SHARED_MODULES = [name for name in MODULES if name not in COMMAND_MODULES]


def _cli_imports(name: str) -> set[str]:
    """The `accel.cli` modules ``accel/cli/<name>.py`` imports (``from a import b`` counts as a:
    b may be a name or a module, and either way the import reaches into a)."""
    found = set()
    for node in ast.walk(ast.parse((CLI / f"{name}.py").read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"accel/cli/{name}.py: relative import"
            found.add(node.module)
    return {m for m in found if m == "accel.cli" or m.startswith("accel.cli.")}


def test_the_split_is_as_expected():
    assert {"board", "build", "firmware", "fuzz", "isa", "matmul", "mnist", "predict", "sim",
            "sweep"} <= set(COMMAND_MODULES)
    assert "options" in SHARED_MODULES


def test_command_modules_import_only_shared_modules():
    shared = {f"accel.cli.{name}" for name in SHARED_MODULES}
    for name in COMMAND_MODULES:
        imports = _cli_imports(name)
        assert imports <= shared, f"accel/cli/{name}.py imports {sorted(imports - shared)}"


def test_shared_modules_import_no_command_module():
    commands = {"accel.cli"} | {f"accel.cli.{name}" for name in COMMAND_MODULES}
    for name in SHARED_MODULES:
        imports = _cli_imports(name)
        assert not imports & commands, f"accel/cli/{name}.py imports {sorted(imports & commands)}"


def test_every_command_module_is_added_to_the_group():
    added = set(main.commands.values())
    for name in COMMAND_MODULES:
        top = [c for c in _commands_defined(name)
               if not any(c in getattr(g, "commands", {}).values()
                          for g in _commands_defined(name))]
        assert top and set(top) <= added, f"accel/cli/{name}.py: {top} not added to main"


def test_modules_keep_their_names():
    import accel.cli.build

    assert isinstance(accel.cli.build.build, click.Command)
    assert accel.cli.build.__name__ == "accel.cli.build"


def test_python_dash_m_runs_the_group():
    from accel import __version__

    done = subprocess.run([sys.executable, "-m", "accel.cli", "--version"], capture_output=True,
                          text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"accelgen, version {__version__}"
