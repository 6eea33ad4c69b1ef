"""accel.compiler.pixels: pixel tables for the shift and normalize mappings."""

from __future__ import annotations

import numpy as np
import pytest

from accel.compiler.graph import Dense, Graph, Requantize, Tensor
from accel.compiler.pixels import normalization, pixel_lut, quantize_pixels


def _graph(pixels=None, shape=(4, 4, 1), scale=0.02, zero_point=-3) -> Graph:
    n = int(np.prod(shape))
    tensors = {"x": Tensor("x", shape, scale, zero_point), "y": Tensor("y", (2,), 1.0)}
    metadata = {} if pixels is None else {"pixels": pixels}
    return Graph("g", tensors, [Dense("fc", "x", "y", np.ones((n, 2), int), np.zeros(2, int),
                                      Requantize([1 << 30], [30]))], "x", "y", None, metadata)


def test_shift_table_is_the_native_input():
    lut = pixel_lut(_graph({"kind": "shift", "shift": 1}))
    assert np.array_equal(lut, (np.arange(256) >> 1).astype(np.int8))


@pytest.mark.parametrize("mean, std", [(0.0, 1.0), (0.1307, 0.3081), (0.5, 0.5)])
def test_normalize_table_quantizes_the_normalized_pixel(mean, std):
    graph = _graph({"kind": "normalize", "mean": mean, "std": std})
    lut = pixel_lut(graph)
    real = (np.arange(256) / 255 - mean) / std
    expected = np.clip(np.rint(real / 0.02) - 3, -128, 127)
    assert np.array_equal(lut, expected.astype(np.int8))


def test_images_go_through_the_table():
    graph = _graph({"kind": "shift", "shift": 2})
    images = np.random.default_rng(1).integers(0, 256, (3, 4, 4))
    q = quantize_pixels(graph, images)
    assert q.shape == (3, 4, 4, 1) and np.array_equal(q[..., 0], images >> 2)


@pytest.mark.parametrize("images, message", [
    (np.full((4, 4), 256), "between 0 and 255"),
    (np.zeros((4, 4)) + 0.5, "between 0 and 255"),
    (np.zeros((5, 4), int), r"takes \(4, 4, 1\) inputs"),
])
def test_bad_images_are_refused(images, message):
    with pytest.raises(ValueError, match=message):
        quantize_pixels(_graph(), images)


def test_bad_mappings_are_refused():
    assert normalization(_graph()) == {"kind": "normalize", "mean": 0.0, "std": 1.0}
    for spec in ({"kind": "shift", "shift": 9}, {"kind": "normalize", "std": 0}, {"kind": "x"}):
        with pytest.raises(ValueError, match="bad pixel mapping"):
            pixel_lut(_graph(spec))


def test_int8_table_takes_values_offset_by_128():
    lut = pixel_lut(_graph({"kind": "int8"}))
    assert np.array_equal(lut, np.arange(-128, 128).astype(np.int8))
