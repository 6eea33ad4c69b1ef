"""``accelgen predict``: the cycle model from the command line (GEMM, network, assembly)."""

import json

import pytest

from accel.config import AccelConfig
from accel.isa import disassemble
from accel.nn.compiler import compile_network
from accel.nn.model_file import load_default
from accel.perf import predict_matmul, predict_network, predict_program
from accel.compiler.tiler import Requant, plan_matmul
from accel.perf.bound import gemm_bound, network_bound
from tests.support.cli import run_cli, write_config

CONFIG = AccelConfig(rows=4, cols=4, dataflow="os", sp_kib=1, acc_kib=1, sp_banks=1,
                     acc_banks=1)


_run = run_cli


@pytest.fixture()
def config_file(tmp_path):
    return write_config(tmp_path, CONFIG)


def test_gemm_prints_and_writes_the_model_figures(tmp_path, config_file):
    out = tmp_path / "gemm.json"
    result = _run("predict", "--config", config_file, "--gemm", "33x17x9", "--bias",
                  "--requant", "--json", out)
    assert result.exit_code == 0, result.output
    expected = predict_matmul(CONFIG, 33, 17, 9, bias=True, requant=Requant())
    lines = result.output.splitlines()
    assert lines[0] == "accelgen predict: 4x4 os, bus 32 bits"
    assert lines[1] == "GEMM 33x17 @ 17x9 + bias -> requant"
    assert f"cycles      {expected.cycles:>12,}" in lines
    physical = gemm_bound(CONFIG, 33, 17, 9, bias=True, requant=Requant())
    assert any(line.startswith(f"bound       {physical.cycles:>12,}") for line in lines)
    assert any(line.startswith(f"program-traffic bound {expected.bound:,}") for line in lines)
    assert any(line.startswith("breakdown   load ") for line in lines)
    saved = json.loads(out.read_text())
    assert saved["cycles"] == expected.cycles and saved["bound"] == physical.cycles
    assert saved["program_bound"] == expected.bound
    assert saved["gemm"] == [33, 17, 9] and saved["config"] == CONFIG.to_dict()
    assert saved["breakdown"] == expected.breakdown


def test_flags_override_the_configuration(config_file):
    result = _run("predict", "--config", config_file, "--dataflow", "ws", "--gemm", "8x8x8")
    assert result.exit_code == 0, result.output
    ws = CONFIG.replace(dataflow="ws")
    assert f"cycles      {predict_matmul(ws, 8, 8, 8).cycles:>12,}" in result.output


@pytest.mark.parametrize("model", ["cnn", "mlp"])
def test_network_prints_a_row_per_step_and_the_total(tmp_path, config_file, model):
    out = tmp_path / "net.json"
    result = _run("predict", "--config", config_file, "--model", model, "--json", out)
    assert result.exit_code == 0, result.output
    expected = predict_network(CONFIG, compile_network(load_default(model), CONFIG))
    lines = result.output.splitlines()
    for layer in expected.layers:
        assert any(line.startswith(layer.name) and f" {layer.cycles:,}" in line
                   for line in lines), layer.name
    assert lines[-2].startswith("total") and f" {expected.cycles:,} " in lines[-2]
    bound = network_bound(CONFIG, load_default(model))
    assert f" {bound.cycles:,} " in lines[-2] and f" {expected.bound:,}" in lines[-2]
    assert lines[-1].startswith(f"bound = max(MACs/PEs {bound.compute:,}, ")
    saved = json.loads(out.read_text())
    assert saved["cycles"] == expected.cycles
    assert saved["bound"] == bound.cycles and saved["program_bound"] == expected.bound
    assert [step["name"] for step in saved["layers"]] == [l.name for l in expected.layers]


def test_assembly_program(tmp_path, config_file):
    program = plan_matmul(CONFIG, 9, 10, 11).program
    source = tmp_path / "prog.s"
    source.write_text(disassemble(program))
    result = _run("predict", "--config", config_file, "--asm", source)
    assert result.exit_code == 0, result.output
    assert f"cycles      {predict_program(CONFIG, program).cycles:>12,}" in result.output


@pytest.mark.parametrize("args, message", [
    ([], "Error: give exactly one of --gemm, --model and --asm"),
    (["--gemm", "2x2x2", "--model", "cnn"],
     "Error: give exactly one of --gemm, --model and --asm (not --gemm and --model)"),
    (["--gemm", "3x4"], "Error: --gemm must be MxKxN with positive integers, e.g. 64x64x64, "
                        "not '3x4'"),
    (["--gemm", "0x4x4"], "Error: --gemm must be MxKxN"),
    (["--model", "cnn", "--bias"], "Error: --bias and --requant apply to --gemm only"),
    (["--model", "nosuch.npz"],
     "Error: no model 'nosuch.npz': give a model file (.npz) or one of cnn, mlp"),
    (["--asm", "nosuch.s"], "Error: cannot read 'nosuch.s'"),
    (["--rows", "0", "--gemm", "2x2x2"], "Error: --rows must be an integer between 1 and 128"),
    (["--gemm", "100000x4x4", "--input-width", "16", "--acc-width", "64"], None),
])
def test_bad_input_is_one_error_line(args, message, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = _run("predict", "--rows", "4", "--cols", "4", *args)
    if message is None:     # a valid but large request still works
        assert result.exit_code == 0, result.output
        return
    assert result.exit_code == 2, result.output
    assert len(result.output.strip().splitlines()) == 1, result.output
    assert result.output.startswith(message), result.output


def test_bad_assembly_is_one_error_line(tmp_path):
    source = tmp_path / "bad.s"
    source.write_text("load_sp 1, 2\nnot_an_instruction\n")
    result = _run("predict", "--rows", "4", "--cols", "4", "--asm", source)
    assert result.exit_code == 2
    assert result.output.startswith(f"Error: {source}: line 1: ")
    assert len(result.output.strip().splitlines()) == 1
