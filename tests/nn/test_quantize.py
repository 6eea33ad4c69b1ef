"""Post-training quantization: fixed-point factors, requantization parameters the activation unit
accepts, int8 logits close to float ones, and the batched reference equal to `reference`."""

import math

import numpy as np
import pytest

from accel.nn.batch_reference import int8_accuracy, reference_batch
from accel.nn.mnist.data import load_offline, split_offline
from accel.nn.layers import Conv, Dense, FloatNetwork, MaxPool, ReLU
from accel.nn.network import Conv2D, MaxPool2D, QuantizedNetwork, reference
from accel.nn.network import Dense as QDense
from accel.nn.quantize import fixed_point, quantize
from accel.nn.train import TrainConfig, accuracy, float_input, input_scale, train
from tests.support.nets import random_cnn, random_images, random_mlp


@pytest.mark.parametrize("real", [1.0, 0.5, 0.75, 1e-3, 3.3e-5, 123.456, 2.0 ** -33, 1.9999,
                                  (2 ** 31 - 0.25) / 2 ** 31, math.pi / 1000])
def test_fixed_point_is_nearest_31_bit_form(real):
    multiplier, shift = fixed_point(real)
    assert 1 << 30 <= multiplier < 1 << 31 and 0 <= shift <= 63
    assert abs(multiplier * 2.0 ** -shift - real) <= 2.0 ** -shift / 2 * (1 + 1e-12)


def test_fixed_point_rounding_up_to_the_next_power_of_two():
    assert fixed_point((2 ** 31 - 0.25) / 2 ** 31) == (1 << 30, 30)


@pytest.mark.parametrize("real", [0.0, -1.0, math.inf, math.nan, 2.0 ** -40, 2.0 ** 40])
def test_fixed_point_refuses_out_of_range(real):
    with pytest.raises(ValueError):
        fixed_point(real)


@pytest.mark.parametrize("make", [random_cnn, random_mlp])
def test_batch_reference_equals_reference(make):
    network = make(seed=11)
    images = random_images(7, seed=12)
    expected = np.stack([reference(network, image) for image in images])
    np.testing.assert_array_equal(reference_batch(network, images, chunk=3), expected)
    assert reference_batch(network, images[:0]).shape == (0, 10)


@pytest.fixture(scope="module")
def data():
    return split_offline(*load_offline(seed=0), holdout=0.2, seed=0)


@pytest.fixture(scope="module")
def trained(data):
    train_x, train_y, _, _ = data
    return train(TrainConfig(arch="mlp", epochs=2, seed=3), train_x, train_y)


@pytest.fixture(scope="module")
def quantized(trained, data):
    return quantize(trained, data[0][:500], metadata={"seed": 3})


@pytest.mark.slow
def test_requant_parameters_are_valid_and_weights_symmetric(quantized):
    hidden, last = quantized.layers
    r = hidden.requant
    assert 1 << 30 <= r.multiplier < 1 << 31 and 0 <= r.shift <= 63
    assert r.zero_point == 0 and r.relu
    assert last.requant is None
    for layer in quantized.layers:
        assert layer.weight.min() >= -127 and np.abs(layer.weight).max() == 127
    assert quantized.metadata["seed"] == 3
    assert quantized.metadata["calibration"] == {"images": 500, "percentile": 100.0}


def test_scales_chain_and_match_the_fixed_point_factors(quantized, trained):
    first, second = quantized.metadata["scales"]
    assert first["input"] == pytest.approx(input_scale(1))
    r = quantized.layers[0].requant
    assert first["input"] * first["weight"] / first["output"] == pytest.approx(
        r.multiplier * 2.0 ** -r.shift, rel=1e-12)
    assert second["input"] == first["output"]
    w = trained.layers[0].params["weight"]
    assert first["weight"] == pytest.approx(np.abs(w).max() / 127)


def test_int8_logits_track_float_logits(quantized, trained, data):
    _, _, held_x, held_y = data
    images = held_x[:300]
    float_logits = trained.predict(float_input(images))
    int_logits = reference_batch(quantized, images) * quantized.metadata["scales"][-1]["output"]
    spread = float_logits.max() - float_logits.min()
    assert np.max(np.abs(int_logits - float_logits)) < 0.05 * spread
    agree = np.mean(int_logits.argmax(axis=1) == float_logits.argmax(axis=1))
    assert agree >= 0.98
    float_acc = accuracy(trained, float_input(held_x), held_y)
    assert abs(int8_accuracy(quantized, held_x, held_y) - float_acc) <= 0.01


def test_calibration_activations_use_the_int8_range(quantized, data):
    """With max calibration the largest hidden activation on the calibration set is 127 or
    just below (rounding), and none saturates beyond it."""
    images = data[0][:500]
    identity = QDense(np.eye(128, dtype=np.int64), np.zeros(128, dtype=np.int64), None)
    truncated = QuantizedNetwork("probe", (quantized.layers[0], identity),
                                 input_shift=quantized.input_shift)
    hidden = reference_batch(truncated, images)
    assert 120 <= hidden.max() <= 127 and hidden.min() >= 0


def test_percentile_calibration_clips_more(trained, data):
    full = quantize(trained, data[0][:500])
    clipped = quantize(trained, data[0][:500], percentile=99.0)
    f, c = full.layers[0].requant, clipped.layers[0].requant
    assert c.multiplier * 2.0 ** -c.shift > f.multiplier * 2.0 ** -f.shift


def test_cnn_layers_map_one_to_one():
    rng = np.random.default_rng(0)
    network = FloatNetwork("cnn", [Conv.init(rng, 3, 1, 2), ReLU(), MaxPool(2),
                                   Dense.init(rng, 13 * 13 * 2, 10)])
    q = quantize(network, random_images(20, seed=1))
    assert [type(layer) for layer in q.layers] == [Conv2D, MaxPool2D, QDense]
    assert q.layers[0].requant.relu and q.layers[-1].requant is None
    assert q.layers[0].weight.shape == (3, 3, 1, 2)


@pytest.mark.parametrize("layers, message", [
    (lambda rng: [ReLU(), Dense.init(rng, 784, 10)], "a ReLU must follow"),
    (lambda rng: [Dense.init(rng, 784, 10), ReLU()], "last layer must be a dense layer"),
    (lambda rng: [Dense.init(rng, 784, 4), ReLU(), ReLU(), Dense.init(rng, 4, 10)],
     "a ReLU must follow"),
    (lambda rng: [Dense.init(rng, 784, 10), MaxPool(2)], "last layer must be a dense layer"),
    (lambda rng: [Conv.init(rng, 5, 1, 2, padding="same"), Dense.init(rng, 1568, 10)],
     "'valid' with stride 1"),
    (lambda rng: [Conv.init(rng, 2, 1, 2, stride=2), Dense.init(rng, 392, 10)],
     "'valid' with stride 1"),
    (lambda rng: [MaxPool(3, 2), Dense.init(rng, 169, 10)], "max-pool has stride = size"),
])
def test_unmappable_networks_are_refused(layers, message):
    network = FloatNetwork("x", layers(np.random.default_rng(0)))
    with pytest.raises(ValueError, match=message):
        quantize(network, random_images(3))


def test_bad_calibration_arguments():
    network = FloatNetwork("x", [Dense.init(np.random.default_rng(0), 784, 10)])
    with pytest.raises(ValueError, match="non-empty batch"):
        quantize(network, random_images(0))
    with pytest.raises(ValueError, match="percentile"):
        quantize(network, random_images(2), percentile=0)
