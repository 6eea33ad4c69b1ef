"""Float model files: a round trip keeps every layer setting and parameter bit for bit, the
bytes are deterministic, broken files are one-line `FloatFileError`s, and the committed cnn5
model loads and scores what its metadata says."""

import json

import numpy as np
import pytest

from accel.nn.float_file import (FloatFileError, default_float_path, load_default_float,
                                 load_float, save_float, to_bytes)
from accel.nn.layers import Conv, Dense, FloatNetwork, MaxPool, ReLU
from accel.nn.train import accuracy, build_network, float_input
from accel.util.npz_archive import archive_bytes


def mixed_network(seed=0):
    rng = np.random.default_rng(seed)
    return FloatNetwork("mixed", [
        Conv.init(rng, 3, 2, 4, padding="same", stride=2), ReLU(), MaxPool(2, 1),
        Conv.init(rng, 2, 4, 3, padding=(0, 1, 1, 0)), MaxPool(3, 3), Conv.init(rng, 1, 3, 2),
        Dense.init(rng, 2 * 1 * 2, 5), ReLU(), Dense.init(rng, 5, 3)], input_shape=(13, 11, 2))


def test_round_trip_keeps_layers_and_parameters(tmp_path):
    network = mixed_network()
    for layer in network.layers:  # non-zero biases
        if layer.params:
            layer.params["bias"] += np.float32(0.25)
    path = tmp_path / "m.npz"
    save_float(network, path, {"note": "x"})
    loaded, metadata = load_float(path)
    assert metadata == {"note": "x"} and loaded.name == "mixed"
    assert loaded.input_shape == (13, 11, 2)
    assert [type(layer) for layer in loaded.layers] == [type(layer) for layer in network.layers]
    for old, new in zip(network.layers, loaded.layers):
        for name, value in old.params.items():
            np.testing.assert_array_equal(new.params[name], value)
        if isinstance(old, Conv):
            assert new.pads((13, 11)) == old.pads((13, 11)) and new.stride == old.stride
        if isinstance(old, MaxPool):
            assert (new.size, new.stride) == (old.size, old.stride)
    x = np.random.default_rng(1).standard_normal((2, 13, 11, 2)).astype(np.float32)
    np.testing.assert_array_equal(loaded.forward(x), network.forward(x))
    assert to_bytes(loaded, metadata) == to_bytes(network, {"note": "x"}) == path.read_bytes()


def test_bytes_are_deterministic():
    network = build_network("cnn5", np.random.default_rng(3))
    assert to_bytes(network) == to_bytes(network)


def write(path, header, arrays):
    path.write_bytes(archive_bytes(header, arrays))
    return path


def header(layers, **changes):
    return {**{"format": "accelgen-float-network", "version": 1, "name": "t",
               "input_shape": [4, 4, 1], "layers": layers, "metadata": {}}, **changes}


DENSE = {"kind": "dense", "weight": "w", "bias": "b"}
GOOD = {"w": np.zeros((16, 2), np.float32), "b": np.zeros(2, np.float32)}


@pytest.mark.parametrize("head, arrays, message", [
    (header([DENSE], version=2), GOOD, "unsupported model format version 2"),
    (header([DENSE], format="x"), GOOD, "does not declare format"),
    (header({}), GOOD, "'layers' is missing"),
    (header([{"kind": "lstm"}, DENSE]), GOOD, "unknown kind 'lstm'"),
    (header([DENSE]), {"w": GOOD["w"].astype(np.float64), "b": GOOD["b"]}, "must be float32"),
    (header([{**DENSE, "bias": "c"}]), GOOD, "member 'c' is missing"),
    (header([DENSE]), {**GOOD, "z": GOOD["b"]}, "unexpected members z"),
    (header([{"kind": "maxpool", "size": 0}, DENSE]), GOOD, "max-pool size must be"),
    (header([{"kind": "conv", "weight": "w", "bias": "b", "padding": "full",
              "stride": [1, 1]}]), {"w": np.zeros((3, 3, 1, 2), np.float32), "b": GOOD["b"]},
     "padding must be"),
    (header([DENSE], input_shape=[5, 4, 1]), GOOD, "invalid network"),
])
def test_broken_files_are_one_line_errors(tmp_path, head, arrays, message):
    path = write(tmp_path / "bad.npz", head, arrays)
    with pytest.raises(FloatFileError, match=message) as info:
        load_float(path)
    assert "\n" not in str(info.value) and str(path) in str(info.value)


def test_missing_file_and_unknown_default(tmp_path):
    with pytest.raises(FloatFileError, match="no such file"):
        load_float(tmp_path / "none.npz")
    with pytest.raises(ValueError, match="no committed float model 'cnn'"):
        default_float_path("cnn")


def test_committed_cnn5_scores_its_recorded_accuracy():
    from accel.nn.mnist.recipe import FLOAT_RECIPES, load_dataset

    network, metadata = load_default_float("cnn5")
    assert metadata["training"] == FLOAT_RECIPES["cnn5"].as_dict()
    assert metadata["training"]["input_shift"] == 0  # pixel / 255, as ONNX importers assume
    assert metadata["eval_set"] == "held-out" and metadata["eval_images"] == 1000
    dataset = load_dataset()
    measured = accuracy(network, float_input(dataset.eval_images, 0), dataset.eval_labels)
    assert measured == metadata["float_accuracy"] >= 0.98
    assert json.loads(json.dumps(metadata)) == metadata
