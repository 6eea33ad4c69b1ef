"""ONNX export of the native int8 networks: QDQ models whose float32 scales give back the
24-bit rounding of every native requantization factor exactly (in float64 and float32), the
rounding leaves the committed models' held-out logits unchanged, and onnxruntime runs them."""

import math
from dataclasses import replace

import numpy as np
import onnxruntime as ort
import pytest
from onnx import numpy_helper

from accel.compiler.fixedpoint import fixed_point
from accel.compiler.tiler import Requant
from accel.nn.batch_reference import reference_batch
from accel.nn.mnist.recipe import load_dataset
from accel.nn.model_file import load_default
from accel.nn.network import Conv2D, Dense
from accel.nn.onnx_export import to_nchw
from accel.nn.onnx_export_native import export_quantized, float32_factor
from accel.nn.train import float_input


@pytest.fixture(scope="module")
def dataset():
    return load_dataset()


def rounded(network):
    """``network`` with every multiplier replaced by its `float32_factor`."""
    layers = []
    for layer in network.layers:
        if isinstance(layer, (Conv2D, Dense)) and layer.requant is not None:
            r = layer.requant
            multiplier, shift = float32_factor(r.multiplier, r.shift)
            layer = type(layer)(layer.weight, layer.bias,
                                Requant(multiplier, shift, r.zero_point, r.relu))
        layers.append(layer)
    return replace(network, layers=tuple(layers))


@pytest.mark.parametrize("multiplier, shift, expected", [
    ((1 << 30), 40, ((1 << 30), 40)), ((1 << 31) - 1, 40, ((1 << 30), 39)),
    (1499365253, 39, (1499365248, 39)), ((1 << 30) + 64, 3, ((1 << 30) + 128, 3))])
def test_float32_factor_keeps_24_bits(multiplier, shift, expected):
    assert float32_factor(multiplier, shift) == expected
    m, s = expected
    assert float(np.float32(math.ldexp(m, -s))) == math.ldexp(m, -s)


@pytest.mark.parametrize("name", ["cnn", "mlp"])
def test_scales_carry_the_rounded_factors_exactly(name):
    network = load_default(name)
    model = export_quantized(network)
    inits = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    x_scale = inits["input_scale"]
    requantized = [(i, layer) for i, layer in enumerate(network.layers)
                   if isinstance(layer, (Conv2D, Dense)) and layer.requant is not None]
    for index, layer in requantized:
        w_scale = inits[f"layer{index}.weight_scale"]
        out = "Relu" if layer.requant.relu else ("Conv" if isinstance(layer, Conv2D)
                                                 else "Gemm")
        y_scale = inits[f"/layer{index}/{out}_output_0_scale"]
        expected = float32_factor(layer.requant.multiplier, layer.requant.shift)
        for dtype in (np.float64, np.float32):  # any importer arithmetic
            real = dtype(x_scale) * dtype(w_scale) / dtype(y_scale)
            assert fixed_point(float(real)) == expected
        x_scale = y_scale
    np.testing.assert_array_equal(inits[f"layer{len(network.layers) - 1}.weight_quantized"].T
                                  .shape, network.layers[-1].weight.shape)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["cnn", "mlp"])
def test_24_bit_factors_keep_the_held_out_logits(name, dataset):
    network = load_default(name)
    np.testing.assert_array_equal(reference_batch(rounded(network), dataset.eval_images),
                                  reference_batch(network, dataset.eval_images))


@pytest.mark.parametrize("name", ["cnn", "mlp"])
def test_onnxruntime_runs_the_export(name, dataset):
    network = load_default(name)
    model = export_quantized(network)
    scale = float({p.key: p.value for p in model.metadata_props}["accelgen.logit_scale"])
    session = ort.InferenceSession(model.SerializeToString(),
                                   providers=["CPUExecutionProvider"])
    images = dataset.eval_images[:300]
    logits = session.run(None, {"input": to_nchw(float_input(images, 0))})[0]
    native = reference_batch(network, images)
    assert np.array_equal(logits.argmax(axis=1), native.argmax(axis=1))
    same = np.mean((np.rint(logits / scale) == native).all(axis=1))
    # onnxruntime requantizes in float32 with round-half-even: mostly, not always, exact.
    assert same >= (1.0 if name == "cnn" else 0.95)


def test_pixel_over_255_quantizes_to_the_native_input():
    pixels = np.arange(256)
    scale = np.float32(1 / 127)
    q = np.rint((pixels / 255.0) / np.float64(scale))
    np.testing.assert_array_equal(q, pixels >> 1)
    q32 = np.rint(np.float32(pixels / 255.0) / scale)
    np.testing.assert_array_equal(q32, pixels >> 1)


def test_bad_arguments():
    network = load_default("mlp")
    with pytest.raises(ValueError, match="input_shift must be 0 or 1"):
        export_quantized(replace(network, input_shift=2))
    with pytest.raises(ValueError, match="opset must be between 13 and 21"):
        export_quantized(network, opset=11)
    with pytest.raises(ValueError, match="network must be a QuantizedNetwork"):
        export_quantized("mlp")


@pytest.mark.slow
@pytest.mark.parametrize("name", ["cnn", "mlp"])
def test_the_onnx_front_end_imports_the_native_arithmetic(name, dataset):
    """accelgen's importer reads back the input mapping (pixel >> 1), every weight, bias and
    24-bit factor, and the unquantized last Gemm as int32 logits: the imported graph's logits
    equal the native ones."""
    from accel.compiler.pixels import pixel_lut, quantize_pixels
    from accel.compiler.reference import run_reference
    from accel.frontend.onnx import load_onnx

    network = load_default(name)
    graph = load_onnx(export_quantized(network), name=name)
    native = [layer for layer in network.layers if not hasattr(layer, "size")]
    imported = [node for node in graph.nodes if hasattr(node, "weight")]
    assert len(native) == len(imported)
    for layer, node in zip(native[:-1], imported[:-1]):
        assert (int(node.requant.multiplier[0]), int(node.requant.shift[0])) == \
            float32_factor(layer.requant.multiplier, layer.requant.shift)
        assert node.requant.per_tensor and node.requant.relu == layer.requant.relu
        np.testing.assert_array_equal(node.bias, layer.bias)
    np.testing.assert_array_equal(pixel_lut(graph), np.arange(256) >> 1)
    assert graph.output_tensor.dtype == "int32"  # the last Gemm stays unquantized: logits
    images = dataset.eval_images[:100]
    logits = np.stack([run_reference(graph, quantize_pixels(graph, image)).reshape(-1)
                       for image in images])
    np.testing.assert_array_equal(logits, reference_batch(network, images))
