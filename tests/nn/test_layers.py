"""Float training layers: forward passes against direct formulas, backward passes against
central finite differences (float64, tiny shapes)."""

import numpy as np
import pytest

from accel.nn.layers import (Conv, Dense, FloatNetwork, MaxPool, ReLU, conv_padding,
                             softmax_cross_entropy)

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


def direct_conv(x, weight, bias, pads, stride):
    """The convolution by its definition: zero-pad, then sum every window."""
    top, left, bottom, right = pads
    padded = np.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)))
    kh, kw, _, cout = weight.shape
    oh = (padded.shape[1] - kh) // stride[0] + 1
    ow = (padded.shape[2] - kw) // stride[1] + 1
    out = np.zeros((x.shape[0], oh, ow, cout))
    for n, i, j, o in np.ndindex(out.shape):
        window = padded[n, i * stride[0]:i * stride[0] + kh, j * stride[1]:j * stride[1] + kw]
        out[n, i, j, o] = np.sum(window * weight[:, :, :, o]) + bias[o]
    return out


@pytest.mark.parametrize("size, kernel, stride, expected", [
    ((28, 28), (5, 5), (1, 1), (2, 2, 2, 2)),      # PyTorch padding=2
    ((9, 9), (5, 5), (1, 1), (2, 2, 2, 2)),
    ((5, 7), (2, 3), (1, 1), (0, 1, 1, 1)),        # even kernel: the odd pixel bottom/right
    ((28, 28), (3, 3), (2, 2), (0, 0, 1, 1)),      # ceil(28 / 2) = 14 outputs
    ((7, 6), (3, 1), (3, 2), (1, 0, 1, 0)),
    ((4, 4), (1, 1), (4, 4), (0, 0, 0, 0))])
def test_same_padding_keeps_ceil_size_over_stride(size, kernel, stride, expected):
    assert conv_padding("same", kernel, stride, size) == expected
    layer = Conv(np.zeros((*kernel, 1, 1)), np.zeros(1), "same", stride)
    assert layer.output_size(size) == tuple(-(-n // s) for n, s in zip(size, stride))


@pytest.mark.parametrize("padding, stride", [
    ("same", 1), ("same", 2), ((0, 1, 2, 0), 1), (1, (2, 1)), ("valid", (1, 3)),
    ((2, 0, 0, 1), 2)])
def test_padded_strided_conv_forward_and_gradients(padding, stride):
    rng = np.random.default_rng(11)
    x = rng.standard_normal((2, 5, 6, 2))
    layer = Conv(rng.standard_normal((3, 2, 2, 3)), rng.standard_normal(3), padding, stride)
    pairs = (stride, stride) if np.ndim(stride) == 0 else stride
    expected = direct_conv(x, layer.params["weight"], layer.params["bias"],
                           layer.pads((5, 6)), pairs)
    out = layer.forward(x)
    assert out.shape == (2, *layer.output_size((5, 6)), 3)
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12)
    check_layer(layer, x)


def test_same_conv_of_one_pixel_and_one_channel():
    rng = np.random.default_rng(12)
    layer = Conv(rng.standard_normal((5, 5, 1, 1)), rng.standard_normal(1), "same")
    x = rng.standard_normal((1, 1, 1, 1))
    np.testing.assert_allclose(layer.forward(x)[0, 0, 0, 0],
                               x[0, 0, 0, 0] * layer.params["weight"][2, 2, 0, 0]
                               + layer.params["bias"][0])
    check_layer(layer, x)


@pytest.mark.parametrize("padding", ["full", -1, (1, 2, 3), (0, 0, 0, -1), True, 1.5])
def test_conv_rejects_bad_padding(padding):
    with pytest.raises(ValueError, match="padding must be"):
        Conv(np.zeros((3, 3, 1, 1)), np.zeros(1), padding)


@pytest.mark.parametrize("stride", [0, (1, 0), (1, 2, 3), 1.0])
def test_conv_rejects_bad_stride(stride):
    with pytest.raises(ValueError, match="stride must be"):
        Conv(np.zeros((3, 3, 1, 1)), np.zeros(1), stride=stride)


def test_conv_kernel_larger_than_the_padded_input_is_a_value_error():
    with pytest.raises(ValueError, match="does not fit"):
        Conv(np.zeros((5, 5, 1, 1)), np.zeros(1)).forward(np.zeros((1, 4, 9, 1)))


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


@pytest.mark.parametrize("shape, size, stride", [
    ((2, 28, 28, 1), 3, 3),    # 28 -> 9, the remainder row and column dropped
    ((1, 9, 9, 2), 3, 3),      # 9 -> 3
    ((2, 7, 8, 2), 3, 2),      # overlapping windows
    ((1, 5, 6, 1), 2, 3),      # gaps between windows
    ((1, 4, 1, 3), 1, 2)])
def test_strided_maxpool_forward_and_gradients(shape, size, stride):
    x = np.random.default_rng(13).standard_normal(shape)
    layer = MaxPool(size, stride)
    out = layer.forward(x)
    oh, ow = (shape[1] - size) // stride + 1, (shape[2] - size) // stride + 1
    assert out.shape == (shape[0], oh, ow, shape[3]) == (shape[0], *layer.output_size(
        shape[1:3]), shape[3])
    for n, i, j, c in np.ndindex(out.shape):
        window = x[n, i * stride:i * stride + size, j * stride:j * stride + size, c]
        assert out[n, i, j, c] == window.max()
    if shape[1] <= 9:  # finite differences over every input: small shapes only
        check_layer(layer, x)


def test_maxpool_stride_defaults_to_the_size():
    assert MaxPool(3).stride == 3 and MaxPool().size == MaxPool().stride == 2


@pytest.mark.parametrize("size, stride", [(0, None), (2, 0), (2.0, None), (2, -1)])
def test_maxpool_rejects_bad_parameters(size, stride):
    with pytest.raises(ValueError, match="max-pool (size|stride) must be"):
        MaxPool(size, stride)


def test_maxpool_window_larger_than_the_input_is_a_value_error():
    with pytest.raises(ValueError, match="does not fit"):
        MaxPool(3).forward(np.zeros((1, 2, 5, 1)))


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
