"""ONNX node attributes, and the geometry of Conv and pooling nodes as accelgen's IR wants it.

ONNX writes pads as ``[top, left, bottom, right]`` (begins, then ends), or ``auto_pad``;
pooling may round its output size up (``ceil_mode``), which becomes extra bottom/right padding.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from onnx import helper

from accel.frontend.errors import node_error

__all__ = ["Geometry", "attributes", "geometry"]


def attributes(node) -> dict:
    """The node's attributes as Python values (bytes decoded)."""
    out = {}
    for attr in node.attribute:
        value = helper.get_attribute_value(attr)
        out[attr.name] = value.decode() if isinstance(value, bytes) else value
    return out


@dataclass(frozen=True)
class Geometry:
    """A sliding window: kernel, stride and ``(top, left, bottom, right)`` pads; ``extra`` is
    the bottom/right padding added for ``ceil_mode`` (the region outside the explicit pads)."""

    kernel: tuple[int, int]
    stride: tuple[int, int]
    pads: tuple[int, int, int, int]
    output: tuple[int, int]
    extra: bool = False


def _pair(node, attrs: dict, key: str, default: int) -> tuple[int, int]:
    value = attrs.get(key, [default, default])
    if len(value) != 2:
        raise node_error(node, f"{key} must have 2 values (2-D only), not {list(value)}")
    return int(value[0]), int(value[1])


def geometry(node, attrs: dict, in_hw: tuple[int, int], kernel: tuple[int, int], *,
             pooling: bool) -> Geometry:
    """The window of a Conv (``pooling=False``) or pool over an ``in_hw`` input.

    Raises
    ------
    FrontendError
        Dilation other than 1, strides below 1, ``ceil_mode`` on a Conv, negative pads, or a
        window that does not fit.
    """
    if _pair(node, attrs, "dilations", 1) != (1, 1):
        raise node_error(node, f"dilation {list(attrs['dilations'])} is not supported "
                               "(only 1)")
    stride = _pair(node, attrs, "strides", 1)
    if min(stride) < 1:
        raise node_error(node, f"strides must be >= 1, not {list(stride)}")
    auto_pad = attrs.get("auto_pad", "NOTSET") or "NOTSET"
    h, w = in_hw
    if auto_pad in ("SAME_UPPER", "SAME_LOWER"):
        pads = []
        for size, k, s in ((h, kernel[0], stride[0]), (w, kernel[1], stride[1])):
            total = max((math.ceil(size / s) - 1) * s + k - size, 0)
            small, large = total // 2, total - total // 2
            pads.append((small, large) if auto_pad == "SAME_UPPER" else (large, small))
        top, bottom = pads[0]
        left, right = pads[1]
    elif auto_pad == "VALID":
        top = left = bottom = right = 0
    elif auto_pad == "NOTSET":
        explicit = [int(p) for p in attrs.get("pads", [0, 0, 0, 0])]
        if len(explicit) != 4:
            raise node_error(node, f"pads must have 4 values (2-D only), not {explicit}")
        top, left, bottom, right = explicit
    else:
        raise node_error(node, f"auto_pad {auto_pad!r} is not one of NOTSET, SAME_UPPER, "
                               "SAME_LOWER, VALID")
    if min(top, left, bottom, right) < 0:
        raise node_error(node, f"negative pads {[top, left, bottom, right]} are not supported")
    ceil = bool(attrs.get("ceil_mode", 0))
    if ceil and not pooling:
        raise node_error(node, "ceil_mode is a pooling attribute")
    out, ends = [], [bottom, right]
    for axis, (size, begin, k, s) in enumerate(((h, top, kernel[0], stride[0]),
                                                (w, left, kernel[1], stride[1]))):
        span = size + begin + ends[axis] - k
        if span < 0:
            raise node_error(node, f"a {kernel[0]}x{kernel[1]} window does not fit the "
                                   f"padded {h}x{w} input")
        n = span // s + 1
        if ceil:
            n = -(-span // s) + 1
            if (n - 1) * s >= size + begin:  # the last window would start in the end padding
                n -= 1
            ends[axis] = max(ends[axis], (n - 1) * s + k - size - begin)
        out.append(n)
    extra = (ends[0], ends[1]) != (bottom, right)
    return Geometry(kernel, stride, (top, left, ends[0], ends[1]), (out[0], out[1]), extra)
