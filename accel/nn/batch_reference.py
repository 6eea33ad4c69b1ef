"""`accel.nn.network.reference` for a whole batch of images at once (fast, still exact).

Integer products of int8 tensors are summed in float64 through BLAS: every partial sum is an
integer of magnitude below ``inputs x 2**14``, far inside float64's exact range (2**53), so the
accumulators are exact; bias, 32-bit wrap and requantization then run in int64 exactly as in
`reference`. Tests check the two agree logit for logit.
"""

from __future__ import annotations

import numpy as np

from accel.golden.arith import activate, wrap
from accel.nn._blas import single_threaded_blas
from accel.nn.network import ACC_WIDTH, Conv2D, Dense, MaxPool2D, QuantizedNetwork, quantize_input

__all__ = ["reference_batch", "int8_accuracy"]


def _exact_matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.rint(a.astype(np.float64) @ b.astype(np.float64)).astype(np.int64)


def _requant(acc: np.ndarray, layer: Conv2D | Dense) -> np.ndarray:
    acc = wrap(acc, ACC_WIDTH)
    requant = layer.requant
    if requant is None:
        return acc
    return activate(acc, multiplier=requant.multiplier, shift=requant.shift, relu=requant.relu,
                    zero_point=requant.zero_point, acc_width=ACC_WIDTH, out_width=8)


def _conv(x: np.ndarray, layer: Conv2D) -> np.ndarray:
    kh, kw, cin, cout = layer.weight.shape
    windows = np.lib.stride_tricks.sliding_window_view(x, (kh, kw), axis=(1, 2))
    n, oh, ow = windows.shape[:3]
    patches = windows.transpose(0, 1, 2, 4, 5, 3).reshape(n, oh, ow, kh * kw * cin)
    return _exact_matmul(patches, layer.weight.reshape(-1, cout)) + layer.bias


def _pool(x: np.ndarray, size: int) -> np.ndarray:
    n, h, w, c = x.shape
    oh, ow = h // size, w // size
    return x[:, :oh * size, :ow * size].reshape(n, oh, size, ow, size, c).max(axis=(2, 4))


def reference_batch(network: QuantizedNetwork, images: np.ndarray,
                    chunk: int = 256) -> np.ndarray:
    """Exact int32 logits ``(n, classes)`` of uint8 images ``(n, 28, 28)``: row ``i`` equals
    ``reference(network, images[i])``.

    Parameters
    ----------
    network : QuantizedNetwork
    images : numpy.ndarray
        uint8-valued ``(n, height, width)`` images of the network's input size.
    chunk : int
        Images processed together (bounds memory use).
    """
    images = np.asarray(images)
    if images.ndim != 3 or (*images.shape[1:], 1) != network.input_shape:
        raise ValueError(f"the network takes images of shape {network.input_shape[:2]}, "
                         f"not a batch of shape {images.shape}")
    with single_threaded_blas():
        parts = [_logits(network, images[start:start + chunk])
                 for start in range(0, len(images), chunk)]
    if not parts:
        return np.zeros((0, network.classes), dtype=np.int32)
    return np.concatenate(parts)


def _logits(network: QuantizedNetwork, images: np.ndarray) -> np.ndarray:
    x = quantize_input(images, network.input_shift)
    for layer in network.layers:
        if isinstance(layer, Conv2D):
            x = _requant(_conv(x, layer), layer)
        elif isinstance(layer, MaxPool2D):
            x = _pool(x, layer.size)
        else:
            flat = x.reshape(x.shape[0], -1)
            x = _requant(_exact_matmul(flat, layer.weight) + layer.bias, layer)
    return x.astype(np.int32)


def int8_accuracy(network: QuantizedNetwork, images: np.ndarray, labels: np.ndarray) -> float:
    """Fraction of images whose largest int32 logit (first on ties) is at the label."""
    logits = reference_batch(network, images)
    return float(np.mean(logits.argmax(axis=1) == np.asarray(labels)))
