"""The committed default models: they load, fit the size budget, reach their recorded accuracy
through `reference`, and are reproduced by `accelgen mnist train` with the default recipe."""

import numpy as np
import pytest

from accel.nn._blas import blas_fingerprint
from accel.nn.batch_reference import reference_batch
from accel.nn.model_file import default_model_path, load_default, to_bytes
from accel.nn.network import Conv2D, MaxPool2D, reference
from accel.nn.mnist.recipe import load_dataset, make_model, weight_bytes
from accel.nn.train import TrainConfig

#: Lowest acceptable int8 accuracy on the 1,000 held-out offline images.
THRESHOLD = {"cnn": 0.97, "mlp": 0.96}


@pytest.fixture(scope="module")
def dataset():
    return load_dataset()


@pytest.mark.slow
@pytest.mark.parametrize("name", ["cnn", "mlp"])
def test_default_model_accuracy_is_recorded_and_reproduced(name, dataset):
    network = load_default(name)
    meta = network.metadata
    assert default_model_path(name).is_file()
    assert meta["arch"] == name and meta["eval_set"] == "held-out" and meta["eval_images"] == 1000
    assert meta["training"] == TrainConfig(arch=name).as_dict()
    assert abs(meta["float_accuracy"] - meta["int8_accuracy"]) <= 0.005
    assert meta["int8_accuracy"] >= THRESHOLD[name]
    logits = reference_batch(network, dataset.eval_images)
    assert np.mean(logits.argmax(axis=1) == dataset.eval_labels) == meta["int8_accuracy"]
    # The exact per-image reference agrees on a subset, and so does its accuracy.
    subset = slice(0, 200)
    exact = np.stack([reference(network, image) for image in dataset.eval_images[subset]])
    np.testing.assert_array_equal(exact, logits[subset])
    assert np.mean(exact.argmax(axis=1) == dataset.eval_labels[subset]) >= THRESHOLD[name] - 0.02


def test_default_cnn_fits_small_fpga_memories():
    network = load_default("cnn")
    assert [type(layer).__name__ for layer in network.layers] == [
        "Conv2D", "MaxPool2D", "Conv2D", "MaxPool2D", "Dense"]
    assert network.macs() <= 300_000
    assert sum(layer.weight.size for layer in network.layers
               if not isinstance(layer, MaxPool2D)) <= 24 * 1024
    assert weight_bytes(network) == network.metadata["weight_bytes"]
    assert all(layer.requant.relu for layer in network.layers if isinstance(layer, Conv2D))


@pytest.mark.slow
def test_training_the_default_mlp_reproduces_the_committed_file(dataset):
    """The default recipe (30 epochs, ~15 s) regenerates mlp.npz. Bit for bit where NumPy and
    BLAS are those that trained it; elsewhere float rounding differs, so the run must only be
    as good (the CNN's recipe is the same code, only slower; see test_train.py for
    determinism)."""
    committed = load_default("mlp")
    result = make_model(TrainConfig(arch="mlp"), dataset,
                        command=committed.metadata["command"])
    if committed.metadata["trained_with"] == blas_fingerprint():
        assert to_bytes(result.network) == default_model_path("mlp").read_bytes()
    else:
        assert result.int8_accuracy >= THRESHOLD["mlp"]
        assert abs(result.int8_accuracy - result.float_accuracy) <= 0.01
