"""NumPy training: input encoding, augmentation, determinism, and that it learns."""

import numpy as np
import pytest

from accel.nn.layers import Conv, MaxPool
from accel.nn.mnist.data import load_offline, split_offline
from accel.nn.network import quantize_input
from accel.nn.train import (
    TrainConfig,
    accuracy,
    build_network,
    float_input,
    input_scale,
    shift_images,
    train,
)
from tests.support.nets import random_images


@pytest.mark.parametrize("shift", [0, 1, 2])
def test_float_input_is_the_quantized_input_times_a_fixed_scale(shift):
    images = random_images(3, seed=shift)
    expected = quantize_input(images, shift) * input_scale(shift)
    np.testing.assert_allclose(float_input(images, shift), expected, rtol=1e-6)
    assert float_input(images, shift).dtype == np.float32
    assert float_input(np.full((1, 28, 28), 255, np.uint8), shift).max() == pytest.approx(1.0)


def test_shift_images_moves_each_image_within_range():
    rng = np.random.default_rng(0)
    images = np.zeros((50, 28, 28), np.uint8)
    images[:, 10:18, 9:19] = rng.integers(1, 256, (50, 8, 10))
    shifted = shift_images(images, np.random.default_rng(1), 2)
    moves = set()
    for before, after in zip(images, shifted):
        found = [(dy, dx) for dy in range(-2, 3) for dx in range(-2, 3)
                 if np.array_equal(np.roll(before, (dy, dx), axis=(0, 1)), after)]
        assert len(found) == 1
        moves.add(found[0])
    assert len(moves) > 10  # the shifts vary
    np.testing.assert_array_equal(shift_images(images, rng, 0), images)


def test_shift_images_fills_with_zeros():
    images = np.full((20, 28, 28), 7, np.uint8)
    shifted = shift_images(images, np.random.default_rng(2), 1)
    assert set(np.unique(shifted)) <= {0, 7} and (shifted == 0).any()


def test_architectures_fit_the_budget():
    rng = np.random.default_rng(0)
    cnn = build_network("cnn", rng)
    assert cnn.forward(np.zeros((2, 28, 28, 1), np.float32)).shape == (2, 10)
    weights = sum(layer.params["weight"].size for layer in cnn.layers if layer.params)
    assert weights <= 24 * 1024
    mlp = build_network("mlp", rng)
    assert [layer.params["weight"].shape for layer in mlp.layers if layer.params] == [
        (784, 128), (128, 10)]
    with pytest.raises(ValueError, match="arch must be one of cnn, cnn5, mlp"):
        build_network("rnn", rng)


def test_cnn5_has_same_convolutions_and_3x3_stride_3_pools():
    network = build_network("cnn5", np.random.default_rng(0))
    shapes, x = [], np.zeros((1, 28, 28, 1), np.float32)
    for layer in network.layers:
        x = layer.forward(x)
        shapes.append(x.shape[1:])
    assert shapes == [(28, 28, 8), (28, 28, 8), (9, 9, 8), (9, 9, 16), (9, 9, 16), (3, 3, 16),
                      (10,)]
    convs = [layer for layer in network.layers if isinstance(layer, Conv)]
    assert [c.params["weight"].shape for c in convs] == [(5, 5, 1, 8), (5, 5, 8, 16)]
    assert all(c.padding == "same" and c.stride == (1, 1) for c in convs)
    assert [(p.size, p.stride) for p in network.layers if isinstance(p, MaxPool)] == [
        (3, 3), (3, 3)]


@pytest.mark.parametrize("field, value, message", [
    ("arch", "vgg", "arch must be one of"), ("epochs", 0, "epochs must be at least 1"),
    ("batch_size", 0, "batch_size must be at least 1"), ("max_shift", 5, "max_shift"),
    ("input_shift", 8, "input_shift")])
def test_train_config_validation(field, value, message):
    with pytest.raises(ValueError, match=message):
        TrainConfig(**{field: value})


def weights(network):
    return [value.copy() for _, params, _ in network.parameters() for value in params.values()]


def test_training_is_deterministic_given_the_seed():
    images = random_images(96, seed=5)
    labels = np.random.default_rng(6).integers(0, 10, 96)
    config = TrainConfig(arch="cnn", epochs=2, seed=7, batch_size=32)
    first = weights(train(config, images, labels))
    second = weights(train(config, images, labels))
    other = weights(train(TrainConfig(arch="cnn", epochs=2, seed=8, batch_size=32),
                          images, labels))
    assert all(np.array_equal(a, b) for a, b in zip(first, second))
    assert not all(np.array_equal(a, b) for a, b in zip(first, other))


@pytest.mark.slow
def test_training_learns_and_reports_progress():
    train_x, train_y, held_x, held_y = split_offline(*load_offline(seed=0), holdout=0.2, seed=0)
    reports = []
    network = train(TrainConfig(arch="mlp", epochs=2, seed=0), train_x, train_y, held_x[:200],
                    held_y[:200], progress=reports.append)
    assert [r.epoch for r in reports] == [1, 2] and all(r.epochs == 2 for r in reports)
    assert reports[1].loss < reports[0].loss
    assert reports[1].eval_accuracy == accuracy(network, float_input(held_x[:200]), held_y[:200])
    assert accuracy(network, float_input(held_x), held_y) > 0.8


def test_train_rejects_bad_shapes():
    with pytest.raises(ValueError, match="images"):
        train(TrainConfig(arch="mlp", epochs=1), np.zeros((4, 27, 28), np.uint8), np.zeros(4))
