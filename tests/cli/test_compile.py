"""``accelgen compile`` and ``accelgen run``: bring your own model from the command line."""

from __future__ import annotations

import json

import numpy as np
import onnx
import pytest

from accel.compiler.graph_file import load_graph
from accel.isa.assembler import assemble
from accel.nn.model_file import load_default
from accel.nn.network import reference
from accel.runtime.soc_image import BLOB_MAGIC, BLOB_VERSION
from tests.frontend.cases import classifier
from tests.frontend.models import quantize
from tests.support.cli import run_cli


@pytest.fixture(scope="module")
def qoperator_file(tmp_path_factory):
    net, out = classifier()
    path = tmp_path_factory.mktemp("onnx") / "classifier.onnx"
    onnx.save(quantize(net.model(out), "qoperator"), path)
    return path


def test_compile_prints_the_table_and_writes_the_artifacts(tmp_path, qoperator_file):
    out = tmp_path / "out"
    result = run_cli("compile", qoperator_file, "--rows", "4", "--cols", "4", "--no-soc",
                     "--out", out, "--json", tmp_path / "t.json")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("classifier: 2 layers") and "on 4x4 ws" in lines[0]
    rows = [line.split() for line in lines[2:-2]]
    assert [row[1] for row in rows] == ["copy", "Conv2D", "Dense"]  # the padded input's copy
    assert rows[1][2] == "4x4x4" and rows[1][5] == "accel"
    assert sorted(p.name for p in out.iterdir()) == ["accelgen.h", "classifier.npz",
                                                      "classifier.s"]
    graph = load_graph(out / "classifier.npz")
    assert graph.metadata["form"] == "qoperator" and graph.postprocess == "softmax"
    program = [line for line in (out / "classifier.s").read_text().splitlines()
               if line and not line.startswith("#")]
    assert assemble("\n".join(program))[-1].funct7 == assemble("fence")[0].funct7
    table = json.loads((tmp_path / "t.json").read_text())
    assert [row["op"] for row in table["layers"]] == ["copy", "Conv2D", "Dense"]


@pytest.mark.soc  # riscv64-unknown-elf-gcc builds the firmware the blob sits above
def test_compile_writes_the_soc_blob(tmp_path):
    result = run_cli("compile", "cnn", "--rows", "8", "--cols", "8", "--out", tmp_path)
    assert result.exit_code == 0, result.output
    info = json.loads((tmp_path / "cnn.json").read_text())
    blob = (tmp_path / "cnn.blob").read_bytes()
    assert len(blob) == info["blob_bytes"] == info["images_addr"] - info["free_start"]
    magic, version = np.frombuffer(blob[:8], "<u4")
    assert (magic, version) == (BLOB_MAGIC, BLOB_VERSION) == (0x54534E4D, 3)


def test_the_same_model_gives_the_same_files(tmp_path, qoperator_file):
    for name in ("a", "b"):
        assert run_cli("compile", qoperator_file, "--no-soc", "--out", tmp_path / name
                       ).exit_code == 0
    for file in (tmp_path / "a").iterdir():
        assert file.read_bytes() == (tmp_path / "b" / file.name).read_bytes(), file.name


def test_run_prints_outputs_and_saves_them(tmp_path):
    images = np.random.default_rng(2).integers(0, 256, (2, 28, 28)).astype(np.uint8)
    np.save(tmp_path / "x.npy", images)
    result = run_cli("run", "--model", "cnn", "--input", tmp_path / "x.npy", "--rows", "4",
                     "--cols", "4", "--out", tmp_path / "y.npy")
    assert result.exit_code == 0, result.output
    network = load_default("cnn")
    for index, line in enumerate(result.output.splitlines()):
        logits = reference(network, images[index])
        assert line.startswith(f"input {index}: top {int(np.argmax(logits))} output [")
    saved = np.load(tmp_path / "y.npy")
    assert saved.shape == (2, 10) and np.argmax(saved[0]) == np.argmax(reference(network,
                                                                                   images[0]))


def test_a_compiled_model_file_runs_again(tmp_path, qoperator_file):
    assert run_cli("compile", qoperator_file, "--no-soc", "--out", tmp_path).exit_code == 0
    np.save(tmp_path / "x.npy", np.zeros((1, 8, 8), np.float32))
    first = run_cli("run", "--model", qoperator_file, "--input", tmp_path / "x.npy")
    again = run_cli("run", "--model", tmp_path / "classifier.npz", "--input", tmp_path / "x.npy")
    assert first.exit_code == again.exit_code == 0 and first.output == again.output


@pytest.mark.parametrize("make, message", [
    (lambda p: p.write_bytes(b"not a model"), "classifier.onnx"),
    (lambda p: onnx.save(onnx.helper.make_model(onnx.helper.make_graph(
        [onnx.helper.make_node("Sin", ["x"], ["y"])], "g",
        [onnx.helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [1, 1, 28, 28])],
        [onnx.helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [1, 1, 28, 28])]),
        opset_imports=[onnx.helper.make_opsetid("", 13)]), p),
     "Sin"),
])
def test_bad_models_are_one_error_line_and_no_files(tmp_path, make, message):
    path = tmp_path / "classifier.onnx"
    make(path)
    out = tmp_path / "out"
    result = run_cli("compile", path, "--no-soc", "--out", out)
    assert result.exit_code == 2
    assert result.output.count("\n") == 1 and message in result.output
    assert not out.exists() or not any(out.iterdir())


def test_bad_inputs_are_one_error_line(tmp_path):
    np.save(tmp_path / "x.npy", np.zeros((2, 27, 28), np.uint8))
    result = run_cli("run", "--model", "cnn", "--input", tmp_path / "x.npy")
    assert result.exit_code == 2 and result.output.count("\n") == 1
    assert "takes (28, 28, 1) inputs" in result.output
    (tmp_path / "bad.npy").write_bytes(b"garbage")
    result = run_cli("run", "--model", "cnn", "--input", tmp_path / "bad.npy")
    assert result.exit_code == 2 and "not a readable .npy/.npz file" in result.output


@pytest.mark.slow
def test_mnist_eval_compiles_an_onnx_model_on_the_fly(tmp_path):
    from accel.nn.float_file import load_default_float
    from accel.nn.onnx_export import export_float

    network, _ = load_default_float("cnn5")
    export_float(network, tmp_path / "cnn5.onnx")
    result = run_cli("mnist", "eval", "--model", tmp_path / "cnn5.onnx", "--images", "20",
                     "--rows", "4", "--cols", "4")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "identical logits to the golden model: 20/20" in lines
    accuracy = next(line for line in lines if line.startswith("accuracy"))
    assert int(accuracy.split("(")[1].split("/")[0]) >= 18
