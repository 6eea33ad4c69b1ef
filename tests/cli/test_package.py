"""The CLI package's structure: the group adds every command; commands import only downwards."""

import ast
from pathlib import Path

import click

import accel.cli
from accel.cli import main

CLI = Path(accel.cli.__file__).parent
SHARED = {"accel.cli.options"}
COMMAND_MODULES = sorted(p.stem for p in CLI.glob("*.py")
                         if p.stem not in {"__init__", "__main__", "options"})


def _imports(path: Path) -> set[str]:
    """Every module ``path`` imports (``from a import b`` yields a: b may be a name or a module,
    and either way the import reaches into a)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path.name}: relative import"
            found.add(node.module)
    return found


def test_command_modules_import_only_options_and_lower_layers():
    assert len(COMMAND_MODULES) >= 10
    for name in COMMAND_MODULES:
        cli_imports = {m for m in _imports(CLI / f"{name}.py")
                       if m == "accel.cli" or m.startswith("accel.cli.")}
        assert cli_imports <= SHARED, f"accel/cli/{name}.py imports {cli_imports - SHARED}"


def test_options_module_imports_no_command():
    cli_imports = {m for m in _imports(CLI / "options.py") if m.startswith("accel.cli")}
    assert cli_imports == set()


def test_every_command_module_is_added_to_the_group():
    added = {command.callback.__module__ for command in main.commands.values()}
    assert added == {f"accel.cli.{name}" for name in COMMAND_MODULES}
    assert set(main.commands) == {"board", "build", "firmware", "fuzz", "isa", "matmul", "mnist",
                                  "predict", "sim", "sweep"}


def test_modules_keep_their_names():
    import accel.cli.build

    assert isinstance(accel.cli.build.build, click.Command)
    assert accel.cli.build.__name__ == "accel.cli.build"
