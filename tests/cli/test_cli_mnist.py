"""``accelgen mnist train`` and ``accelgen mnist info``."""

import gzip
import struct

import numpy as np
import pytest
from click.testing import CliRunner

from accel.cli import main
from accel.nn.model_file import load, save
from tests.support.nets import random_cnn


def run(*args):
    return CliRunner().invoke(main, ["mnist", *args])


@pytest.mark.slow
def test_train_short_run_prints_progress_and_writes_a_reproducible_model(tmp_path):
    first, second = tmp_path / "a.npz", tmp_path / "b.npz"
    result = run("train", "--arch", "mlp", "--epochs", "2", "--seed", "4", "--out", str(first))
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("training mlp: 4000 images, 2 epochs, seed 4")
    assert lines[1].startswith("epoch   1/2  loss ") and lines[2].startswith("epoch   2/2")
    assert "held-out accuracy on 1000 images: float " in result.output
    assert ", int8 " in result.output
    network = load(first)
    meta = network.metadata
    assert meta["training"]["epochs"] == 2 and meta["training"]["seed"] == 4
    assert meta["command"] == "accelgen mnist train --arch mlp --epochs 2 --seed 4"
    assert abs(meta["float_accuracy"] - meta["int8_accuracy"]) <= 0.01
    assert f"int8 {100 * meta['int8_accuracy']:.2f}%" in result.output
    result = run("train", "--arch", "mlp", "--epochs", "2", "--seed", "4", "--out", str(second))
    assert result.exit_code == 0, result.output
    assert first.read_bytes() == second.read_bytes()


def test_info_of_a_file(tmp_path):
    network = random_cnn(seed=2)
    network.metadata.update({"float_accuracy": 0.9812, "int8_accuracy": 0.9799,
                             "eval_images": 1000, "eval_set": "held-out"})
    path = tmp_path / "m.npz"
    save(network, path)
    result = run("info", str(path))
    assert result.exit_code == 0, result.output
    out = result.output
    assert "cnn: input 28x28x1 int8 = pixel >> 1, 5 layers, 10 classes" in out
    assert "conv 3x3 1->8" in out and "26x26x8" in out and "48,672" in out
    assert "maxpool 2x2" in out and "13x13x8" in out
    assert "dense 400->10" in out and "int32 logits" in out
    assert f"total MACs per inference {network.macs():,}" in out
    assert "float 98.12%, int8 97.99%" in out


def test_info_of_a_default_model_by_name():
    result = run("info", "mlp")
    assert result.exit_code == 0, result.output
    assert "dense 784->128" in result.output and "relu" in result.output


@pytest.mark.parametrize("args, fragment", [
    (["info", "missing.npz"],
     "no model 'missing.npz': give a model file (.npz) or one of cnn, mlp"),
    (["info", "junk.npz"], "junk.npz: not a valid .npz model file"),
    (["train", "--arch", "vgg", "--out", "x.npz"], "'vgg' is not one of 'cnn', 'mlp'"),
    (["train", "--epochs", "0", "--out", "x.npz"], "0 is not in the range"),
    (["train", "--out", "nodir/x.npz"], "directory 'nodir' does not exist"),
    (["train", "--data-dir", "nowhere", "--out", "x.npz"], "nowhere: MNIST data directory"),
    (["train", "--data-dir", ".", "--out", "x.npz"], "train-images-idx3-ubyte[.gz] not found"),
    (["train"], "Missing option '--out'"),
])
def test_bad_input_is_one_line_exit_2(tmp_path, monkeypatch, args, fragment):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    result = run(*args)
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and fragment in lines[0], lines
    assert not (tmp_path / "x.npz").exists()


def test_train_from_a_data_directory(tmp_path):
    """--data-dir reads idx files: here a tiny synthetic 'official' set."""
    def idx(array):
        array = np.asarray(array, np.uint8)
        return struct.pack(f">I{array.ndim}I", 0x0800 | array.ndim, *array.shape) + \
            array.tobytes()

    rng = np.random.default_rng(0)
    labels = np.arange(60) % 10
    images = np.zeros((60, 28, 28), np.uint8)
    for i, label in enumerate(labels):  # a bright bar whose row encodes the class
        images[i, 2 + 2 * label: 4 + 2 * label, 4:24] = 200 + rng.integers(0, 50)
    for prefix, count in (("train", 60), ("t10k", 20)):
        packed = gzip.compress(idx(images[:count]))
        (tmp_path / f"{prefix}-images-idx3-ubyte.gz").write_bytes(packed)
        (tmp_path / f"{prefix}-labels-idx1-ubyte").write_bytes(idx(labels[:count]))
    out = tmp_path / "m.npz"
    result = run("train", "--arch", "mlp", "--epochs", "3", "--data-dir", str(tmp_path),
                 "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "training mlp: 60 images" in result.output
    assert "t10k accuracy on 20 images" in result.output
    meta = load(out).metadata
    assert meta["eval_set"] == "t10k" and meta["train_images"] == 60
    assert meta["command"].endswith("--data-dir DIR")
