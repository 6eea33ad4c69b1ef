"""The recipe's float half: `make_float_model` reproduces the committed cnn5 float model, and
`make_model` refuses architectures the native int8 layers cannot run."""

import pytest

from accel.nn._blas import blas_fingerprint
from accel.nn.float_file import default_float_path, load_default_float, to_bytes
from accel.nn.mnist.recipe import FLOAT_RECIPES, load_dataset, make_float_model, make_model
from accel.nn.train import TrainConfig


def test_make_model_refuses_cnn5():
    with pytest.raises(ValueError, match="native int8 layers, which cannot run 'cnn5'"):
        make_model(TrainConfig(arch="cnn5", epochs=1), None)  # refused before any data


@pytest.mark.slow
def test_training_cnn5_reproduces_the_committed_float_model():
    """The default cnn5 recipe (30 epochs, about a minute) regenerates cnn5-float.npz bit for
    bit where NumPy and BLAS are those that trained it; elsewhere it must be as good."""
    _, committed = load_default_float("cnn5")
    result = make_float_model(FLOAT_RECIPES["cnn5"], load_dataset(),
                              command=committed["command"])
    if committed["trained_with"] == blas_fingerprint():
        assert to_bytes(result.network, result.metadata) == default_float_path().read_bytes()
    else:
        assert result.float_accuracy >= 0.98
