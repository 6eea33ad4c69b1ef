"""ONNX export of float networks: the model passes onnx.checker, reads like PyTorch's export
(ops, attributes, names, NCHW input, symbolic or fixed batch), and onnxruntime's logits equal
`FloatNetwork.forward` within float32 tolerance — for the committed cnn5, both native
architectures, and odd shapes (non-square, strided, explicit pads, overlapping pools)."""

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import helper, numpy_helper

from accel.nn.float_file import load_default_float
from accel.nn.layers import Conv, Dense, FloatNetwork, MaxPool, ReLU
from accel.nn.onnx_export import export_float, to_nchw
from accel.nn.train import build_network


def run(model, x):
    session = ort.InferenceSession(model.SerializeToString(),
                                   providers=["CPUExecutionProvider"])
    return session.run(None, {"input": to_nchw(x)})[0]


def attributes(node):
    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


def assert_matches(network, x, **kwargs):
    model = export_float(network, **kwargs)
    expected = network.forward(x.astype(np.float32))
    got = run(model, x)
    assert got.shape == expected.shape and got.dtype == np.float32
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4 * np.abs(expected).max())
    return model


def test_committed_cnn5_exports_like_pytorch(tmp_path):
    network, _ = load_default_float("cnn5")
    path = tmp_path / "cnn5.onnx"
    model = export_float(network, path)
    assert onnx.load(path) == model
    onnx.checker.check_model(onnx.load(path), full_check=True)
    assert [n.op_type for n in model.graph.node] == [
        "Conv", "Relu", "MaxPool", "Conv", "Relu", "MaxPool", "Flatten", "Gemm"]
    assert model.opset_import[0].version == 13
    conv, pool = model.graph.node[0], model.graph.node[2]
    assert attributes(conv) == {"dilations": [1, 1], "group": 1, "kernel_shape": [5, 5],
                                "pads": [2, 2, 2, 2], "strides": [1, 1]}
    assert attributes(pool) == {"ceil_mode": 0, "kernel_shape": [3, 3], "pads": [0, 0, 0, 0],
                                "strides": [3, 3]}
    assert attributes(model.graph.node[-1])["transB"] == 1
    weights = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    assert weights["layer0.weight"].shape == (8, 1, 5, 5)
    assert weights["layer3.weight"].shape == (16, 8, 5, 5)
    assert weights["layer6.weight"].shape == (10, 144)
    dims = [d.dim_param or d.dim_value for d in model.graph.input[0].type.tensor_type.shape.dim]
    assert dims == ["N", 1, 28, 28] and model.graph.output[0].name == "logits"
    x = np.random.default_rng(0).random((7, 28, 28, 1), dtype=np.float32)
    assert_matches(network, x)


@pytest.mark.parametrize("arch", ["cnn", "mlp", "cnn5"])
def test_fresh_architectures_match(arch):
    network = build_network(arch, np.random.default_rng(1))
    x = np.random.default_rng(2).random((3, 28, 28, 1), dtype=np.float32)
    assert_matches(network, x)


def test_fixed_batch_and_other_opsets():
    network = build_network("cnn5", np.random.default_rng(3))
    x = np.random.default_rng(4).random((2, 28, 28, 1), dtype=np.float32)
    for opset in (11, 17, 21):
        model = assert_matches(network, x, opset=opset, batch=2)
        assert model.opset_import[0].version == opset
        dim = model.graph.input[0].type.tensor_type.shape.dim[0]
        assert dim.dim_value == 2 and not dim.dim_param


@pytest.mark.parametrize("seed", [0, 1])
def test_odd_shapes_match(seed):
    """Three input channels (the Flatten permutation is not the identity on channels), a
    non-square input, strided SAME and explicitly padded convs, overlapping and gapped pools,
    a 1x1 conv, a one-wide feature map and a dense chain."""
    rng = np.random.default_rng(seed)
    network = FloatNetwork("odd", [
        Conv.init(rng, 3, 3, 4, padding="same", stride=2), ReLU(), MaxPool(3, 2),
        Conv.init(rng, 2, 4, 5, padding=(1, 0, 0, 2), stride=(1, 2)), ReLU(),
        MaxPool(1, 3), Conv.init(rng, 1, 5, 3),
        Dense.init(rng, 2 * 1 * 3, 6), ReLU(), Dense.init(rng, 6, 1)], input_shape=(17, 10, 3))
    x = rng.standard_normal((4, 17, 10, 3)).astype(np.float32)
    for layer in network.layers:
        if layer.params:
            layer.params["bias"][:] = rng.standard_normal(layer.params["bias"].shape)
    assert network.forward(x).shape == (4, 1)
    assert_matches(network, x)


def test_flatten_reorders_hwc_weight_rows_to_chw():
    weight = np.arange(2 * 3 * 4 * 1, dtype=np.float32).reshape(24, 1)
    network = FloatNetwork("d", [Dense(weight, np.zeros(1))], input_shape=(2, 3, 4))
    model = export_float(network)
    gemm = numpy_helper.to_array(model.graph.initializer[0])
    hwc = np.arange(24).reshape(2, 3, 4)
    np.testing.assert_array_equal(gemm[0], hwc.transpose(2, 0, 1).reshape(-1))


@pytest.mark.parametrize("kwargs, message", [
    ({"opset": 7}, "opset must be between 11 and 21"),
    ({"opset": "13"}, "opset must be"),
    ({"batch": 0}, "batch must be None"),
    ({"batch": 2.0}, "batch must be None"),
])
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        export_float(build_network("mlp", np.random.default_rng(0)), **kwargs)


@pytest.mark.parametrize("layers, shape, message", [
    (lambda rng: [Dense.init(rng, 784, 10), ReLU()], (28, 28, 1), "must end in a dense"),
    (lambda rng: [Dense.init(rng, 16, 4), Conv.init(rng, 1, 4, 4), Dense.init(rng, 4, 2)],
     (4, 4, 1), "layer 1: a conv after a dense layer"),
    (lambda rng: [Dense.init(rng, 16, 4), MaxPool(2), Dense.init(rng, 4, 2)], (4, 4, 1),
     "layer 1: a max-pool after a dense layer"),
    (lambda rng: [Conv.init(rng, 3, 2, 4), Dense.init(rng, 4, 2)], (5, 5, 1),
     "layer 0: conv takes 2 channels, not 1"),
    (lambda rng: [Dense.init(rng, 15, 2)], (4, 4, 1), "layer 0: dense takes 15 inputs, not 16"),
    (lambda rng: [MaxPool(5), Dense.init(rng, 1, 2)], (4, 4, 1), "does not fit"),
])
def test_unexportable_networks(layers, shape, message):
    network = FloatNetwork("bad", layers(np.random.default_rng(0)), input_shape=shape)
    with pytest.raises(ValueError, match=message):
        export_float(network)


def test_not_a_float_network():
    with pytest.raises(ValueError, match="network must be a FloatNetwork, not str"):
        export_float("cnn5")
