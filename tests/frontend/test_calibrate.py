"""Calibration inputs (file kinds, shapes, pixel normalization), input quantization and the
ranges onnxruntime measures."""

from __future__ import annotations

import numpy as np
import pytest

from accel.frontend.calibrate import calibration_inputs, collect_ranges, input_quant
from accel.frontend.errors import FrontendError
from accel.frontend.loader import read_model
from tests.frontend.cases import CASES


@pytest.mark.parametrize("given, layout", [((5, 1, 4, 3), "NCHW"), ((5, 4, 3), "NCHW"),
                                           ((5, 4, 3, 1), "NCHW"), ((1, 4, 3), "NCHW")])
def test_shapes_nchw(given, layout):
    data, pixels = calibration_inputs(np.zeros(given, np.float32), (1, 4, 3), 0.0, 1.0, layout)
    assert data.shape[1:] == (1, 4, 3) and data.dtype == np.float32 and not pixels


def test_shapes_nhwc_and_features():
    data, _ = calibration_inputs(np.zeros((2, 4, 3), np.float32), (4, 3, 1), 0, 1, "NHWC")
    assert data.shape == (2, 4, 3, 1)
    data, _ = calibration_inputs(np.zeros((3, 7), np.float32), (7,), 0, 1, "NC")
    assert data.shape == (3, 7)


def test_pixels_are_normalized():
    pixels = np.array([[[0, 255], [51, 102]]], np.uint8)
    data, is_pixels = calibration_inputs(pixels, (1, 2, 2), 0.2, 0.5)
    assert is_pixels
    assert np.allclose(data[0, 0], (pixels[0] / 255 - 0.2) / 0.5)


def test_files(tmp_path):
    np.save(tmp_path / "a.npy", np.ones((2, 1, 2, 2), np.float32))
    np.savez(tmp_path / "b.npz", other=np.ones((2, 1, 2, 2), np.float32))
    for name in ("a.npy", "b.npz"):
        data, _ = calibration_inputs(tmp_path / name, (1, 2, 2), 0, 1)
        assert data.shape == (2, 1, 2, 2)
    np.savez(tmp_path / "empty.npz")
    with pytest.raises(FrontendError, match="empty"):
        calibration_inputs(tmp_path / "empty.npz", (1, 2, 2), 0, 1)
    with pytest.raises(FrontendError, match="finite"):
        calibration_inputs(np.full((1, 1, 2, 2), np.nan, np.float32), (1, 2, 2), 0, 1)


def test_input_quant():
    data = np.array([-1.0, 3.0])
    scale, zp = input_quant(data, False, 0, 1)
    assert scale == pytest.approx(4 / 255) and zp == -128 + 64
    assert input_quant(data, True, 0.0, 1.0) == (pytest.approx(1 / 255), -128)


def test_collect_ranges_covers_every_float_tensor():
    n, out = CASES["residual"]()
    model = read_model(n.model(out))
    data = np.random.default_rng(0).normal(size=(3, 3, 6, 5)).astype(np.float32)
    ranges = collect_ranges(model, data)
    produced = {o for node in model.proto.graph.node for o in node.output}
    assert produced <= set(ranges) and model.input in ranges
    low, high = ranges[out]
    assert low >= 0 and high > 0  # the output of a Relu
