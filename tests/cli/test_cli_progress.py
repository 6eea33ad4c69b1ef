"""Progress on the RTL paths: what is built and where it is cached (or that the cache served
it), then one line per batch or per simulator run; all on stderr, so stdout and ``--json`` stay
clean."""

import json
import re

import pytest

from accel.util.cache import CACHE_ENV
from accel.config import AccelConfig
from accel.nn.model_file import save
from tests.support.cli import run_cli, write_config
from tests.support.nets import random_mlp

pytestmark = pytest.mark.rtl

#: Small memories keep every simulator run short (Icarus spends ~30 s per run initializing the
#: default 64 KiB memories).
SMALL = AccelConfig(rows=2, cols=2, sp_kib=1, acc_kib=1, sp_banks=1, acc_banks=1)
#: The networks' configuration: their tiles need the default memories.
NETWORK = AccelConfig(rows=2, cols=2)
_BUILDING = re.compile(r"^accelgen: building Icarus model of accel-2x2-ws-\w+ \(cached in (.+)\)$",
                       re.M)
_CACHED = re.compile(r"^accelgen: using cached Icarus model of accel-2x2-ws-\w+ in (.+)$", re.M)


@pytest.fixture()
def fresh_cache(tmp_path, monkeypatch):
    """An empty cache root, so the first simulation really builds."""
    root = tmp_path / "cache"
    monkeypatch.setenv(CACHE_ENV, str(root))
    return root


def test_matmul_says_what_it_builds_and_then_uses_the_cache(tmp_path, fresh_cache):
    args = ("matmul", "--config", write_config(tmp_path, SMALL), "--m", 2, "--k", 3, "--n", 2,
            "--backend", "rtl", "--simulator", "icarus", "--json", tmp_path / "out.json")
    first = run_cli(*args)
    assert first.exit_code == 0, first.output
    built = _BUILDING.findall(first.stderr)
    assert len(built) == 1 and built[0].startswith(str(fresh_cache / "simulator")), first.stderr
    assert re.search(r"^accelgen: built Icarus model of accel-2x2-ws-\w+ in \d+ s$",
                     first.stderr, re.M), first.stderr
    assert not _CACHED.search(first.stderr)
    assert "accelgen:" not in first.stdout
    assert json.loads((tmp_path / "out.json").read_text())["matches"] is True

    second = run_cli(*args)
    assert second.exit_code == 0, second.output
    assert _CACHED.findall(second.stderr) == built
    assert not _BUILDING.search(second.stderr)


def test_sim_random_reports_every_batch(tmp_path):
    result = run_cli("sim", "random", "--config", write_config(tmp_path, SMALL), "--programs", 5,
                     "--batch", 2, "--simulator", "icarus")
    assert result.exit_code == 0, result.output
    lines = [line for line in result.stderr.splitlines()
             if line.startswith("accelgen: programs ")]
    assert lines == ["accelgen: programs 2/5", "accelgen: programs 4/5", "accelgen: programs 5/5"]
    assert _BUILDING.search(result.stderr) or _CACHED.search(result.stderr), result.stderr
    assert "accelgen:" not in result.stdout


def test_the_golden_backend_builds_nothing(tmp_path):
    result = run_cli("matmul", "--config", write_config(tmp_path, SMALL), "--m", 2, "--k", 3,
                     "--n", 2)
    assert result.exit_code == 0, result.output
    assert "model of" not in result.stderr


@pytest.mark.slow
def test_mnist_eval_rtl_reports_images_per_simulator_run(tmp_path):
    model = tmp_path / "tiny.npz"
    save(random_mlp(seed=3, hidden=4), model)
    result = run_cli("mnist", "eval", "--model", model, "--backend", "rtl", "--simulator",
                     "icarus", "--images", 1, "--config", write_config(tmp_path, NETWORK),
                     "--json", tmp_path / "eval.json")
    assert result.exit_code == 0, result.output
    assert "accelgen: images 1/1" in result.stderr.splitlines()
    assert _BUILDING.search(result.stderr) or _CACHED.search(result.stderr), result.stderr
    assert "accelgen:" not in result.stdout
    assert json.loads((tmp_path / "eval.json").read_text())["agree"] == 1
