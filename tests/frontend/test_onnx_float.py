"""Float ONNX models through accelgen's own post-training quantizer: dequantized outputs of the
exact reference against onnxruntime's float outputs (loose: a few output LSBs) and top-1
agreement, on inputs inside the calibration set (outside it, saturation is expected).

Measured (these seeds, 16 inputs each): at most 2.9 output LSBs off onnxruntime's float result
(`residual`), top-1 agreement 15/16 or 16/16.
"""

from __future__ import annotations

import numpy as np
import pytest

from accel.compiler.graph import Conv2D, Dense
from accel.compiler.reference import run_reference
from accel.frontend import load_onnx
from tests.frontend.cases import FLOAT_CASES
from tests.frontend.models import calibration, session

#: Largest difference from onnxruntime's float output, in output LSBs.
LSB_TOLERANCE = 4.0


def _run(graph, model, inputs):
    run = session(model)
    worst, agree = 0.0, 0
    for x in inputs:
        expected = run.run(None, {"x": x[None]})[0][0]
        nchw = x.ndim == 3 and graph.metadata["input_layout"] == "NCHW"
        q = graph.input_tensor.quantize(x.transpose(1, 2, 0) if nchw else x)
        ours = graph.output_tensor.dequantize(run_reference(graph, q))
        ours = ours.transpose(2, 0, 1) if ours.ndim == 3 else ours
        worst = max(worst, float(np.abs(ours - expected).max()) / graph.output_tensor.scale)
        agree += int(np.argmax(ours) == np.argmax(expected))
    return worst, agree


@pytest.mark.parametrize("case", sorted(FLOAT_CASES))
def test_float_case(case):
    n, out = FLOAT_CASES[case]()
    model = n.model(out)
    shape = [d.dim_value for d in model.graph.input[0].type.tensor_type.shape.dim[1:]]
    data = calibration(shape, 48, seed=5)
    graph = load_onnx(model, calibration=data)
    assert graph.metadata["form"] == "float"
    if case == "classifier":  # compare the logits; softmax is the host's postprocess
        assert graph.postprocess == "softmax"
        model.graph.output[0].name = model.graph.node[-1].input[0]
        model.graph.node.pop()
    worst, agree = _run(graph, model, data[:16])
    assert worst <= LSB_TOLERANCE
    assert agree >= 15


def test_batchnorm_is_folded_and_relu6_fused():
    n, out = FLOAT_CASES["batchnorm"]()
    graph = load_onnx(n.model(out), calibration=calibration((3, 6, 6), 32))
    (conv,) = graph.nodes
    assert isinstance(conv, Conv2D) and not conv.requant.relu  # the saturation is the ReLU
    t = graph.output_tensor
    assert t.zero_point == -128 and (127 - t.zero_point) * t.scale <= 6.0 + 1e-9


def test_bias_add_is_folded():
    n, out = FLOAT_CASES["matmul_add"]()
    graph = load_onnx(n.model(out), calibration=calibration((3, 4, 4), 16))
    assert [type(node) for node in graph.nodes] == [Conv2D, Dense]
    assert np.any(graph.nodes[1].bias != 0)
    n, out = FLOAT_CASES["conv_big_kernel"]()
    graph = load_onnx(n.model(out), calibration=calibration((2, 23, 19), 16))
    assert [type(node) for node in graph.nodes] == [Conv2D, Conv2D]
    assert np.all(np.sign(graph.nodes[1].bias) == [1, -1])


def test_gemm_trans_a():
    """Gemm with transA of a transposed (1, k) vector: the same features."""
    from onnx import TensorProto, helper
    rng = np.random.default_rng(4)
    w = helper.make_tensor("w", TensorProto.FLOAT, [5, 3], rng.normal(size=15).tolist())
    nodes = [helper.make_node("Transpose", ["x"], ["t"], perm=[1, 0]),
             helper.make_node("Gemm", ["t", "w"], ["y"], transA=1)]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info(
        "x", TensorProto.FLOAT, [1, 5])], [helper.make_tensor_value_info(
            "y", TensorProto.FLOAT, [1, 3])], [w])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    data = calibration((5,), 16)
    imported = load_onnx(model, calibration=data)
    assert imported.input_tensor.shape == (5,) and imported.metadata["input_layout"] == "NC"
    worst, agree = _run(imported, model, data)
    assert worst <= LSB_TOLERANCE and agree == 16


def test_relu_output_uses_every_level():
    """A ReLU output is quantized over [0, max]: zero point -128, all 256 levels."""
    n, out = FLOAT_CASES["residual"]()
    graph = load_onnx(n.model(out), calibration=calibration((3, 6, 5), 16))
    assert graph.output_tensor.zero_point == -128


@pytest.mark.parametrize("mean, std, distinct", [(0.2, 0.25, 256), (0.1307, 0.3081, 256),
                                                  (0.0, 1.0, 256), (0.5, 0.5, 255)])
def test_uint8_pixels_get_one_level_each(tmp_path, mean, std, distinct):
    """uint8 calibration pixels are normalized; the input scale is one level per pixel value
    (q = p - 128 + constant; the two middle pixels share a level when 255 mean ends in .5)."""
    n, out = FLOAT_CASES["classifier"]()
    pixels = np.random.default_rng(0).integers(0, 256, size=(20, 8, 8), dtype=np.uint8)
    path = tmp_path / "cal.npy"
    np.save(path, pixels)
    graph = load_onnx(n.model(out), calibration=path, mean=mean, std=std)
    t = graph.input_tensor
    assert t.scale == pytest.approx(1 / (255 * std))
    q = t.quantize((np.arange(256) / 255 - mean) / std)
    assert np.all(np.diff(q) >= 0) and len(np.unique(q)) == distinct
    if distinct == 256:
        assert np.array_equal(q, np.arange(256) - 128)
    assert graph.metadata["pixels"] == {"kind": "normalize", "mean": mean, "std": std}


def test_npz_and_hwc_calibration(tmp_path):
    n, out = FLOAT_CASES["conv_same_stride"]()
    data = calibration((3, 9, 7), 8)
    np.savez(tmp_path / "cal.npz", x=data.transpose(0, 2, 3, 1))
    a = load_onnx(n.model(out), calibration=tmp_path / "cal.npz")
    b = load_onnx(n.model(out), calibration=data)
    assert a.input_tensor == b.input_tensor and a.output_tensor == b.output_tensor
