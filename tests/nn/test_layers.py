"""Float training layers: forward passes against direct formulas, backward passes against
central finite differences (float64, tiny shapes)."""

import numpy as np
import pytest

from accel.nn.layers import Conv, Dense, FloatNetwork, MaxPool, ReLU, softmax_cross_entropy

EPS = 1e-6


def numeric_grad(f, array):
    """Central-difference gradient of the scalar ``f()`` with respect to ``array`` (in place)."""
    grad = np.zeros_like(array)
    for index in np.ndindex(array.shape):
        saved = array[index]
        array[index] = saved + EPS
        plus = f()
        array[index] = saved - EPS
        minus = f()
        array[index] = saved
        grad[index] = (plus - minus) / (2 * EPS)
    return grad


def check_layer(layer, x, seed=0):
    """Compare analytic and numeric gradients of ``sum(forward(x) * r)`` for a random ``r``."""
    out = layer.forward(x, train=True)
    r = np.random.default_rng(seed).standard_normal(out.shape)
    grad_x = layer.backward(r)

    def loss():
        return float(np.sum(layer.forward(x) * r))

    np.testing.assert_allclose(grad_x, numeric_grad(loss, x), rtol=1e-6, atol=1e-7)
    for name, value in layer.params.items():
        np.testing.assert_allclose(layer.grads[name], numeric_grad(loss, value),
                                   rtol=1e-6, atol=1e-7, err_msg=name)


def test_conv_forward_matches_direct_sum():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 5, 4, 3))
    layer = Conv(rng.standard_normal((3, 2, 3, 4)), rng.standard_normal(4))
    out = layer.forward(x)
    assert out.shape == (2, 3, 3, 4)
    w, b = layer.params["weight"], layer.params["bias"]
    for n, i, j, o in np.ndindex(out.shape):
        expected = np.sum(x[n, i:i + 3, j:j + 2, :] * w[:, :, :, o]) + b[o]
        assert out[n, i, j, o] == pytest.approx(expected)


@pytest.mark.parametrize("shape, weight", [((2, 5, 4, 3), (3, 2, 3, 4)),
                                           ((1, 4, 4, 1), (3, 3, 1, 2)),
                                           ((3, 3, 3, 2), (1, 1, 2, 1))])
def test_conv_gradients(shape, weight):
    rng = np.random.default_rng(2)
    check_layer(Conv(rng.standard_normal(weight), rng.standard_normal(weight[3])),
                rng.standard_normal(shape))


@pytest.mark.parametrize("shape, outputs", [((3, 7), 4), ((2, 3, 2, 2), 5), ((1, 1), 1)])
def test_dense_gradients(shape, outputs):
    rng = np.random.default_rng(3)
    inputs = int(np.prod(shape[1:]))
    check_layer(Dense(rng.standard_normal((inputs, outputs)), rng.standard_normal(outputs)),
                rng.standard_normal(shape))


def test_dense_flattens_in_hwc_order():
    x = np.arange(2 * 2 * 3 * 2, dtype=float).reshape(2, 2, 3, 2)
    layer = Dense(np.eye(12), np.zeros(12))
    np.testing.assert_array_equal(layer.forward(x), x.reshape(2, -1))


def test_relu_gradients():
    x = np.random.default_rng(4).standard_normal((3, 4, 2))
    x[np.abs(x) < 1e-3] = 0.5  # keep finite differences away from the kink
    check_layer(ReLU(), x)


@pytest.mark.parametrize("shape, size", [((2, 4, 4, 3), 2), ((1, 5, 7, 2), 2), ((2, 6, 6, 1), 3),
                                         ((1, 3, 3, 1), 1)])
def test_maxpool_forward_and_gradients(shape, size):
    x = np.random.default_rng(5).standard_normal(shape)  # distinct values: no ties
    layer = MaxPool(size)
    out = layer.forward(x)
    oh, ow = shape[1] // size, shape[2] // size
    assert out.shape == (shape[0], oh, ow, shape[3])
    for n, i, j, c in np.ndindex(out.shape):
        window = x[n, i * size:(i + 1) * size, j * size:(j + 1) * size, c]
        assert out[n, i, j, c] == window.max()
    check_layer(layer, x)


def test_maxpool_tie_sends_gradient_to_one_input():
    layer = MaxPool(2)
    layer.forward(np.ones((1, 2, 2, 1)), train=True)
    grad = layer.backward(np.full((1, 1, 1, 1), 3.0))
    assert grad.sum() == 3.0 and np.count_nonzero(grad) == 1


def test_softmax_cross_entropy_value_and_gradient():
    rng = np.random.default_rng(6)
    logits = rng.standard_normal((4, 5))
    labels = np.array([0, 4, 2, 2])
    loss, grad = softmax_cross_entropy(logits, labels)
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    assert loss == pytest.approx(-np.mean(np.log(probs[np.arange(4), labels])))
    np.testing.assert_allclose(
        grad, numeric_grad(lambda: softmax_cross_entropy(logits, labels)[0], logits),
        rtol=1e-6, atol=1e-8)


def test_network_backward_chains_all_layers():
    rng = np.random.default_rng(7)
    network = FloatNetwork("t", [Conv(rng.standard_normal((2, 2, 1, 2)), rng.standard_normal(2)),
                                 ReLU(), MaxPool(2),
                                 Dense(rng.standard_normal((16, 3)), rng.standard_normal(3))],
                           input_shape=(5, 9, 1))
    x = rng.standard_normal((2, 5, 9, 1))
    labels = np.array([2, 0])

    def loss():
        return softmax_cross_entropy(network.forward(x), labels)[0]

    _, grad = softmax_cross_entropy(network.forward(x, train=True), labels)
    network.backward(grad)
    for _, params, grads in network.parameters():
        for name, value in params.items():
            np.testing.assert_allclose(grads[name], numeric_grad(loss, value), rtol=1e-5,
                                       atol=1e-8, err_msg=name)


def test_skipping_the_input_gradient_keeps_parameter_gradients():
    rng = np.random.default_rng(8)
    network = FloatNetwork("t", [Conv(rng.standard_normal((3, 3, 1, 2)), rng.standard_normal(2)),
                                 ReLU(), Dense(rng.standard_normal((18, 4)), np.zeros(4))],
                           input_shape=(5, 5, 1))
    x = rng.standard_normal((3, 5, 5, 1))
    grad = rng.standard_normal((3, 4))
    network.forward(x, train=True)
    assert network.backward(grad).shape == x.shape
    full = {(i, k): v.copy() for i, _, grads in network.parameters() for k, v in grads.items()}
    network.forward(x, train=True)
    assert network.backward(grad, input_grad=False) is None
    for i, _, grads in network.parameters():
        for k, v in grads.items():
            np.testing.assert_array_equal(v, full[(i, k)])
