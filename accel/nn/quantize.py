"""Post-training int8 quantization: `FloatNetwork` -> `QuantizedNetwork`.

Every tensor is quantized symmetrically (real value = scale x integer, zero point 0):

* input: ``pixel >> input_shift`` with scale ``1 / (255 >> input_shift)`` — exactly the float
  model's input (see `accel.nn.train.float_input`), so the input needs no calibration;
* weights: per tensor, ``s_w = max|W| / 127``, ``W_q = round(W / s_w)`` in -127..127;
* bias: int32 ``round(b / (s_in x s_w))``, the scale of the accumulator;
* activations: ``s_out = r / 127`` where ``r`` is a percentile (default the maximum) of the
  float layer's output (after its ReLU) over the calibration images;
* requantization: the real factor ``s_in x s_w / s_out`` in fixed point, ``multiplier x
  2**-shift`` with ``multiplier`` in ``[2**30, 2**31)`` (`fixed_point`), which the activation
  unit applies exactly (`accel.golden.arith.activate`, round half up, ReLU, saturate to int8);
  the next layer's input scale is the one this fixed-point factor really produces;
* the last dense layer is not requantized: its int32 accumulators are the logits (scale
  ``s_in x s_w``, which does not change their argmax).

Max pooling commutes with the (monotonic) requantization, so it needs no parameters.

Weights are per tensor only: the activation unit applies one multiplier and shift per store, so
per-channel weight scales would need per-channel requantization, which it does not have (and
folding per-channel scales into the weights is not exact).
"""

from __future__ import annotations

import numpy as np

from accel.compiler.fixedpoint import fixed_point
from accel.compiler.tiler import Requant
from accel.nn._blas import single_threaded_blas
from accel.nn.layers import Conv, Dense, FloatNetwork, MaxPool, ReLU
from accel.nn.network import Conv2D, Dense as QDense, MaxPool2D, QuantizedNetwork
from accel.nn.train import float_input, input_scale

__all__ = ["fixed_point", "quantize"]

_INT8_MAX = 127
_INT32 = (-(1 << 31), (1 << 31) - 1)


def _quantize_weight(weight: np.ndarray) -> tuple[np.ndarray, float]:
    peak = float(np.max(np.abs(weight)))
    scale = peak / _INT8_MAX if peak > 0 else 1.0
    return np.clip(np.round(weight / scale), -_INT8_MAX, _INT8_MAX).astype(np.int8), scale


def _quantize_bias(bias: np.ndarray, scale: float, where: str) -> np.ndarray:
    values = np.round(np.asarray(bias, dtype=np.float64) / scale)
    if values.size and (values.min() < _INT32[0] or values.max() > _INT32[1]):
        raise ValueError(f"{where}: bias does not fit int32 at accumulator scale {scale:g}")
    return values.astype(np.int32)


def _pairs(network: FloatNetwork) -> list[tuple[object, bool]]:
    """The float layers as ``(layer, followed_by_relu)``, ReLUs folded into their producer."""
    pairs: list[tuple[object, bool]] = []
    for index, layer in enumerate(network.layers):
        if isinstance(layer, ReLU):
            if not pairs or not isinstance(pairs[-1][0], (Conv, Dense)) or pairs[-1][1]:
                raise ValueError(f"layer {index}: a ReLU must follow a conv or dense layer")
            pairs[-1] = (pairs[-1][0], True)
        elif isinstance(layer, Conv) and (layer.stride != (1, 1) or any(layer.pads((64, 64)))):
            raise ValueError(f"layer {index}: the native int8 conv is 'valid' with stride 1; "
                             "export padded or strided networks to ONNX instead")
        elif isinstance(layer, MaxPool) and layer.stride != layer.size:
            raise ValueError(f"layer {index}: the native int8 max-pool has stride = size")
        elif isinstance(layer, (Conv, Dense, MaxPool)):
            pairs.append((layer, False))
        else:
            raise ValueError(f"layer {index}: cannot quantize {type(layer).__name__}")
    return pairs


def quantize(network: FloatNetwork, calibration_images: np.ndarray, *, input_shift: int = 1,
             percentile: float = 100.0, metadata: dict | None = None) -> QuantizedNetwork:
    """Quantize a trained float network to int8 (see the module docstring for the scheme).

    Parameters
    ----------
    network : FloatNetwork
        Conv/dense layers, each optionally followed by a ReLU, and max-pool layers; the last
        layer a dense layer without ReLU.
    calibration_images : numpy.ndarray
        uint8 ``(n, 28, 28)`` images (training data) whose float activations set the
        activation scales.
    input_shift : int
        The quantized input is ``pixel >> input_shift``; must match training.
    percentile : float
        Percentile (0 < p <= 100) of each activation's magnitude that maps to 127; 100 is the
        maximum (no clipping on the calibration set).
    metadata : dict, optional
        Copied into the result's metadata, beside the recorded ``scales`` and ``calibration``.

    Returns
    -------
    QuantizedNetwork

    Raises
    ------
    ValueError
        The network has a shape this scheme cannot map, no calibration images, a bias outside
        int32 or a requantization factor outside the activation unit's range.
    """
    if not 0 < percentile <= 100:
        raise ValueError(f"percentile must be in (0, 100], not {percentile!r}")
    images = np.asarray(calibration_images)
    if images.ndim != 3 or len(images) == 0:
        raise ValueError("quantization needs a non-empty batch (n, 28, 28) of calibration images")
    pairs = _pairs(network)
    last_layer, last_relu = pairs[-1]
    if not isinstance(last_layer, Dense) or last_relu:
        raise ValueError("the last layer must be a dense layer without ReLU (it gives the logits)")

    with single_threaded_blas():
        layers, scales = _quantize_layers(pairs, images, input_shift, percentile)
    info = dict(metadata or {})
    info["calibration"] = {"images": int(len(images)), "percentile": float(percentile)}
    info["scales"] = scales
    return QuantizedNetwork(network.name, tuple(layers), input_shape=network.input_shape,
                            input_shift=input_shift, metadata=info)


def _quantize_layers(pairs: list, images: np.ndarray, input_shift: int,
                     percentile: float) -> tuple[list, list[dict]]:
    x = float_input(images, input_shift).astype(np.float64)
    scale_in = input_scale(input_shift)
    layers: list = []
    scales: list[dict] = []
    for index, (layer, relu) in enumerate(pairs):
        if isinstance(layer, MaxPool):
            layers.append(MaxPool2D(layer.size))
            x = layer.forward(x)
            continue
        weight_q, scale_w = _quantize_weight(layer.params["weight"])
        acc_scale = scale_in * scale_w
        bias_q = _quantize_bias(layer.params["bias"], acc_scale, f"layer {index}")
        if index == len(pairs) - 1:
            layers.append(QDense(weight_q, bias_q, None))
            scales.append({"kind": "dense", "input": scale_in, "weight": scale_w,
                           "output": acc_scale})
            break
        x = layer.forward(x)
        if relu:
            x = np.maximum(x, 0)
        magnitude = np.abs(x).ravel()
        peak = float(np.percentile(magnitude, percentile)) if percentile < 100 else float(
            magnitude.max())
        scale_out = peak / _INT8_MAX if peak > 0 else 1.0
        multiplier, shift = fixed_point(acc_scale / scale_out)
        requant = Requant(multiplier=multiplier, shift=shift, zero_point=0, relu=relu)
        kind = "conv2d" if isinstance(layer, Conv) else "dense"
        layers.append((Conv2D if kind == "conv2d" else QDense)(weight_q, bias_q, requant))
        scale_in = acc_scale * (1 << shift) / multiplier  # what the fixed-point factor gives
        scales.append({"kind": kind, "input": acc_scale / scale_w, "weight": scale_w,
                       "output": scale_in})
    return layers, scales
