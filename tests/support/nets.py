"""Random quantized networks of the shapes the MNIST demo uses (seeded), for tests."""

import numpy as np

from accel.nn.network import Conv2D, Dense, MaxPool2D, QuantizedNetwork
from accel.compiler.tiler import Requant


def _w(rng, *shape):
    return rng.integers(-128, 128, shape)


def _b(rng, n):
    return rng.integers(-3000, 3000, n)


def random_cnn(seed=0, c1=8, c2=16):
    rng = np.random.default_rng(seed)
    return QuantizedNetwork("cnn", [
        Conv2D(_w(rng, 3, 3, 1, c1), _b(rng, c1), Requant(1 << 30, 38, relu=True)),
        MaxPool2D(2),
        Conv2D(_w(rng, 3, 3, c1, c2), _b(rng, c2), Requant(1 << 30, 41, relu=True)),
        MaxPool2D(2),
        Dense(_w(rng, 5 * 5 * c2, 10), _b(rng, 10), None),
    ])


def random_mlp(seed=0, hidden=32):
    rng = np.random.default_rng(seed)
    return QuantizedNetwork("mlp", [
        Dense(_w(rng, 784, hidden), _b(rng, hidden), Requant(1 << 30, 43, relu=True)),
        Dense(_w(rng, hidden, 10), _b(rng, 10), None),
    ])


def random_images(count, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (count, 28, 28)).astype(np.uint8)
