"""Window geometry against ONNX's own shape inference (explicit pads, SAME_UPPER/SAME_LOWER,
VALID, strides, ceil_mode) and the refused attributes."""

from __future__ import annotations

import itertools

import onnx
import pytest
from onnx import TensorProto, helper

from accel.frontend.attrs import attributes, geometry
from accel.frontend.errors import FrontendError


def _onnx_shape(op, h, w, **attrs):
    node = helper.make_node(op, ["x"] + (["w"] if op == "Conv" else []), ["y"], **attrs)
    inputs = [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, h, w])]
    if op == "Conv":
        inputs.append(helper.make_tensor_value_info("w", TensorProto.FLOAT,
                                                    [1, 1, *attrs["kernel_shape"]]))
    graph = helper.make_graph([node], "g", inputs, [helper.make_tensor_value_info(
        "y", TensorProto.FLOAT, None)])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 19)])
    dims = onnx.shape_inference.infer_shapes(model).graph.output[0].type.tensor_type.shape.dim
    return node, (dims[2].dim_value, dims[3].dim_value)


CASES = list(itertools.product([5, 8], [3, 1], [(3, 3), (2, 5), (11, 11)], [1, 2, 4]))


@pytest.mark.parametrize("h, w, kernel, stride", CASES)
@pytest.mark.parametrize("pad", ["SAME_UPPER", "SAME_LOWER", "VALID", "explicit"])
def test_conv_geometry(h, w, kernel, stride, pad):
    attrs = {"kernel_shape": list(kernel), "strides": [stride, stride]}
    if pad == "explicit":
        attrs["pads"] = [1, 0, 2, 1]
    else:
        attrs["auto_pad"] = pad
    if pad in ("VALID", "explicit") and (h + 3 < kernel[0] or w + 1 < kernel[1]):
        return
    node, expected = _onnx_shape("Conv", h, w, **attrs)
    if min(expected) < 1:
        return
    geo = geometry(node, attributes(node), (h, w), kernel, pooling=False)
    top, left, bottom, right = geo.pads
    assert geo.output == expected
    assert ((h + top + bottom - kernel[0]) // stride + 1,
            (w + left + right - kernel[1]) // stride + 1) == expected
    if pad == "SAME_UPPER":
        assert bottom - top in (0, 1) and right - left in (0, 1)
    if pad == "SAME_LOWER":
        assert top - bottom in (0, 1) and left - right in (0, 1)


@pytest.mark.parametrize("h, k, s, p", [(7, 2, 2, 0), (8, 3, 2, 1), (10, 3, 3, 0), (5, 3, 2, 1)])
def test_maxpool_ceil_mode(h, k, s, p):
    attrs = {"kernel_shape": [k, k], "strides": [s, s], "pads": [p, p, p, p], "ceil_mode": 1}
    node, expected = _onnx_shape("MaxPool", h, h, **attrs)
    geo = geometry(node, attributes(node), (h, h), (k, k), pooling=True)
    assert geo.output == expected
    top, left, bottom, right = geo.pads
    assert (h + top + bottom - k) // s + 1 == expected[0]


def test_refused():
    node = helper.make_node("Conv", ["x", "w"], ["y"], dilations=[2, 2], name="c")
    with pytest.raises(FrontendError, match=r"node 'c' \(Conv\): dilation"):
        geometry(node, attributes(node), (8, 8), (3, 3), pooling=False)
    node = helper.make_node("Conv", ["x", "w"], ["y"], auto_pad="BOGUS", name="c")
    with pytest.raises(FrontendError, match="auto_pad"):
        geometry(node, attributes(node), (8, 8), (3, 3), pooling=False)
    node = helper.make_node("Conv", ["x", "w"], ["y"], pads=[0, 0, 0, 0, 0, 0], name="c")
    with pytest.raises(FrontendError, match="2-D only"):
        geometry(node, attributes(node), (8, 8), (3, 3), pooling=False)
