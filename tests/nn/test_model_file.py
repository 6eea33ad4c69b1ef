"""Model files: round trip, deterministic bytes, and one-line errors for malformed files."""

import io
import json
import zipfile

import numpy as np
import pytest

from accel.nn.model_file import (
    FORMAT,
    VERSION,
    ModelFileError,
    default_model_path,
    load,
    save,
    to_bytes,
)
from accel.nn.network import MaxPool2D, reference
from tests.support.nets import random_cnn, random_images, random_mlp


def assert_same_network(a, b):
    assert a.name == b.name and a.input_shape == b.input_shape
    assert a.input_shift == b.input_shift and a.metadata == b.metadata
    assert len(a.layers) == len(b.layers)
    for x, y in zip(a.layers, b.layers):
        assert type(x) is type(y)
        if isinstance(x, MaxPool2D):
            assert x.size == y.size
        else:
            np.testing.assert_array_equal(x.weight, y.weight)
            np.testing.assert_array_equal(x.bias, y.bias)
            assert x.requant == y.requant


@pytest.mark.parametrize("make", [random_cnn, random_mlp])
def test_round_trip(tmp_path, make):
    network = make(seed=3)
    network.metadata.update({"float_accuracy": 0.98, "note": "ünïcode", "nested": {"a": [1, 2]}})
    path = tmp_path / "model.npz"
    save(network, path)
    loaded = load(path)
    assert_same_network(network, loaded)
    image = random_images(1, seed=4)[0]
    np.testing.assert_array_equal(reference(network, image), reference(loaded, image))


def test_file_is_a_plain_npz_with_typed_members(tmp_path):
    path = tmp_path / "cnn.npz"
    save(random_cnn(), path)
    with np.load(path, allow_pickle=False) as npz:
        header = json.loads(str(npz["header"]))
        assert header["format"] == FORMAT and header["version"] == VERSION
        assert [layer["kind"] for layer in header["layers"]] == [
            "conv2d", "maxpool2d", "conv2d", "maxpool2d", "dense"]
        assert header["layers"][-1]["requant"] is None
        assert npz["layer0.weight"].dtype == np.int8 and npz["layer0.weight"].shape == (3, 3, 1, 8)
        assert npz["layer4.bias"].dtype == np.int32
        assert sorted(npz.files) == sorted(["header", "layer0.weight", "layer0.bias",
                                            "layer2.weight", "layer2.bias",
                                            "layer4.weight", "layer4.bias"])


def test_bytes_are_deterministic(tmp_path):
    save(random_mlp(seed=1), tmp_path / "a.npz")
    save(random_mlp(seed=1), tmp_path / "b.npz")
    assert (tmp_path / "a.npz").read_bytes() == (tmp_path / "b.npz").read_bytes()
    assert (tmp_path / "a.npz").read_bytes() == to_bytes(random_mlp(seed=1))
    assert to_bytes(random_mlp(seed=2)) != to_bytes(random_mlp(seed=1))


def test_unserializable_metadata_is_refused_before_writing(tmp_path):
    network = random_mlp()
    network.metadata["bad"] = object()
    with pytest.raises(ValueError, match="not JSON-serializable"):
        save(network, tmp_path / "m.npz")
    assert not list(tmp_path.iterdir())


def members_of(network):
    with np.load(io.BytesIO(to_bytes(network)), allow_pickle=False) as npz:
        return {name: npz[name] for name in npz.files}


def header_of(members):
    return json.loads(str(members["header"]))


def with_header(members, change):
    header = header_of(members)
    change(header)
    return {**members, "header": np.array(json.dumps(header))}


def write_members(path, members):
    np.savez(path, **members)


def _malformed_cases():
    base = lambda: members_of(random_cnn(seed=5))  # noqa: E731

    def drop(name):
        return lambda: {k: v for k, v in base().items() if k != name}

    def retype(name, dtype):
        return lambda: {**base(), name: base()[name].astype(dtype)}

    def header(change):
        return lambda: with_header(base(), change)

    def set_key(key, value):
        return header(lambda h: h.__setitem__(key, value))

    def set_layer(index, key, value):
        return header(lambda h: h["layers"][index].__setitem__(key, value))

    return {
        "no header": (drop("header"), "no 'header' member"),
        "header not a string": (lambda: {**base(), "header": np.zeros(3)}, "0-d string array"),
        "header not json": (lambda: {**base(), "header": np.array("{oops")}, "not valid JSON"),
        "wrong format": (set_key("format", "something-else"), "does not declare format"),
        "future version": (set_key("version", 2), "unsupported model format version 2"),
        "no version": (header(lambda h: h.pop("version")), "unsupported model format version"),
        "layers not a list": (set_key("layers", {}), "'layers' is missing or not a list"),
        "bad input shift": (set_key("input_shift", 9), "input_shift must be between 0 and 8"),
        "unknown kind": (set_layer(1, "kind", "avgpool"), "unknown kind 'avgpool'"),
        "missing weight": (drop("layer2.weight"), "'layer2.weight' is missing"),
        "weight int16": (retype("layer0.weight", np.int16), "must be int8, not int16"),
        "bias int64": (retype("layer4.bias", np.int64), "must be int32, not int64"),
        "extra member": (lambda: {**base(), "junk": np.zeros(2)}, "unexpected members junk"),
        "bad shift": (set_layer(0, "requant", {"multiplier": 5, "shift": 64, "zero_point": 0,
                                               "relu": True}),
                      "shift must be between 0 and 63"),
        "requant keys": (set_layer(0, "requant", {"multiplier": 5}), "requant must be null"),
        "requant types": (set_layer(0, "requant", {"multiplier": 5.5, "shift": 3,
                                                   "zero_point": 0, "relu": True}),
                          "wrong type"),
        "last layer requantized": (set_layer(4, "requant", {"multiplier": 5, "shift": 3,
                                                            "zero_point": 0, "relu": False}),
                                   "last layer must be a Dense layer without requantization"),
        "shapes do not chain": (lambda: {**base(), "layer4.weight": np.zeros((399, 10), np.int8)},
                                "invalid network"),
        "pool size": (set_layer(1, "size", 0), "pool size must be a positive integer"),
    }


MALFORMED = _malformed_cases()


@pytest.mark.parametrize("case", list(MALFORMED))
def test_malformed_members_give_one_line_errors(tmp_path, case):
    make, fragment = MALFORMED[case]
    path = tmp_path / "bad.npz"
    write_members(path, make())
    with pytest.raises(ModelFileError) as info:
        load(path)
    message = str(info.value)
    assert "\n" not in message and message.startswith(str(path) + ": ")
    assert fragment in message


def test_damaged_files_give_one_line_errors(tmp_path):
    good = to_bytes(random_cnn())
    pickled = tmp_path / "pickled.npz"
    np.savez(pickled, header=np.array([{"a": 1}], dtype=object))
    npy = tmp_path / "plain.npy"
    np.save(npy, np.zeros(3))
    cases = {
        tmp_path / "missing.npz": ("no such file", None),
        tmp_path: ("is a directory", None),
        tmp_path / "empty.npz": ("not a valid .npz model file", b""),
        tmp_path / "text.npz": ("not a valid .npz model file (not a zip archive)",
                                b"hello, I am not a model\n" * 9),
        tmp_path / "half.npz": ("not a valid .npz model file", good[:len(good) // 2]),
        tmp_path / "tail.npz": ("not a valid .npz model file", good[:-30]),
        pickled: ("pickled data", None),
        npy: ("is a .npy array", None),
    }
    for path, (fragment, content) in cases.items():
        if content is not None:
            path.write_bytes(content)
        with pytest.raises(ModelFileError) as info:
            load(path)
        message = str(info.value)
        assert "\n" not in message and str(path) in message and fragment in message, message
        assert ("pickle" in message) == (path == pickled), message


def test_corrupted_member_data_is_an_error(tmp_path):
    data = bytearray(to_bytes(random_mlp()))
    # Flip bytes inside the deflated data of the first large member (the CRC catches it).
    data[len(data) // 3:len(data) // 3 + 8] = b"\xff" * 8
    path = tmp_path / "flipped.npz"
    path.write_bytes(bytes(data))
    with pytest.raises(ModelFileError, match="flipped.npz: "):
        load(path)


def test_default_model_path_names():
    assert default_model_path("cnn").name == "cnn.npz"
    assert default_model_path().name == "cnn.npz"
    with pytest.raises(ValueError, match="no default model 'resnet'"):
        default_model_path("resnet")


def test_zip_members_have_fixed_timestamps():
    with zipfile.ZipFile(io.BytesIO(to_bytes(random_mlp()))) as archive:
        assert {info.date_time for info in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}
        assert archive.namelist()[0] == "header.npy"
