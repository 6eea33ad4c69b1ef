"""``--timeline FILE.png``: the commands draw where the cycles go, or refuse in one line."""

import pytest

from accel.config import AccelConfig
from tests.support.cli import run_cli, write_config

CONFIG = AccelConfig(rows=3, cols=5, sp_kib=1, acc_kib=1, sp_banks=1, acc_banks=1)


@pytest.fixture()
def config_file(tmp_path):
    return write_config(tmp_path, CONFIG)


def _check_png(path):
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000


@pytest.mark.parametrize("workload", [("--gemm", "9x17x5", "--bias"), ("--model", "mlp")])
def test_predict_draws_the_cycle_model(tmp_path, config_file, workload):
    out = tmp_path / "t.png"
    result = run_cli("predict", "--config", config_file, *workload, "--timeline", out)
    assert result.exit_code == 0, result.output
    _check_png(out)
    assert f"accelgen: timeline in {out}" in result.output


@pytest.mark.parametrize("command", [("matmul", "--m", "4", "--k", "4", "--n", "4"),
                                     ("mnist", "eval", "--images", "1")])
def test_the_golden_backend_is_refused(tmp_path, command):
    result = run_cli(*command, "--timeline", tmp_path / "t.png")
    assert result.exit_code == 2
    assert "--timeline needs --backend rtl" in result.output
    assert not (tmp_path / "t.png").exists()


def test_an_unwritable_file_is_one_line(tmp_path, config_file):
    (tmp_path / "file").write_text("")
    result = run_cli("predict", "--config", config_file, "--gemm", "4x4x4", "--timeline",
                     tmp_path / "file" / "t.png")
    assert result.exit_code == 2
    assert "Invalid value for '--timeline'" in result.output
    assert "is not a directory" in result.output


def test_a_write_failure_is_one_line(tmp_path):
    import click

    from accel.cli.timeline import write_timeline
    from accel.perf.timeline import matmul_timeline

    timeline, _ = matmul_timeline(CONFIG, 2, 2, 2)
    with pytest.raises(click.ClickException, match=r"^cannot write '.*': Is a directory$"):
        write_timeline(tmp_path, timeline, CONFIG)
