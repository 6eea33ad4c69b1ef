"""Float layers for training the MNIST networks in pure NumPy (forward and backward passes).

The layers mirror the integer layers of `accel.nn.network` one to one, in the same layout, so
that `accel.nn.quantize` can map a trained `FloatNetwork` onto a `QuantizedNetwork` layer by
layer:

* tensors are batches in NHWC order (sample, height, width, channels);
* `Conv` is a convolution with weight ``(kh, kw, cin, cout)`` (im2col with the patch flattened
  in ``(kh, kw, cin)`` order, the order of ``weight.reshape(-1, cout)``), zero padding ("valid" by
  default, "same" or explicit ``(top, left, bottom, right)``) and a stride (default 1);
* `MaxPool` takes ``size x size`` maxima every ``stride`` pixels (default ``stride = size``:
  non-overlapping), dropping a remainder row or column;
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

__all__ = ["Conv", "Dense", "FloatLayer", "FloatNetwork", "MaxPool", "Padding", "ReLU",
           "conv_padding", "softmax_cross_entropy"]

DTYPE = np.float32


def _float(value: np.ndarray) -> np.ndarray:
    array = np.asarray(value)
    return array if np.issubdtype(array.dtype, np.floating) else array.astype(DTYPE)


def _he_normal(rng: np.random.Generator, shape: tuple[int, ...], fan_in: int) -> np.ndarray:
    return (rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)).astype(DTYPE)


Padding = Union[str, int, tuple]


def conv_padding(padding: Padding, kernel: tuple[int, int], stride: tuple[int, int],
                 size: tuple[int, int]) -> tuple[int, int, int, int]:
    """Explicit ``(top, left, bottom, right)`` zero padding of a convolution.

    Parameters
    ----------
    padding : "valid", "same", int or (top, left, bottom, right)
        ``"same"`` gives ``ceil(size / stride)`` outputs per axis, with the odd pixel of an
        uneven total at the bottom/right (ONNX ``SAME_UPPER``, TensorFlow ``SAME``); for stride 1
        and an odd kernel ``k`` that is ``(k - 1) / 2`` on every side (PyTorch ``padding=k//2``).
    kernel, stride, size : (int, int)
        Kernel, stride and input (height, width).

    Raises
    ------
    ValueError
        ``padding`` is none of these.
    """
    if isinstance(padding, str):
        if padding == "valid":
            return (0, 0, 0, 0)
        if padding == "same":
            totals = [max((-(-n // s) - 1) * s + k - n, 0)
                      for n, k, s in zip(size, kernel, stride)]
            return (totals[0] // 2, totals[1] // 2, totals[0] - totals[0] // 2,
                    totals[1] - totals[1] // 2)
    elif isinstance(padding, (int, np.integer)) and not isinstance(padding, bool):
        if padding >= 0:
            return (int(padding),) * 4
    elif (isinstance(padding, (tuple, list)) and len(padding) == 4
          and all(isinstance(p, (int, np.integer)) and not isinstance(p, bool) and p >= 0
                  for p in padding)):
        return tuple(int(p) for p in padding)  # type: ignore[return-value]
    raise ValueError(f"padding must be 'valid', 'same', an integer >= 0 or (top, left, bottom, "
                     f"right), not {padding!r}")


def _stride_pair(stride) -> tuple[int, int]:
    pair = tuple(stride) if isinstance(stride, (tuple, list)) else (stride, stride)
    if (len(pair) != 2 or not all(isinstance(s, (int, np.integer)) and not isinstance(s, bool)
                                  and s >= 1 for s in pair)):
        raise ValueError(f"stride must be an integer >= 1 or a pair of them, not {stride!r}")
    return int(pair[0]), int(pair[1])


class Conv:
    """2-D convolution with zero padding and a stride (by default "valid", stride 1).

    Parameters
    ----------
    weight : ndarray, shape (kh, kw, cin, cout)
    bias : ndarray, shape (cout,)
    padding : "valid", "same", int or (top, left, bottom, right)
        See `conv_padding`; ``"same"`` is resolved per input size.
    stride : int or (int, int)
        Vertical and horizontal step; output size ``(padded - k) // stride + 1`` per axis.

    Raises
    ------
    ValueError
        A bad ``padding`` or ``stride``.
    """

    def __init__(self, weight: np.ndarray, bias: np.ndarray, padding: Padding = "valid",
                 stride=1) -> None:
        self.params = {"weight": _float(weight), "bias": _float(bias)}
        self.grads: dict[str, np.ndarray] = {}
        if not (isinstance(padding, str) and padding == "same"):
            conv_padding(padding, (1, 1), (1, 1), (1, 1))  # validate now
        self.padding = padding
        self.stride = _stride_pair(stride)
        self._cache: tuple | None = None

    @classmethod
    def init(cls, rng: np.random.Generator, kernel: int, cin: int, cout: int,
             padding: Padding = "valid", stride=1) -> "Conv":
        """He-initialized weights, zero bias."""
        fan_in = kernel * kernel * cin
        return cls(_he_normal(rng, (kernel, kernel, cin, cout), fan_in), np.zeros(cout, DTYPE),
                   padding, stride)

    @property
    def kernel(self) -> tuple[int, int]:
        return tuple(self.params["weight"].shape[:2])  # type: ignore[return-value]

    def pads(self, size: tuple[int, int]) -> tuple[int, int, int, int]:
        """``(top, left, bottom, right)`` padding for an input of ``(height, width)``."""
        return conv_padding(self.padding, self.kernel, self.stride, size)

    def output_size(self, size: tuple[int, int]) -> tuple[int, int]:
        """Output ``(height, width)`` for an input of ``(height, width)``."""
        top, left, bottom, right = self.pads(size)
        (kh, kw), (sh, sw) = self.kernel, self.stride
        return ((size[0] + top + bottom - kh) // sh + 1, (size[1] + left + right - kw) // sw + 1)

    def _patches(self, x: np.ndarray, pads: tuple[int, int, int, int]) -> np.ndarray:
        (kh, kw), (sh, sw) = self.kernel, self.stride
        top, left, bottom, right = pads
        if any(pads):
            x = np.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)))
        if x.shape[1] < kh or x.shape[2] < kw:
            raise ValueError(f"conv: a {kh}x{kw} kernel does not fit the padded input "
                             f"{x.shape[1]}x{x.shape[2]}")
        windows = np.lib.stride_tricks.sliding_window_view(x, (kh, kw), axis=(1, 2))
        windows = windows[:, ::sh, ::sw]
        # windows: (n, oh, ow, cin, kh, kw) -> patches (n, oh, ow, kh * kw * cin)
        n, oh, ow, cin = windows.shape[:4]
        return windows.transpose(0, 1, 2, 4, 5, 3).reshape(n, oh, ow, kh * kw * cin)

    def forward(self, x: np.ndarray, train: bool = False) -> np.ndarray:
        weight = self.params["weight"]
        pads = self.pads(x.shape[1:3])
        patches = self._patches(x, pads)
        out = patches @ weight.reshape(-1, weight.shape[3]) + self.params["bias"]
        self._cache = (x.shape, pads, patches) if train else None
        return out

    def backward(self, grad: np.ndarray, input_grad: bool = True) -> np.ndarray | None:
        x_shape, (top, left, bottom, right), patches = self._cache
        weight = self.params["weight"]
        kh, kw, cin, cout = weight.shape
        sh, sw = self.stride
        flat_grad = grad.reshape(-1, cout)
        self.grads["weight"] = (patches.reshape(-1, patches.shape[-1]).T @ flat_grad
                                ).reshape(weight.shape)
        self.grads["bias"] = flat_grad.sum(axis=0)
        if not input_grad:
            return None
        grad_patches = (grad @ weight.reshape(-1, cout).T).reshape(*grad.shape[:3], kh, kw, cin)
        n, h, w, _ = x_shape
        grad_x = np.zeros((n, h + top + bottom, w + left + right, cin), grad.dtype)
        oh, ow = grad.shape[1:3]
        for i in range(kh):
            for j in range(kw):
                grad_x[:, i:i + sh * (oh - 1) + 1:sh, j:j + sw * (ow - 1) + 1:sw, :] += \
                    grad_patches[:, :, :, i, j, :]
        return grad_x[:, top:top + h, left:left + w, :]


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
    """``size x size`` max pooling with a stride (default ``size``: non-overlapping windows),
    no padding; a remainder row or column that does not fill a window is dropped (output
    ``(h - size) // stride + 1`` per axis, ONNX MaxPool without pads). The gradient goes to the
    first maximum of each window (summed where windows overlap).

    Parameters
    ----------
    size : int
        Window side, at least 1.
    stride : int, optional
        Step between windows, at least 1; default ``size``.

    Raises
    ------
    ValueError
        ``size`` or ``stride`` below 1.
    """

    def __init__(self, size: int = 2, stride: int | None = None) -> None:
        stride = size if stride is None else stride
        for name, value in (("size", size), ("stride", stride)):
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
                raise ValueError(f"max-pool {name} must be an integer >= 1, not {value!r}")
        self.size = int(size)
        self.stride = int(stride)
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        self._cache: tuple | None = None

    def output_size(self, size: tuple[int, int]) -> tuple[int, int]:
        """Output ``(height, width)`` for an input of ``(height, width)``."""
        if min(size) < self.size:
            raise ValueError(f"max-pool: a {self.size}x{self.size} window does not fit the "
                             f"input {size[0]}x{size[1]}")
        return ((size[0] - self.size) // self.stride + 1,
                (size[1] - self.size) // self.stride + 1)

    def _windows(self, x: np.ndarray) -> np.ndarray:
        s, t = self.size, self.stride
        n, h, w, c = x.shape
        oh, ow = self.output_size((h, w))
        if s == t:
            cropped = x[:, :oh * s, :ow * s, :].reshape(n, oh, s, ow, s, c)
            return cropped.transpose(0, 1, 3, 5, 2, 4).reshape(n, oh, ow, c, s * s)
        windows = np.lib.stride_tricks.sliding_window_view(x, (s, s), axis=(1, 2))
        return windows[:, ::t, ::t].reshape(n, oh, ow, c, s * s)

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
        s, t = self.size, self.stride
        n, oh, ow, c = grad.shape
        windows = np.zeros((n, oh, ow, c, s * s), grad.dtype)
        np.put_along_axis(windows, winner[..., None], grad[..., None], axis=-1)
        grad_x = np.zeros(x_shape, grad.dtype)
        if s == t:
            grad_x[:, :oh * s, :ow * s, :] = windows.reshape(n, oh, ow, c, s, s).transpose(
                0, 1, 4, 2, 5, 3).reshape(n, oh * s, ow * s, c)
            return grad_x
        windows = windows.reshape(n, oh, ow, c, s, s)
        for i in range(s):
            for j in range(s):
                grad_x[:, i:i + t * (oh - 1) + 1:t, j:j + t * (ow - 1) + 1:t, :] += \
                    windows[:, :, :, :, i, j]
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
