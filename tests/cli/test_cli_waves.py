"""``--waves fst|vcd`` on ``matmul``, ``sim random``, ``fuzz --replay`` and ``mnist eval``: the
trace is written, is really a VCD or an FST, and its path is printed; bad uses exit 2."""

import json
import re
from pathlib import Path

import pytest

from accel.config import AccelConfig
from accel.isa import encode
from accel.nn.model_file import save
from accel.runtime.rtl import BusModel
from accel.verify.fuzz import MemoryImage, Reproducer
from tests.support.cli import run_cli, write_config
from tests.support.nets import random_mlp
from tests.support.waves import assert_fst, assert_waveform, read_vcd

#: Small memories keep every simulator run short (Icarus spends ~30 s per run initializing the
#: default 64 KiB memories).
SMALL = AccelConfig(rows=2, cols=2, sp_kib=1, acc_kib=1, sp_banks=1, acc_banks=1)
#: The networks' configuration: their tiles need the default memories.
NETWORK = AccelConfig(rows=2, cols=2)
_WAVEFORM = re.compile(r"^accelgen: waveform in (.+)$", re.M)


def _traces(result) -> list[Path]:
    """The waveform files the command says it wrote (on stderr, never on stdout)."""
    assert not _WAVEFORM.search(result.stdout), result.stdout
    return [Path(path) for path in _WAVEFORM.findall(result.stderr)]


@pytest.mark.parametrize("command", [
    ["matmul", "--backend", "rtl"],
    ["sim", "random"],
    ["fuzz", "--replay", "x.json"],
    ["mnist", "eval", "--backend", "rtl"],
])
@pytest.mark.parametrize("value", ["lxt", "FST", ""])
def test_a_bad_waves_value_exits_2(command, value):
    result = run_cli(*command, "--waves", value)
    assert result.exit_code == 2, result.output
    assert result.output.strip().splitlines() == [
        f"Error: Invalid value for '--waves': '{value}' is not one of 'fst', 'vcd'."]


@pytest.mark.parametrize("args, message", [
    (["matmul", "--waves", "vcd"], "Error: --waves needs --backend rtl"),
    (["mnist", "eval", "--waves", "fst"], "Error: --waves needs --backend rtl or soc"),
    (["fuzz", "--waves", "fst"], "Error: --waves records a --replay run: give --replay FILE"),
    (["matmul", "--backend", "rtl", "--waves-file", "trace.txt"],
     "Error: --waves-file 'trace.txt': name a .fst or .vcd file, or give --waves fst|vcd"),
    (["matmul", "--backend", "rtl", "--waves", "vcd", "--waves-file", "trace.fst"],
     "Error: --waves vcd does not match --waves-file 'trace.fst'"),
])
def test_waves_misuse_is_one_line_exit_2(tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    result = run_cli(*args)
    assert result.exit_code == 2, result.output
    assert result.output.strip().splitlines() == [message]
    assert not list(tmp_path.iterdir())


def test_waves_file_in_a_file_is_refused_before_any_work(tmp_path):
    (tmp_path / "plain").write_text("")
    result = run_cli("matmul", "--backend", "rtl", "--waves", "vcd", "--waves-file",
                     tmp_path / "plain" / "trace.vcd")
    assert result.exit_code == 2, result.output
    assert result.output.startswith("Error: Invalid value for '--waves-file'")
    assert "accelgen: " not in result.output  # nothing was emitted or built


@pytest.mark.rtl
def test_matmul_on_icarus_writes_the_named_vcd(tmp_path):
    path = tmp_path / "gemm.vcd"
    result = run_cli("matmul", "--config", write_config(tmp_path, SMALL), "--m", 3, "--k", 4,
                     "--n", 5, "--backend", "rtl", "--simulator", "icarus", "--waves-file", path)
    assert result.exit_code == 0, result.output
    assert "result       matches NumPy" in result.stdout
    assert _traces(result) == [path]
    timescale, values = read_vcd(path)
    assert timescale in ("1ps", "1 ps")
    assert_waveform(path, "vcd", "clk", 2)
    # the accelerator took commands: the bench's command valid went high at some time
    assert any(name.endswith("valid") and 1 in seen for name, seen in values.items())


@pytest.mark.rtl
@pytest.mark.slow
def test_matmul_on_verilator_writes_fst_into_the_cache_by_default(tmp_path):
    from accel.util.cache import kind_dir

    result = run_cli("matmul", "--config", write_config(tmp_path, SMALL), "--m", 3, "--k", 4,
                     "--n", 5, "--backend", "rtl", "--waves", "fst", "--json",
                     tmp_path / "out.json")
    assert result.exit_code == 0, result.output
    assert _traces(result) == [kind_dir("runs") / "matmul.fst"]
    assert assert_fst(kind_dir("runs") / "matmul.fst") > 0
    assert json.loads((tmp_path / "out.json").read_text())["matches"] is True


@pytest.mark.rtl
def test_sim_random_writes_one_fst_per_batch(tmp_path):
    path = tmp_path / "random.fst"
    result = run_cli("sim", "random", "--config", write_config(tmp_path, SMALL), "--programs", 4,
                     "--batch", 2, "--simulator", "icarus", "--waves", "fst", "--waves-file",
                     path)
    assert result.exit_code == 0, result.output
    assert "mismatches 0" in result.stdout
    assert _traces(result) == [path, tmp_path / "random-2.fst"]
    for trace in _traces(result):
        assert assert_fst(trace) > 0


def _reproducer(tmp_path, commands):
    memory = MemoryImage(4096, seed=5)
    return Reproducer(SMALL, memory, BusModel(stall_prob=0.2, max_wait=2, seed=3), [commands],
                      note="written by hand").save(tmp_path / "case.json")


@pytest.mark.rtl
def test_fuzz_replay_writes_vcd(tmp_path):
    path = _reproducer(tmp_path, [encode("config_load", stride=2),
                                  encode("load_sp", mem_addr=64, sp_addr=0, rows=2, cols=2),
                                  encode("fence"), encode("status")])
    result = run_cli("fuzz", "--replay", path, "--simulator", "icarus", "--waves", "vcd",
                     "--waves-file", tmp_path / "replay.vcd")
    assert result.exit_code == 0, result.output
    assert "replay: passes, no mismatch" in result.stdout
    assert _traces(result) == [tmp_path / "replay.vcd"]
    assert_waveform(tmp_path / "replay.vcd", "vcd", "clk", 2)


@pytest.mark.rtl
@pytest.mark.slow
def test_a_failing_replay_still_writes_its_waveform(tmp_path):
    # a store past the bench's 4 KiB memory: the golden model refuses it, the bus errs
    path = _reproducer(tmp_path, [encode("store_sp", mem_addr=8192, sp_addr=0, rows=1, cols=2),
                                  encode("fence"), encode("status")])
    result = run_cli("fuzz", "--replay", path, "--simulator", "icarus", "--waves", "vcd",
                     "--waves-file", tmp_path / "fail.vcd")
    assert result.exit_code == 1, result.output
    assert _traces(result) == [tmp_path / "fail.vcd"]
    assert_waveform(tmp_path / "fail.vcd", "vcd", "clk", 2)


@pytest.fixture()
def tiny_model(tmp_path):
    path = tmp_path / "tiny.npz"
    save(random_mlp(seed=3, hidden=4), path)
    return path


@pytest.mark.rtl
@pytest.mark.slow
def test_mnist_eval_rtl_writes_vcd(tmp_path, tiny_model):
    path = tmp_path / "mnist.vcd"
    result = run_cli("mnist", "eval", "--model", tiny_model, "--backend", "rtl", "--simulator",
                     "icarus", "--images", 1, "--config", write_config(tmp_path, NETWORK),
                     "--waves-file", path)
    assert result.exit_code == 0, result.output
    assert "identical logits to the golden model: 1/1" in result.stdout
    assert _traces(result) == [path]
    assert_waveform(path, "vcd", "clk", 2)
    path.unlink()  # tens of MB


@pytest.mark.rtl
@pytest.mark.soc
@pytest.mark.slow
def test_mnist_eval_soc_on_verilator_writes_vcd(tmp_path, tiny_model):
    from tests.support.configs import SOC_TEST_CONFIG
    from tests.support.riscv import require_toolchain

    require_toolchain()
    path = tmp_path / "soc.vcd"
    result = run_cli("mnist", "eval", "--model", tiny_model, "--backend", "soc", "--images", 1,
                     "--config", write_config(tmp_path, SOC_TEST_CONFIG), "--waves-file", path)
    assert result.exit_code == 0, result.output
    assert "identical logits to the golden model: 1/1" in result.stdout
    assert _traces(result) == [path]
    # PicoRV32 fetched instructions: its memory valid toggled many times
    assert_waveform(path, "vcd", "clk", 2)
    _, values = read_vcd(path)
    assert any(name.endswith("mem_valid") and values[name].count(1) > 10 for name in values)
    path.unlink()  # hundreds of MB
