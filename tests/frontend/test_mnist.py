"""The committed float MNIST model (cnn5), exported to ONNX by `accel.nn.onnx_export`, through
load_onnx: the default calibration (offline MNIST samples) and onnxruntime's quantizations.

Measured: the own quantizer's int8 graph agrees with onnxruntime's float top-1 on 199 of the
200 held-out samples tested (997/1000 on 1,000), accuracy 97.0 % against the float 97.5 %
(98.2 % against 98.3 % on 1,000); onnxruntime's QDQ and QOperator int8 models match the
imported graphs' reference on every element of every logit.
"""

from __future__ import annotations

import time

import numpy as np
import pytest

from accel.compiler.pixels import quantize_pixels
from accel.compiler.reference import run_reference
from accel.frontend import load_onnx
from accel.nn.float_file import default_float_path, load_float
from accel.nn.mnist.data import load_offline, split_offline
from accel.nn.onnx_export import export_float
from tests.frontend.models import compare, compare_layers, quantize, session

SAMPLES = 200


@pytest.fixture(scope="module")
def cnn5():
    network, _ = load_float(default_float_path("cnn5"))
    return export_float(network)


@pytest.fixture(scope="module")
def held_out():
    images, labels = load_offline(seed=0)
    _, _, held, held_labels = split_offline(images, labels)
    return held[:SAMPLES], held_labels[:SAMPLES]


def test_default_calibration(cnn5, held_out):
    start = time.perf_counter()
    graph = load_onnx(cnn5)
    assert time.perf_counter() - start < 60
    assert graph.metadata["form"] == "float" and graph.input_tensor.shape == (28, 28, 1)
    images, labels = held_out
    run = session(cnn5)
    floats = run.run(None, {"input": (images[:, None] / 255.0).astype(np.float32)})[0]
    ours = np.array([run_reference(graph, q) for q in quantize_pixels(graph, images)])
    agree = np.mean(ours.argmax(axis=1) == floats.argmax(axis=1))
    float_acc = np.mean(floats.argmax(axis=1) == labels)
    our_acc = np.mean(ours.argmax(axis=1) == labels)
    assert agree >= 0.98 and our_acc >= float_acc - 0.01, (agree, our_acc, float_acc)


@pytest.mark.parametrize("fmt", ["qdq", "qoperator"])
def test_onnxruntime_quantized(cnn5, fmt):
    qmodel = quantize(cnn5, fmt, activation="int8")
    graph = load_onnx(qmodel)
    worst, _, nodes, _ = compare_layers(graph, qmodel, samples=2)
    assert nodes == len(graph.nodes) and worst == 0
    assert compare(graph, qmodel, samples=4) == (0, 0.0)
