"""Building the `accel.compiler.graph.Graph`: tensors, and the nodes `Pending` results become.

Every weighted node gets per-output-channel symmetric int8 weights (given, or quantized here
from real weights: ``scale[c] = max|w[..., c]| / 127``), an int32 bias at the accumulator scale
``in.scale x weight_scale[c]`` and the per-channel requantization ``in.scale x weight_scale[c] /
out.scale`` (31-bit fixed point, `accel.compiler.fixedpoint`). ReLU and Clip are fused into the
requantization: a lower bound of 0 is the activation unit's ReLU (or the saturation when the
output zero point is -128), an upper bound must be implied by the output range's saturation.
"""

from __future__ import annotations

import re

import numpy as np

from accel.compiler.graph import (Add, AvgPool, Conv2D, Dense, GraphError, MaxPool, Requantize,
                                  Tensor)
from accel.frontend import layout as lay
from accel.frontend.errors import node_error
from accel.frontend.values import Pending, QValue

__all__ = ["GraphBuilder", "BIAS_WEIGHT"]

#: The weight of the identity layer that adds a quantized constant (weight scale 1/127).
BIAS_WEIGHT = 127
INT32 = (-(1 << 31), (1 << 31) - 1)


def _quantize_weight(weight: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-output (last axis) symmetric int8 weights and their scales."""
    peak = np.abs(weight).reshape(-1, weight.shape[-1]).max(axis=0)
    scale = np.where(peak > 0, peak / 127.0, 1.0)
    return np.clip(np.rint(weight / scale), -127, 127).astype(np.int64), scale


class GraphBuilder:
    """The tensors and nodes of the graph being built, in order."""

    def __init__(self) -> None:
        self.tensors: dict[str, Tensor] = {}
        self.nodes: list = []
        self._names: set[str] = set()

    def _unique(self, hint: str) -> str:
        base = re.sub(r"[^A-Za-z0-9_.:/-]", "_", hint) or "t"
        name, n = base, 1
        while name in self._names:
            n += 1
            name = f"{base}_{n}"
        self._names.add(name)
        return name

    def tensor(self, hint: str, shape, scale: float, zero_point: int,
               dtype: str = "int8") -> QValue:
        name = self._unique(hint)
        self.tensors[name] = Tensor(name, tuple(shape), float(scale), int(zero_point), dtype)
        return QValue(name, lay.canonical(tuple(shape)))

    def maxpool(self, node, value: QValue, geometry, out_hint: str) -> QValue:
        src = self.tensors[value.tensor]
        shape = (geometry.output[0], geometry.output[1], src.shape[2])
        out = self.tensor(out_hint, shape, src.scale, src.zero_point)
        try:
            self.nodes.append(MaxPool(self._unique(_node_name(node)), value.tensor, out.tensor,
                                      geometry.kernel, geometry.stride, geometry.pads))
        except GraphError as exc:
            raise node_error(node, str(exc)) from None
        return out

    def finalize(self, p: Pending, scale: float, zero_point: int, out_hint: str) -> QValue:
        """The graph node computing ``p`` into a new int8 tensor ``(scale, zero_point)``."""
        if not (np.isfinite(scale) and scale > 0):
            raise node_error(p.node, f"output scale {scale!r} must be positive")
        relu = _activation(p, scale, zero_point)
        try:
            return getattr(self, f"_{p.op}")(p, float(scale), int(zero_point), relu, out_hint)
        except (GraphError, ValueError) as exc:
            if str(exc).startswith("node "):
                raise
            raise node_error(p.node, str(exc)) from None

    def dense_int32(self, p: Pending, out_hint: str) -> QValue:
        """A last Dense whose int32 accumulators are the output (per-tensor weight scale)."""
        src = self.tensors[p.inputs[0].tensor]
        weight, wscale, bias = self._weighted(p, src.scale)
        if not np.allclose(wscale, wscale[0], rtol=1e-6):
            raise node_error(p.node, "a float output needs one weight scale for all outputs")
        out = self.tensor(out_hint, (weight.shape[1],), src.scale * wscale[0], 0, "int32")
        self.nodes.append(Dense(self._unique(_node_name(p.node)), p.inputs[0].tensor,
                                out.tensor, weight, bias, None))
        return out

    # -- one method per pending op --------------------------------------------------------------

    def _weighted(self, p: Pending, in_scale: float):
        if p.weight_scale is None:
            weight, wscale = _quantize_weight(np.asarray(p.weight, dtype=np.float64))
        else:
            weight, wscale = np.asarray(p.weight, np.int64), np.asarray(p.weight_scale, float)
        acc_scale = in_scale * wscale
        cout = weight.shape[-1]
        if p.bias is None:
            bias = np.zeros(cout, dtype=np.int64)
        elif p.bias_scale is not None and np.allclose(p.bias_scale, acc_scale, rtol=1e-6):
            bias = np.asarray(p.bias, dtype=np.int64)
        else:
            real = np.asarray(p.bias, np.float64) * (1.0 if p.bias_scale is None
                                                     else np.asarray(p.bias_scale, float))
            bias = np.rint(real / acc_scale)
            if np.abs(bias).max(initial=0) > INT32[1]:
                raise node_error(p.node, "the bias does not fit int32 at the accumulator scale")
            bias = bias.astype(np.int64)
        return weight, wscale, bias

    def _conv(self, p, scale, zp, relu, hint):
        src = self.tensors[p.inputs[0].tensor]
        weight, wscale, bias = self._weighted(p, src.scale)
        requant = Requantize.from_scales(src.scale * wscale / scale, zp, relu)
        output = self._unique(hint)  # the tensor's shape comes from the node
        node = Conv2D(self._unique(_node_name(p.node)), p.inputs[0].tensor, output, weight, bias,
                      requant, p.params["stride"], p.params["pads"], p.params["groups"])
        shape = node.output_shape(src.shape)
        self.tensors[output] = Tensor(output, shape, scale, zp)
        self.nodes.append(node)
        return QValue(output, lay.canonical(shape))

    def _dense(self, p, scale, zp, relu, hint):
        src = self.tensors[p.inputs[0].tensor]
        weight, wscale, bias = self._weighted(p, src.scale)
        requant = Requantize.from_scales(src.scale * wscale / scale, zp, relu)
        out = self.tensor(hint, (weight.shape[1],), scale, zp)
        self.nodes.append(Dense(self._unique(_node_name(p.node)), p.inputs[0].tensor, out.tensor,
                                weight, bias, requant))
        return out

    def _bias(self, p, scale, zp, relu, hint):
        """``x + c`` for a per-channel constant ``c``: identity weights ``BIAS_WEIGHT``."""
        src = self.tensors[p.inputs[0].tensor]
        channels = src.shape[-1]
        wscale = np.full(channels, 1.0 / BIAS_WEIGHT)
        if len(src.shape) == 3:
            weight = np.full((1, 1, 1, channels), BIAS_WEIGHT)
            params = {"stride": (1, 1), "pads": (0, 0, 0, 0), "groups": channels}
            op = "_conv"
        else:
            weight, params, op = np.eye(channels, dtype=np.int64) * BIAS_WEIGHT, {}, "_dense"
        q = Pending(op[1:], p.node, p.inputs, p.name, weight, wscale, p.bias, p.bias_scale,
                    params, p.relu, p.clip)
        return getattr(self, op)(q, scale, zp, relu, hint)

    def _avgpool(self, p, scale, zp, relu, hint):
        src = self.tensors[p.inputs[0].tensor]
        if relu and zp != -128:
            raise node_error(p.node, "a ReLU after average pooling needs output zero point "
                                     "-128 (int8) / 0 (uint8)")
        geo = p.params["geometry"]
        window = geo.kernel[0] * geo.kernel[1]
        mult, shift = AvgPool.factors(src.scale / scale, window)
        out = self.tensor(hint, (geo.output[0], geo.output[1], src.shape[2]), scale, zp)
        self.nodes.append(AvgPool(self._unique(_node_name(p.node)), p.inputs[0].tensor,
                                  out.tensor, geo.kernel, geo.stride, mult, shift, geo.pads,
                                  p.params["count_include_pad"]))
        return out

    def _add(self, p, scale, zp, relu, hint):
        a, b = (self.tensors[v.tensor] for v in p.inputs)
        ma, mb, shift = Add.factors(a.scale / scale, b.scale / scale)
        out = self.tensor(hint, a.shape, scale, zp)
        self.nodes.append(Add(self._unique(_node_name(p.node)), a.name, b.name, out.tensor,
                              ma, mb, shift, relu))
        return out


def _node_name(node) -> str:
    return node.name or node.output[0]


def _activation(p: Pending, scale: float, zero_point: int) -> bool:
    """The ReLU flag for ``p``'s fused Relu/Clip at this output quantization.

    Raises
    ------
    FrontendError
        A Clip bound the output range does not imply (upper) or the unit cannot apply (lower).
    """
    lowest, highest = (-128 - zero_point) * scale, (127 - zero_point) * scale
    relu = p.relu
    if p.clip is not None:
        low, high = p.clip
        clip = p.clip_node or p.node
        if high < highest - scale / 2:
            raise node_error(clip, f"Clip upper bound {high:g} is not implied by the output "
                                     f"range (up to {highest:g}); quantize the output to it")
        if low > lowest + scale / 2:
            if low != 0:
                raise node_error(clip, f"Clip lower bound {low:g} is neither 0 nor implied "
                                         f"by the output range (from {lowest:g})")
            relu = True
    if relu and p.op in ("avgpool",) and zero_point == -128:
        return False  # the saturation at -128 (real 0) is the ReLU
    return relu
