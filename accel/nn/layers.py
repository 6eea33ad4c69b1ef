"""Float layers for training the MNIST networks in pure NumPy (forward and backward passes).

The layers mirror the integer layers of `accel.nn.network` one to one, in the same layout, so
that `accel.nn.quantize` can map a trained `FloatNetwork` onto a `QuantizedNetwork` layer by
layer:

* tensors are batches in NHWC order (sample, height, width, channels);
* `Conv` is a "valid", stride-1 convolution with weight ``(kh, kw, cin, cout)`` (im2col with the
  patch flattened in ``(kh, kw, cin)`` order, the order of ``weight.reshape(-1, cout)``);
* `MaxPool` takes non-overlapping ``size x size`` maxima, dropping a remainder row or column;
* `Dense` flattens its input per sample in HWC order; weight is ``(inputs, outputs)``;
* `ReLU` follows a `Conv` or `Dense` whose output the quantized network requantizes with ReLU.

Every layer has ``forward(x, train)`` (caching what its backward pass needs when ``train`` is
true), ``backward(grad, input_grad=True) -> grad of its input`` (filling ``grads``; None when
``input_grad`` is false, which saves the first layer's work), and ``params``/``grads``
dicts of arrays (empty for parameter-free layers). Arithmetic is in the parameters' and inputs'
float type: float32 for training (`DTYPE`), float64 where precision matters (gradient checks).
"""

from __future__ import annotations

from typing import Union

import numpy as np

__all__ = ["Conv", "Dense", "FloatLayer", "FloatNetwork", "MaxPool", "ReLU",
           "softmax_cross_entropy"]

DTYPE = np.float32


def _float(value: np.ndarray) -> np.ndarray:
    array = np.asarray(value)
    return array if np.issubdtype(array.dtype, np.floating) else array.astype(DTYPE)


def _he_normal(rng: np.random.Generator, shape: tuple[int, ...], fan_in: int) -> np.ndarray:
    return (rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)).astype(DTYPE)


class Conv:
    """"Valid", stride-1 2-D convolution.

    Parameters
    ----------
    weight : ndarray, shape (kh, kw, cin, cout)
    bias : ndarray, shape (cout,)
    """

    def __init__(self, weight: np.ndarray, bias: np.ndarray) -> None:
        self.params = {"weight": _float(weight), "bias": _float(bias)}
        self.grads: dict[str, np.ndarray] = {}
        self._cache: tuple | None = None

    @classmethod
    def init(cls, rng: np.random.Generator, kernel: int, cin: int, cout: int) -> "Conv":
        """He-initialized weights, zero bias."""
        fan_in = kernel * kernel * cin
        return cls(_he_normal(rng, (kernel, kernel, cin, cout), fan_in), np.zeros(cout, DTYPE))

    def _patches(self, x: np.ndarray) -> np.ndarray:
        kh, kw = self.params["weight"].shape[:2]
        windows = np.lib.stride_tricks.sliding_window_view(x, (kh, kw), axis=(1, 2))
        # windows: (n, oh, ow, cin, kh, kw) -> patches (n, oh, ow, kh * kw * cin)
        n, oh, ow, cin = windows.shape[:4]
        return windows.transpose(0, 1, 2, 4, 5, 3).reshape(n, oh, ow, kh * kw * cin)

    def forward(self, x: np.ndarray, train: bool = False) -> np.ndarray:
        weight = self.params["weight"]
        patches = self._patches(x)
        out = patches @ weight.reshape(-1, weight.shape[3]) + self.params["bias"]
        self._cache = (x.shape, patches) if train else None
        return out

    def backward(self, grad: np.ndarray, input_grad: bool = True) -> np.ndarray | None:
        x_shape, patches = self._cache
        weight = self.params["weight"]
        kh, kw, cin, cout = weight.shape
        flat_grad = grad.reshape(-1, cout)
        self.grads["weight"] = (patches.reshape(-1, patches.shape[-1]).T @ flat_grad
                                ).reshape(weight.shape)
        self.grads["bias"] = flat_grad.sum(axis=0)
        if not input_grad:
            return None
        grad_patches = (grad @ weight.reshape(-1, cout).T).reshape(*grad.shape[:3], kh, kw, cin)
        grad_x = np.zeros(x_shape, grad.dtype)
        oh, ow = grad.shape[1:3]
        for i in range(kh):
            for j in range(kw):
                grad_x[:, i:i + oh, j:j + ow, :] += grad_patches[:, :, :, i, j, :]
        return grad_x


class Dense:
    """Fully connected layer on the per-sample HWC flattening of its input.

    Parameters
    ----------
    weight : ndarray, shape (inputs, outputs)
    bias : ndarray, shape (outputs,)
    """

    def __init__(self, weight: np.ndarray, bias: np.ndarray) -> None:
        self.params = {"weight": _float(weight), "bias": _float(bias)}
        self.grads: dict[str, np.ndarray] = {}
        self._cache: tuple | None = None

    @classmethod
    def init(cls, rng: np.random.Generator, inputs: int, outputs: int) -> "Dense":
        """He-initialized weights, zero bias."""
        return cls(_he_normal(rng, (inputs, outputs), inputs), np.zeros(outputs, DTYPE))

    def forward(self, x: np.ndarray, train: bool = False) -> np.ndarray:
        flat = x.reshape(x.shape[0], -1)
        self._cache = (x.shape, flat) if train else None
        return flat @ self.params["weight"] + self.params["bias"]

    def backward(self, grad: np.ndarray, input_grad: bool = True) -> np.ndarray | None:
        x_shape, flat = self._cache
        self.grads["weight"] = flat.T @ grad
        self.grads["bias"] = grad.sum(axis=0)
        if not input_grad:
            return None
        return (grad @ self.params["weight"].T).reshape(x_shape)


class ReLU:
    """``max(x, 0)``; its gradient is 0 where ``x <= 0``."""

    def __init__(self) -> None:
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        self._mask: np.ndarray | None = None

    def forward(self, x: np.ndarray, train: bool = False) -> np.ndarray:
        mask = x > 0
        self._mask = mask if train else None
        return np.where(mask, x, 0).astype(x.dtype, copy=False)

    def backward(self, grad: np.ndarray, input_grad: bool = True) -> np.ndarray | None:
        if not input_grad:
            return None
        return np.where(self._mask, grad, 0).astype(grad.dtype, copy=False)


class MaxPool:
    """Non-overlapping ``size x size`` max pooling; the gradient goes to the first maximum of
    each window."""

    def __init__(self, size: int = 2) -> None:
        self.size = size
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        self._cache: tuple | None = None

    def _windows(self, x: np.ndarray) -> np.ndarray:
        s = self.size
        n, h, w, c = x.shape
        oh, ow = h // s, w // s
        cropped = x[:, :oh * s, :ow * s, :].reshape(n, oh, s, ow, s, c)
        return cropped.transpose(0, 1, 3, 5, 2, 4).reshape(n, oh, ow, c, s * s)

    def forward(self, x: np.ndarray, train: bool = False) -> np.ndarray:
        windows = self._windows(x)
        if not train:
            self._cache = None
            return windows.max(axis=-1)
        winner = windows.argmax(axis=-1)
        self._cache = (x.shape, winner)
        return np.take_along_axis(windows, winner[..., None], axis=-1)[..., 0]

    def backward(self, grad: np.ndarray, input_grad: bool = True) -> np.ndarray | None:
        if not input_grad:
            return None
        x_shape, winner = self._cache
        s = self.size
        n, oh, ow, c = grad.shape
        windows = np.zeros((n, oh, ow, c, s * s), grad.dtype)
        np.put_along_axis(windows, winner[..., None], grad[..., None], axis=-1)
        grad_x = np.zeros(x_shape, grad.dtype)
        grad_x[:, :oh * s, :ow * s, :] = windows.reshape(n, oh, ow, c, s, s).transpose(
            0, 1, 4, 2, 5, 3).reshape(n, oh * s, ow * s, c)
        return grad_x


FloatLayer = Union[Conv, Dense, ReLU, MaxPool]


def softmax_cross_entropy(logits: np.ndarray, labels: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean cross-entropy of ``softmax(logits)`` against integer ``labels``, and its gradient
    with respect to ``logits``."""
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    n = logits.shape[0]
    loss = -float(log_probs[np.arange(n), labels].mean())
    grad = np.exp(log_probs)
    grad[np.arange(n), labels] -= 1
    return loss, (grad / n).astype(logits.dtype)


class FloatNetwork:
    """A chain of float layers ending in a `Dense` layer whose outputs are the logits.

    Parameters
    ----------
    name : str
        ``mlp``, ``cnn`` or any identifier (carried over to the quantized network).
    layers : sequence of FloatLayer
    input_shape : (int, int, int)
        HWC shape of one input.
    """

    def __init__(self, name: str, layers: list[FloatLayer],
                 input_shape: tuple[int, int, int] = (28, 28, 1)) -> None:
        self.name = name
        self.layers = list(layers)
        self.input_shape = tuple(input_shape)

    def forward(self, x: np.ndarray, train: bool = False) -> np.ndarray:
        """Logits ``(n, classes)`` of a float batch ``(n, *input_shape)``."""
        for layer in self.layers:
            x = layer.forward(x, train)
        return x

    def backward(self, grad: np.ndarray, input_grad: bool = True) -> np.ndarray | None:
        """Back-propagate the gradient of the logits (after ``forward(..., train=True)``),
        filling every layer's ``grads``; return the gradient of the input (None unless
        ``input_grad``)."""
        for index in range(len(self.layers) - 1, -1, -1):
            grad = self.layers[index].backward(grad, input_grad=input_grad or index > 0)
        return grad

    def predict(self, x: np.ndarray, batch: int = 500) -> np.ndarray:
        """Logits of a float batch, computed in chunks of ``batch`` samples."""
        return np.concatenate([self.forward(x[i:i + batch]) for i in range(0, len(x), batch)])

    def parameters(self) -> list[tuple[str, dict[str, np.ndarray], dict[str, np.ndarray]]]:
        """``(index, params, grads)`` of every layer that has parameters; ``index`` is the
        layer's position as a string."""
        return [(str(i), layer.params, layer.grads) for i, layer in enumerate(self.layers)
                if layer.params]
