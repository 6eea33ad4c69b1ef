"""ONNX export of the native int8 networks (`accel.nn.network.QuantizedNetwork`) as QDQ models
whose float32 scales carry the fixed-point requantization exactly.

ONNX scales are float32 (24 significant bits); the native requantization multipliers have 31
(`accel.compiler.fixedpoint.fixed_point`). A QDQ model therefore cannot state a native factor
``multiplier x 2**-shift`` exactly; this export states the nearest factor with a 24-bit
multiplier, ``round(multiplier / 2**7) x 2**(7 - shift)``, chosen so that every importer
recovers it exactly, whatever its float arithmetic:

* activation scales are ``input_scale x 2**k`` (the input's scale times a power of two), so a
  layer's ``x_scale / y_scale`` is a power of two in any precision;
* a layer's weight scale is the 24-bit factor times that power of two, exact in float32;
* so ``x_scale x w_scale / y_scale`` is the 24-bit factor exactly, and `fixed_point` of it
  gives ``(multiplier24, shift)`` back.

The factor differs from the native one by at most ``2**-24`` relative; on the 1,000 held-out
digits both committed models give identical logits either way
(tests/nn/test_onnx_export_native.py), but an input whose product lands within that distance of
a rounding boundary could differ by one step. `accel.frontend.onnx.load_onnx` reads these
models back with exactly the 24-bit factors, the native biases and weights, and the pixel
mapping ``pixel >> 1``; it wants the logits quantized, though, so the int32 logits of a native
network (a float Gemm output here) need it to accept an unquantized final Gemm as a `Dense`
without requantization.

The graph (opset 13, QDQ as onnxruntime's quantizer writes it): input ``"input"`` float32
``(N, 1, 28, 28)`` holding ``pixel / 255``; QuantizeLinear with scale ``1 / 127`` (for
``input_shift`` 1: ``round(pixel x 127 / 255) == pixel >> 1`` for every pixel; ``input_shift`` 0
uses ``1 / 255``); each conv/dense layer is DequantizeLinear (int8 weight, per tensor; int32 bias
at scale ``x_scale x w_scale``) -> Conv/Gemm -> Relu (when the layer has ReLU) ->
QuantizeLinear/DequantizeLinear; max-pools sit between a DequantizeLinear and a QuantizeLinear
of the same scale; the last dense layer (no requantization) gives float ``"logits"`` equal to
the native int32 logits times ``x_scale x w_scale`` (its scale, in
``model.metadata_props["accelgen.logit_scale"]``).
"""

from __future__ import annotations

import math
import os

import numpy as np
import onnx
from onnx import helper, numpy_helper

from accel.nn.network import Conv2D, MaxPool2D, QuantizedNetwork
from accel.nn.onnx_export import image_classifier

__all__ = ["export_quantized", "float32_factor"]


def float32_factor(multiplier: int, shift: int) -> tuple[int, int]:
    """The native factor ``multiplier x 2**-shift`` rounded to a 24-bit multiplier, as
    ``(multiplier24, shift)`` with ``multiplier24`` in ``[2**30, 2**31)``, a multiple of
    ``2**7`` (so ``multiplier24 x 2**-shift`` is a float32)."""
    rounded = ((multiplier + 64) >> 7) << 7
    if rounded == 1 << 31:
        return 1 << 30, shift - 1
    return rounded, shift


def export_quantized(network: QuantizedNetwork, path: str | os.PathLike | None = None, *,
                     opset: int = 13, batch: int | None = None) -> onnx.ModelProto:
    """The QDQ ONNX model of a native int8 network (see the module docstring).

    Parameters
    ----------
    network : QuantizedNetwork
        With ``input_shift`` 0 or 1 (the shifts whose pixel mapping ``pixel / 255`` reproduces).
    path : str or path-like, optional
        Where to write the ``.onnx`` file.
    opset : int
        13 to 21.
    batch : int, optional
        A fixed batch size; default a symbolic ``"N"``.

    Raises
    ------
    ValueError
        Another input shift, a bad opset or batch.
    """
    if not isinstance(network, QuantizedNetwork):
        raise ValueError(f"network must be a QuantizedNetwork, not {type(network).__name__}")
    if network.input_shift not in (0, 1):
        raise ValueError(f"input_shift must be 0 or 1 to export (pixel / 255 maps onto "
                         f"pixel >> shift only then), not {network.input_shift}")
    if not isinstance(opset, int) or isinstance(opset, bool) or not 13 <= opset <= 21:
        raise ValueError(f"opset must be between 13 and 21, not {opset!r}")
    if batch is not None and (not isinstance(batch, int) or isinstance(batch, bool)
                              or batch < 1):
        raise ValueError(f"batch must be None (symbolic) or an integer >= 1, not {batch!r}")
    nodes: list = []
    inits: list = []

    def const(name: str, value) -> str:
        inits.append(numpy_helper.from_array(np.asarray(value), name))
        return name

    def qdq(source: str, scale: np.float32, prefix: str) -> str:
        """QuantizeLinear then DequantizeLinear of ``source`` at ``scale``, zero point 0."""
        s, z = const(f"{prefix}_scale", np.float32(scale)), const(f"{prefix}_zero_point",
                                                                  np.int8(0))
        nodes.append(helper.make_node("QuantizeLinear", [source, s, z], [f"{prefix}_q"],
                                      name=f"{prefix}_QuantizeLinear"))
        nodes.append(helper.make_node("DequantizeLinear", [f"{prefix}_q", s, z],
                                      [f"{prefix}_dq"], name=f"{prefix}_DequantizeLinear"))
        return f"{prefix}_dq"

    x_scale = np.float32(1.0 / (255 >> network.input_shift))
    name = qdq("input", x_scale, "input")
    shape = network.input_shape
    logit_scale = None
    for index, layer in enumerate(network.layers):
        prefix = f"layer{index}"
        if isinstance(layer, MaxPool2D):
            out = f"/{prefix}/MaxPool_output_0"
            nodes.append(helper.make_node("MaxPool", [name], [out], name=f"/{prefix}/MaxPool",
                                          kernel_shape=[layer.size] * 2,
                                          strides=[layer.size] * 2))
            name = qdq(out, x_scale, f"/{prefix}/MaxPool_output_0")
            shape = (shape[0] // layer.size, shape[1] // layer.size, shape[2])
            continue
        requant = layer.requant
        if requant is not None:
            if requant.zero_point != 0:
                raise ValueError(f"layer {index}: output zero point must be 0")
            multiplier, shift = float32_factor(requant.multiplier, requant.shift)
            factor = math.ldexp(multiplier, -shift)
            step = -7 - math.floor(math.log2(factor))  # weight scale near 2**-7
            w_scale = np.float32(math.ldexp(factor, step))
            y_scale = np.float32(math.ldexp(float(x_scale), step))
        else:
            w_scale, y_scale = np.float32(2.0 ** -7), None
        if isinstance(layer, Conv2D):
            weight = layer.weight.transpose(3, 2, 0, 1)  # (kh, kw, cin, cout) -> OIHW
        else:
            weight = layer.weight
            if len(shape) == 3:  # HWC rows -> the CHW order of ONNX's Flatten
                weight = weight.reshape(*shape, -1).transpose(2, 0, 1, 3).reshape(
                    weight.shape[0], -1)
                flat = f"/{prefix}/Flatten_output_0"
                nodes.append(helper.make_node("Flatten", [name], [flat],
                                              name=f"/{prefix}/Flatten", axis=1))
                name = flat
            weight = weight.T  # Gemm transB = 1: (outputs, inputs)
        w = const(f"{prefix}.weight_quantized", np.ascontiguousarray(weight, np.int8))
        ws, wz = const(f"{prefix}.weight_scale", w_scale), const(f"{prefix}.weight_zero_point",
                                                                 np.int8(0))
        b = const(f"{prefix}.bias_quantized", layer.bias.astype(np.int32))
        bs = const(f"{prefix}.bias_scale", np.float32(x_scale * w_scale))
        bz = const(f"{prefix}.bias_zero_point", np.int32(0))
        nodes.append(helper.make_node("DequantizeLinear", [w, ws, wz], [f"{prefix}.weight"],
                                      name=f"/{prefix}/weight_DequantizeLinear"))
        nodes.append(helper.make_node("DequantizeLinear", [b, bs, bz], [f"{prefix}.bias"],
                                      name=f"/{prefix}/bias_DequantizeLinear"))
        op = "Conv" if isinstance(layer, Conv2D) else "Gemm"
        out = f"/{prefix}/{op}_output_0"
        if op == "Conv":
            kh, kw = layer.weight.shape[:2]
            nodes.append(helper.make_node(op, [name, f"{prefix}.weight", f"{prefix}.bias"],
                                          [out], name=f"/{prefix}/Conv", kernel_shape=[kh, kw],
                                          pads=[0, 0, 0, 0], strides=[1, 1]))
            shape = (shape[0] - kh + 1, shape[1] - kw + 1, layer.weight.shape[3])
        else:
            nodes.append(helper.make_node(op, [name, f"{prefix}.weight", f"{prefix}.bias"],
                                          [out], name=f"/{prefix}/Gemm", transB=1))
            shape = (layer.weight.shape[1],)
        if requant is None:
            logit_scale = float(np.float32(x_scale * w_scale))
            name = out
            break
        if requant.relu:
            nodes.append(helper.make_node("Relu", [out], [f"/{prefix}/Relu_output_0"],
                                          name=f"/{prefix}/Relu"))
            out = f"/{prefix}/Relu_output_0"
        name = qdq(out, y_scale, out)
        x_scale = y_scale
    n = "N" if batch is None else batch
    h, w_, c = network.input_shape
    model = image_classifier(nodes, inits, network.name, (n, c, h, w_), shape[0], opset)
    helper.set_model_props(model, {"accelgen.logit_scale": repr(logit_scale),
                                   "accelgen.input": f"pixel / 255 (native input_shift "
                                                     f"{network.input_shift})"})
    onnx.checker.check_model(model, full_check=True)
    if path is not None:
        onnx.save(model, os.fspath(path))
    return model
