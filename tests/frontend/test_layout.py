"""Layouts: layout-only ops applied to index arrays track exactly where each element lives."""

from __future__ import annotations

import numpy as np
import pytest

from accel.frontend import layout as lay


@pytest.mark.parametrize("shape", [(3, 2, 4), (1, 1, 1), (5, 1, 2), (7,)])
def test_canonical_round_trip(shape):
    layout = lay.canonical(shape)
    assert lay.graph_shape(layout.shape) == shape
    assert lay.is_canonical(layout, layout.ndim)
    hwc = np.arange(int(np.prod(shape))).reshape(shape)
    onnx = hwc.transpose(2, 0, 1)[None] if len(shape) == 3 else hwc[None]
    assert np.array_equal(layout, onnx)  # the layout holds each element's HWC flat index


def test_flatten_of_nchw_is_chw_order():
    layout = lay.canonical((2, 3, 4))  # h 2, w 3, c 4
    flat = lay.flatten(layout, 1)
    assert flat.shape == (1, 24)
    c, h, w = 1, 0, 2  # ONNX feature c*6 + h*3 + w is HWC element (h*3 + w)*4 + c
    assert flat[0, c * 6 + h * 3 + w] == (h * 3 + w) * 4 + c


def test_transpose_to_nhwc_then_flatten_is_identity():
    layout = lay.transpose(lay.canonical((2, 3, 4)), [0, 2, 3, 1])
    assert np.array_equal(lay.flatten(layout, 1)[0], np.arange(24))


def test_reshape_zero_and_minus_one():
    layout = lay.canonical((2, 2, 3))
    assert lay.reshape(layout, [0, -1]).shape == (1, 12)
    assert lay.reshape(layout, [1, 3, 4]).shape == (1, 3, 4)
    with pytest.raises(ValueError):
        lay.reshape(layout, [-1, -1])


def test_squeeze_unsqueeze():
    layout = lay.canonical((1, 1, 5))
    squeezed = lay.squeeze(layout, [2, 3])
    assert squeezed.shape == (1, 5) and lay.is_canonical(squeezed, 2)
    assert lay.unsqueeze(squeezed, [2, 3]).shape == (1, 5, 1, 1)
    assert lay.unsqueeze(squeezed, [-1]).shape == (1, 5, 1)
    with pytest.raises(ValueError):
        lay.squeeze(layout, [1])


def test_not_canonical_after_spatial_transpose():
    layout = lay.transpose(lay.canonical((2, 3, 1)), [0, 1, 3, 2])
    assert not lay.is_canonical(layout, 4)
