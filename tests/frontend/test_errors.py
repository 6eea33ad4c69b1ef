"""Models load_onnx refuses: each a one-line FrontendError (a ValueError) naming the file or
the node and its op type, raised before anything is built."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from accel.frontend import FrontendError, load_onnx
from tests.frontend.cases import CASES, folded_constants
from tests.frontend.models import Net, calibration, quantize


def _error(model, **kwargs) -> str:
    with pytest.raises(FrontendError) as info:
        load_onnx(model, **kwargs)
    message = str(info.value)
    assert "\n" not in message and isinstance(info.value, ValueError)
    return message


def _cal(shape):
    return calibration(shape, 4)


def test_random_bytes(tmp_path):
    path = tmp_path / "noise.onnx"
    path.write_bytes(np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8).tobytes())
    assert "noise.onnx" in _error(path)


def test_truncated(tmp_path):
    n, out = CASES["flatten_gemm"]()
    data = n.model(out).SerializeToString()
    path = tmp_path / "cut.onnx"
    path.write_bytes(data[: len(data) // 2])
    assert "cut.onnx: not an ONNX model" in _error(path)


def test_missing_file(tmp_path):
    assert "cannot read" in _error(tmp_path / "absent.onnx")


def test_not_a_model():
    assert "path or an onnx.ModelProto" in _error(42)


def test_unsupported_op():
    n = Net((3, 4, 4))
    y = n.node("Reshape", ["x", n.const(np.array([4, 1, 12]))])
    y = n.node("LSTM", [y, n.const(np.zeros((1, 8, 12), np.float32)),
                        n.const(np.zeros((1, 8, 2), np.float32))], hidden_size=2)
    message = _error(n.model(y), calibration=_cal((3, 4, 4)))
    assert "(LSTM)" in message and "supported: " in message and "Conv" in message


def test_dilation():
    n = Net((2, 8, 8))
    y = n.conv("x", 2, 3, 3, dilations=[2, 2])
    message = _error(n.model(y), calibration=_cal((2, 8, 8)))
    assert "(Conv)" in message and "dilation" in message


def test_dynamic_spatial_shape():
    n = Net((2, 8, 8))
    y = n.conv("x", 2, 3, 3)
    model = n.model(y)
    model.graph.input[0].type.tensor_type.shape.dim[2].dim_param = "H"
    assert "dynamic shapes" in _error(model)


@pytest.mark.parametrize("shape", [[1, 3, 8], [1, 1, 3, 8, 8]])
def test_input_rank(shape):
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, shape)
    graph = helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "g", [x], [y])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    assert f"rank {len(shape)}" in _error(model)


def test_weight_zero_point():
    """onnxruntime quantizes a weight computed by a Transpose like an activation (asymmetric)."""
    n, out = folded_constants()
    qmodel = quantize(n.model(out), "qdq", activation="int8")
    message = _error(qmodel)
    assert "(Conv)" in message and "weight zero point" in message


def test_qlinearconv_weight_zero_point():
    n, out = CASES["conv_same_stride"]()
    qmodel = quantize(n.model(out), "qoperator", activation="int8")
    for init in qmodel.graph.initializer:
        if init.name.endswith("zero_point") and init.data_type == TensorProto.INT8 and \
                len(init.dims) == 1:  # per-channel weight zero points
            init.CopyFrom(onnx.numpy_helper.from_array(np.ones(init.dims, np.int8), init.name))
            break
    assert "(QLinearConv)" in _error(qmodel)


def test_opset_out_of_range():
    n, out = CASES["conv_same_stride"]()
    model = n.model(out, opset=22)
    assert "opset 22" in _error(model)


def _qdq_clip_model(high: float, out_scale: float):
    """x -> Q/DQ -> Conv (int8 weights) -> Clip(0, high) -> Q(out_scale, -128) -> DQ, by hand."""
    f = onnx.numpy_helper.from_array
    inits = [f(np.float32(0.05), "xs"), f(np.int8(0), "xz"),
             f(np.ones((2, 2, 1, 1), np.int8), "wq"), f(np.full(2, 0.01, np.float32), "ws"),
             f(np.zeros(2, np.int8), "wz"), f(np.float32(0), "lo"), f(np.float32(high), "hi"),
             f(np.float32(out_scale), "ys"), f(np.int8(-128), "yz")]
    nodes = [helper.make_node("QuantizeLinear", ["x", "xs", "xz"], ["xq"]),
             helper.make_node("DequantizeLinear", ["xq", "xs", "xz"], ["xd"]),
             helper.make_node("DequantizeLinear", ["wq", "ws", "wz"], ["wd"], axis=0),
             helper.make_node("Conv", ["xd", "wd"], ["c"], name="conv"),
             helper.make_node("Clip", ["c", "lo", "hi"], ["r"], name="clip"),
             helper.make_node("QuantizeLinear", ["r", "ys", "yz"], ["rq"]),
             helper.make_node("DequantizeLinear", ["rq", "ys", "yz"], ["y"])]
    graph = helper.make_graph(nodes, "clip", [helper.make_tensor_value_info(
        "x", TensorProto.FLOAT, [1, 2, 3, 3])], [helper.make_tensor_value_info(
            "y", TensorProto.FLOAT, [1, 2, 3, 3])], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])


def test_clip_upper_bound_not_implied():
    """Clip(0, 1) quantized over 0..25.5: the clamp at 1 would be lost."""
    message = _error(_qdq_clip_model(1.0, 0.1))
    assert message.startswith("node 'clip' (Clip): Clip upper bound 1 is not implied")


def test_clip_upper_bound_implied():
    """Clip(0, 6) quantized over 0..6 (scale 6/255): the saturation is the clamp."""
    graph = load_onnx(_qdq_clip_model(6.0, 6 / 255))
    assert graph.output_tensor.zero_point == -128


def test_calibration_errors(tmp_path):
    n, out = CASES["conv_same_stride"]()
    model = n.model(out)
    assert "needs calibration" in _error(model)
    assert "do not match" in _error(model, calibration=np.zeros((4, 3, 5, 5), np.float32))
    assert "uint8 pixels or floats" in _error(model, calibration=np.zeros((4, 3, 9, 7), int))
    (tmp_path / "bad.npy").write_text("not numpy")
    assert "bad.npy" in _error(model, calibration=tmp_path / "bad.npy")
    quantized = quantize(model, "qdq", activation="int8")
    assert "float models only" in _error(quantized, calibration=_cal((3, 9, 7)))


@pytest.mark.parametrize("mean, std", [(0.0, 0.0), (float("nan"), 1.0), ("0", 1.0)])
def test_bad_normalization(mean, std):
    n, out = CASES["conv_same_stride"]()
    assert "std" in _error(n.model(out), mean=mean, std=std)


def test_add_broadcast_refused():
    n = Net((2, 4, 4))
    a = n.conv("x", 2, 3, 3, pads=[1, 1, 1, 1])
    b = n.node("GlobalAveragePool", [a])
    y = n.node("Add", [a, b])
    assert "(Add)" in _error(n.model(y), calibration=_cal((2, 4, 4)))


def test_layout_change_before_conv_refused():
    n = Net((2, 4, 4))
    y = n.node("Transpose", [n.conv("x", 2, 2, 1)], perm=[0, 1, 3, 2])
    y = n.conv(y, 2, 2, 1)
    assert "NCHW" in _error(n.model(y), calibration=_cal((2, 4, 4)))
