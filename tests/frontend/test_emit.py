"""Graph building: weight quantization, the fused activation rules, the identity layer."""

from __future__ import annotations

import numpy as np
import pytest
from onnx import helper

from accel.compiler.graph import Conv2D, Dense
from accel.frontend.emit import BIAS_WEIGHT, GraphBuilder, _quantize_weight
from accel.frontend.errors import FrontendError
from accel.frontend.values import Pending
from accel.frontend.walk import activation_quant


def test_weights_per_output_channel():
    weight = np.array([[0.5, -2.0, 0.0], [-0.25, 1.0, 0.0]])
    q, scale = _quantize_weight(weight)
    assert np.allclose(scale, [0.5 / 127, 2.0 / 127, 1.0])
    assert q[0, 0] == 127 and q[0, 1] == -127 and np.all(q[:, 2] == 0)


def test_activation_quant():
    assert activation_quant(0.0, 2.55) == (pytest.approx(0.01), -128)  # ReLU: every level
    scale, zp = activation_quant(-1.0, 1.0)
    assert scale == pytest.approx(2 / 255) and zp in (-1, 0)
    assert activation_quant(1.0, 2.0)[1] == -128  # the range holds 0
    assert activation_quant(0.0, 0.0)[0] > 0


def _builder_with_input(shape):
    builder = GraphBuilder()
    return builder, builder.tensor("in", shape, 0.1, 0)


NODE = helper.make_node("Conv", ["a", "b"], ["c"], name="conv")


def test_clip_rules():
    builder, x = _builder_with_input((2,))
    p = Pending("dense", NODE, (x,), "c", np.eye(2), None, None, None, clip=(0.0, 1.0))
    with pytest.raises(FrontendError, match="Clip upper bound 1 is not implied"):
        builder.finalize(p, 0.1, -128, "c")  # 0..25.5
    out = builder.finalize(p, 1 / 255, -128, "c")  # 0..1: the saturation is the clamp
    assert builder.tensors[out.tensor].zero_point == -128
    low = Pending("dense", NODE, (x,), "c", np.eye(2), clip=(-0.5, 100.0))
    with pytest.raises(FrontendError, match="lower bound"):
        builder.finalize(low, 0.1, 0, "d")


def test_identity_layers():
    builder, x = _builder_with_input((3, 2, 4))
    bias = np.array([0.5, -0.5, 0.0, 1.0])
    builder.finalize(Pending("bias", NODE, (x,), "o", bias=bias), 0.1, 0, "o")
    (conv,) = builder.nodes
    assert isinstance(conv, Conv2D) and conv.groups == 4 and np.all(conv.weight == BIAS_WEIGHT)
    assert np.array_equal(conv.bias, np.rint(bias / (0.1 / BIAS_WEIGHT)))
    builder, v = _builder_with_input((5,))
    builder.finalize(Pending("bias", NODE, (v,), "o", relu=True), 0.1, 0, "o")
    (dense,) = builder.nodes
    assert isinstance(dense, Dense) and np.array_equal(dense.weight, np.eye(5) * BIAS_WEIGHT)
    assert dense.requant.relu
