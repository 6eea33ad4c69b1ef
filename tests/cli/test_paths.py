"""`accel.cli.paths`: output paths are tried, not guessed, and the trial leaves no trace."""

import os
from pathlib import Path

import click
import pytest

from accel.cli.paths import OutputDir, OutputFile, require_output_dir, why_not_writable


def _tree(root):
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


def test_writable_places_pass_and_leave_nothing_behind(tmp_path):
    (tmp_path / "existing").mkdir()
    for place in (tmp_path, tmp_path / "existing", tmp_path / "new", tmp_path / "new" / "deeper"):
        assert why_not_writable(place) is None
    assert _tree(tmp_path) == ["existing"]


def test_a_file_in_the_way_is_named(tmp_path):
    (tmp_path / "taken").write_text("x")
    for place in (tmp_path / "taken", tmp_path / "taken" / "sub", tmp_path / "taken" / "a" / "b"):
        assert why_not_writable(place) == f"{str(tmp_path / 'taken')!r} is not a directory"


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs Linux /proc")
def test_a_read_only_file_system_is_refused_even_for_root():
    problem = why_not_writable(Path("/proc/accelgen-test"))
    assert problem is not None and problem.startswith("cannot write in '/proc'")


def _convert(kind, value):
    @click.command()
    @click.option("--path", type=kind)
    def command(path):
        click.echo(repr(path))

    return command.main(["--path", value], standalone_mode=False)


@pytest.mark.parametrize("kind", [OutputDir(), OutputFile()])
def test_empty_is_refused(kind):
    with pytest.raises(click.BadParameter, match="must not be empty"):
        _convert(kind, "")


def test_types_refuse_what_the_other_kind_is(tmp_path):
    (tmp_path / "file").write_text("x")
    (tmp_path / "dir").mkdir()
    with pytest.raises(click.BadParameter, match="is a file"):
        _convert(OutputDir(), str(tmp_path / "file"))
    with pytest.raises(click.BadParameter, match="is a directory"):
        _convert(OutputFile(), str(tmp_path / "dir"))
    with pytest.raises(click.BadParameter, match="is not a directory"):
        _convert(OutputFile(), str(tmp_path / "file" / "x.json"))
    assert _tree(tmp_path) == ["dir", "file"]


def test_require_output_dir_is_a_usage_error(tmp_path):
    (tmp_path / "file").write_text("x")
    require_output_dir(tmp_path / "new", "--out")
    with pytest.raises(click.UsageError, match=r"cannot write --out '.*file/b': .* is not a"):
        require_output_dir(tmp_path / "file" / "b", "--out")
    assert _tree(tmp_path) == ["file"]
