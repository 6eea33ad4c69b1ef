"""One float model written in every opset the front end reads (7..21): the attribute/input
forms differ (Clip bounds as attributes before 11, Squeeze axes as an attribute before 13,
Reshape's shape input), the import does not; the argmax postprocess; a fixed batch."""

from __future__ import annotations

import numpy as np
import pytest
from onnx import TensorProto, helper

from accel.compiler.reference import run_reference
from accel.frontend import load_onnx
from tests.frontend.models import calibration, session


def _model(opset: int, batch=1, argmax=False):
    rng = np.random.default_rng(opset)
    f = lambda a, name: helper.make_tensor(name, TensorProto.FLOAT, a.shape,  # noqa: E731
                                           a.astype(np.float32).ravel())
    inits = [f(rng.normal(size=(4, 2, 3, 3)) / 4, "w"), f(rng.normal(size=4) / 10, "b"),
             f(rng.normal(size=(5, 4)) / 2, "g"), f(rng.normal(size=5) / 10, "gb")]
    nodes = [helper.make_node("Conv", ["x", "w", "b"], ["c"], pads=[1, 1, 1, 1],
                              strides=[2, 2])]
    if opset < 11:
        nodes.append(helper.make_node("Clip", ["c"], ["r"], min=0.0, max=6.0))
    else:
        inits += [f(np.array(0.0), "lo"), f(np.array(6.0), "hi")]
        nodes.append(helper.make_node("Clip", ["c", "lo", "hi"], ["r"]))
    nodes.append(helper.make_node("GlobalAveragePool", ["r"], ["p"]))
    if opset < 13:
        nodes.append(helper.make_node("Squeeze", ["p"], ["s"], axes=[2, 3]))
    else:
        inits.append(helper.make_tensor("axes", TensorProto.INT64, [2], [2, 3]))
        nodes.append(helper.make_node("Squeeze", ["p", "axes"], ["s"]))
    nodes.append(helper.make_node("Gemm", ["s", "g", "gb"], ["y"], transB=1))
    out = "y"
    if argmax:
        nodes.append(helper.make_node("ArgMax", ["y"], ["k"], axis=1))
        out = "k"
    graph = helper.make_graph(nodes, "opsets", [helper.make_tensor_value_info(
        "x", TensorProto.FLOAT, [batch, 2, 7, 6])], [helper.make_tensor_value_info(
            out, TensorProto.INT64 if argmax else TensorProto.FLOAT,
            [batch, 1 if argmax else 5])], inits)
    if opset < 13:  # IR 3: initializers are graph inputs too (old exporters)
        graph.input.extend(helper.make_tensor_value_info(i.name, i.data_type, i.dims)
                           for i in inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 7 if opset >= 13 else 3
    return model


@pytest.mark.parametrize("opset", [7, 9, 10, 11, 12, 13, 17, 21])
def test_opset(opset):
    model = _model(opset)
    data = calibration((2, 7, 6), 24, seed=opset)
    graph = load_onnx(model, calibration=data)
    assert graph.metadata["opset"] == opset
    run = session(model)
    for x in data[:8]:
        expected = run.run(None, {"x": x[None]})[0][0]
        ours = graph.output_tensor.dequantize(run_reference(graph, graph.input_tensor.quantize(
            x.transpose(1, 2, 0))))
        assert np.abs(ours - expected).max() <= 3 * graph.output_tensor.scale


def test_argmax_postprocess_and_fixed_batch():
    graph = load_onnx(_model(13, batch=3, argmax=True),
                      calibration=calibration((2, 7, 6), 8))
    assert graph.postprocess == "argmax" and graph.output_tensor.shape == (5,)
