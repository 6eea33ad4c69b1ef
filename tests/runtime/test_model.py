"""accel.runtime.model: accel.compile(model, config).run(x, backend) for ONNX and native models."""

from __future__ import annotations

import numpy as np
import onnx
import pytest

import accel
from accel.compiler.reference import run_reference
from accel.config import AccelConfig
from accel.nn.model_file import load_default
from accel.nn.network import reference
from accel.runtime.model import load_model
from tests.frontend.cases import classifier, residual
from tests.frontend.models import quantize, session
from tests.support.configs import CONFIGS

CONFIG = AccelConfig(rows=4, cols=4)


def test_a_native_network_runs_with_its_logits():
    model = accel.compile("cnn", CONFIG)
    images = np.random.default_rng(3).integers(0, 256, (3, 28, 28)).astype(np.uint8)
    result = model.run(images)
    network = load_default("cnn")
    assert result.raw.shape == (3, 10) and result.cycles is None
    for image, raw in zip(images, result.raw):
        assert np.array_equal(raw, reference(network, image))
    assert np.allclose(result.outputs, result.raw * model.graph.output_tensor.scale)


@pytest.fixture(scope="module")
def qdq_classifier(tmp_path_factory):
    net, out = classifier()
    path = tmp_path_factory.mktemp("onnx") / "classifier.onnx"
    onnx.save(quantize(net.model(out), "qdq"), path)
    return path


def test_float_inputs_in_nchw_match_the_reference_and_onnxruntime(qdq_classifier):
    model = accel.compile(qdq_classifier, CONFIG)
    x = np.random.default_rng(5).normal(size=(4, 1, 8, 8)).astype(np.float32)
    result = model.run(x)
    q = model.quantize(x)
    assert q.shape == (4, 8, 8, 1)
    for qi, raw in zip(q, result.raw):
        assert np.array_equal(raw, run_reference(model.graph, qi))
    # The model ends with a Softmax: outputs are probabilities, close to onnxruntime's.
    assert model.graph.postprocess == "softmax"
    assert np.allclose(result.outputs.sum(axis=1), 1.0)
    expected = session(onnx.load(qdq_classifier)).run(None, {"x": x})[0]
    assert np.abs(result.outputs - expected).max() < 0.05
    assert (result.outputs.argmax(1) == expected.argmax(1)).mean() >= 0.75


def test_one_input_without_a_batch_dimension(qdq_classifier):
    model = accel.compile(qdq_classifier, CONFIG)
    x = np.random.default_rng(6).normal(size=(1, 8, 8)).astype(np.float32)
    assert np.array_equal(model.run(x).raw, model.run(x[None]).raw)


def test_info_has_a_row_per_layer():
    model = accel.compile("mlp", CONFIG)
    rows = model.info()
    assert [r["op"] for r in rows] == ["Dense", "Dense"]
    assert all(r["where"] == "accel" and r["cycles"] > 0 for r in rows)


@pytest.mark.parametrize("call, message", [
    (lambda: accel.compile("nothing-here.onnx"), "no model .nothing-here.onnx.: no such file"),
    (lambda: accel.compile("cnn", calibration="x.npy"), "apply to ONNX models only"),
    (lambda: accel.compile("cnn", CONFIG).run(np.zeros((2, 27, 28), np.uint8)), "takes"),
    (lambda: accel.compile("cnn", CONFIG).run(np.zeros((1, 28, 28), np.uint8), "fpga"),
     "backend must be one of"),
    (lambda: load_model(3), "cannot load a model from a int"),
])
def test_bad_requests_are_one_line_errors(call, message):
    with pytest.raises(ValueError, match=message) as info:
        call()
    assert "\n" not in str(info.value)


@pytest.mark.rtl
def test_an_onnx_residual_model_on_the_rtl_equals_the_golden_model(tmp_path):
    net, out = residual()
    path = tmp_path / "residual.onnx"
    onnx.save(quantize(net.model(out), "qoperator", activation="int8"), path)
    model = accel.compile(path, CONFIGS["4x4-os"])  # small memories, a shared build
    x = np.random.default_rng(8).normal(size=(2,) + tuple(
        d.dim_value for d in onnx.load(path).graph.input[0].type.tensor_type.shape.dim[1:]))
    golden = model.run(x.astype(np.float32))
    rtl = model.run(x.astype(np.float32), "rtl")
    assert np.array_equal(golden.raw, rtl.raw)
    assert len(rtl.cycles) == 2 and min(rtl.cycles) > 0
