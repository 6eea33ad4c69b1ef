"""Float training of the MNIST networks in pure NumPy (no deep-learning framework).

Two architectures, both built from the layers of `accel.nn.layers` and mapped one to one onto
`accel.nn.network` by `accel.nn.quantize`:

* ``mlp``: dense 784 -> 128, ReLU, dense 128 -> 10;
* ``cnn``: conv 3x3 1 -> 8, ReLU, max-pool 2, conv 3x3 8 -> 16, ReLU, max-pool 2,
  dense 400 -> 10 (all "valid", stride 1, HWC);
* ``cnn5``: conv 5x5 SAME 1 -> 8, ReLU, max-pool 3x3 stride 3 (28 -> 9), conv 5x5 SAME 8 -> 16,
  ReLU, max-pool 3x3 stride 3 (9 -> 3), dense 144 -> 10: the "bring your own model" network,
  which leaves through ONNX (`accel.nn.onnx_export`) rather than `accel.nn.quantize` (whose
  native integer layers have neither padding nor pooling strides; see `NATIVE_ARCHITECTURES`).

The float model sees exactly what the integer model sees: the input is ``pixel >> input_shift``
(0..127 for the default shift 1) times the fixed scale `input_scale` (1/127), so the quantized
input needs no rounding. Training is mini-batch Adam with decoupled weight decay and a cosine
learning-rate schedule on softmax cross-entropy, with random shifts of up to ``max_shift``
pixels as augmentation (only 4,000 training images are available offline).

Determinism: every random choice (initialization, shuffling, shifts) comes from one
``numpy.random.default_rng(seed)``, so a run is bit-reproducible on the same machine with the
same NumPy and BLAS build (a different BLAS kernel may round float32 sums differently).

BLAS runs single-threaded during training (`accel.nn._blas`): faster on these small matrices,
and the summation order does not depend on the number of cores.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Callable

import numpy as np

from accel.nn._blas import single_threaded_blas
from accel.nn.layers import DTYPE, Conv, Dense, FloatNetwork, MaxPool, ReLU, softmax_cross_entropy

__all__ = ["ARCHITECTURES", "NATIVE_ARCHITECTURES", "EpochReport", "TrainConfig", "accuracy",
           "build_network", "float_input", "input_scale", "shift_images", "train"]

#: Names accepted by `build_network`.
ARCHITECTURES = ("cnn", "cnn5", "mlp")
#: Architectures that `accel.nn.quantize` maps onto the native `accel.nn.network` layers.
NATIVE_ARCHITECTURES = ("cnn", "mlp")


@dataclass(frozen=True)
class TrainConfig:
    """Everything that determines a training run (recorded in the model's metadata).

    Parameters
    ----------
    arch : {"cnn", "cnn5", "mlp"}
    epochs : int
        Passes over the training set.
    seed : int
        Seed of initialization, shuffling and augmentation.
    batch_size : int
    learning_rate : float
        Peak Adam step size; decays to 0 along a cosine over all steps.
    weight_decay : float
        Decoupled (AdamW) decay of the weights (not the biases) per unit learning rate.
    max_shift : int
        Training images are shifted by a random ``-max_shift .. max_shift`` pixels in each
        direction (zero fill); 0 disables augmentation.
    input_shift : int
        Input integers are ``pixel >> input_shift``.
    """

    arch: str = "cnn"
    epochs: int = 30
    seed: int = 0
    batch_size: int = 32
    learning_rate: float = 2e-3
    weight_decay: float = 1e-4
    max_shift: int = 1
    input_shift: int = 1

    def __post_init__(self) -> None:
        if self.arch not in ARCHITECTURES:
            raise ValueError(f"arch must be one of {', '.join(ARCHITECTURES)}, not {self.arch!r}")
        for name in ("epochs", "batch_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, not {getattr(self, name)!r}")
        if not 0 <= self.max_shift <= 4:
            raise ValueError(f"max_shift must be between 0 and 4, not {self.max_shift!r}")
        if not 0 <= self.input_shift <= 7:
            raise ValueError(f"input_shift must be between 0 and 7, not {self.input_shift!r}")

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class EpochReport:
    """Progress after one epoch: mean training loss, accuracy on the (augmented) training
    batches, accuracy on the evaluation set (None without one), wall-clock seconds so far."""

    epoch: int
    epochs: int
    loss: float
    train_accuracy: float
    eval_accuracy: float | None
    seconds: float


def input_scale(input_shift: int = 1) -> float:
    """Float value of one input integer step: ``1 / (255 >> input_shift)``."""
    return 1.0 / (255 >> input_shift)


def float_input(images: np.ndarray, input_shift: int = 1) -> np.ndarray:
    """uint8 images ``(n, 28, 28)`` -> float32 ``(n, 28, 28, 1)`` equal to the quantized input
    ``pixel >> input_shift`` times `input_scale`."""
    integers = np.asarray(images, dtype=np.int64) >> input_shift
    return (integers * input_scale(input_shift)).astype(DTYPE)[..., None]


def build_network(arch: str, rng: np.random.Generator) -> FloatNetwork:
    """A freshly initialized float network of architecture ``arch`` (see `ARCHITECTURES`)."""
    if arch == "mlp":
        layers = [Dense.init(rng, 784, 128), ReLU(), Dense.init(rng, 128, 10)]
    elif arch == "cnn":
        layers = [Conv.init(rng, 3, 1, 8), ReLU(), MaxPool(2),
                  Conv.init(rng, 3, 8, 16), ReLU(), MaxPool(2),
                  Dense.init(rng, 5 * 5 * 16, 10)]
    elif arch == "cnn5":
        layers = [Conv.init(rng, 5, 1, 8, padding="same"), ReLU(), MaxPool(3, 3),
                  Conv.init(rng, 5, 8, 16, padding="same"), ReLU(), MaxPool(3, 3),
                  Dense.init(rng, 3 * 3 * 16, 10)]
    else:
        raise ValueError(f"arch must be one of {', '.join(ARCHITECTURES)}, not {arch!r}")
    return FloatNetwork(arch, layers)


def shift_images(images: np.ndarray, rng: np.random.Generator, max_shift: int) -> np.ndarray:
    """Each image moved by its own random ``(dy, dx)`` in ``-max_shift .. max_shift``, zero
    filled (a new array)."""
    if max_shift == 0:
        return images.copy()
    n, h, w = images.shape
    padded = np.pad(images, ((0, 0), (max_shift, max_shift), (max_shift, max_shift)))
    offsets = rng.integers(0, 2 * max_shift + 1, size=(n, 2))
    rows = offsets[:, 0, None] + np.arange(h)
    cols = offsets[:, 1, None] + np.arange(w)
    return padded[np.arange(n)[:, None, None], rows[:, :, None], cols[:, None, :]]


def accuracy(network: FloatNetwork, inputs: np.ndarray, labels: np.ndarray) -> float:
    """Fraction of float inputs whose largest logit is at the label."""
    with single_threaded_blas():
        return float(np.mean(network.predict(inputs).argmax(axis=1) == labels))


class _Adam:
    """Adam with decoupled weight decay on parameters named ``weight``."""

    def __init__(self, network: FloatNetwork, weight_decay: float,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8) -> None:
        self.network = network
        self.weight_decay = weight_decay
        self.betas = betas
        self.eps = eps
        self.moments = {(layer, name): (np.zeros_like(value), np.zeros_like(value))
                        for layer, params, _ in network.parameters()
                        for name, value in params.items()}
        self.steps = 0

    def step(self, learning_rate: float) -> None:
        self.steps += 1
        b1, b2 = self.betas
        correction1 = 1 - b1 ** self.steps
        correction2 = 1 - b2 ** self.steps
        for layer, params, grads in self.network.parameters():
            for name, value in params.items():
                m, v = self.moments[(layer, name)]
                grad = grads[name]
                m *= b1
                m += (1 - b1) * grad
                v *= b2
                v += (1 - b2) * grad * grad
                update = (m / correction1) / (np.sqrt(v / correction2) + self.eps)
                if name == "weight":
                    update = update + self.weight_decay * value
                value -= (learning_rate * update).astype(value.dtype)


def train(config: TrainConfig, images: np.ndarray, labels: np.ndarray,
          eval_images: np.ndarray | None = None, eval_labels: np.ndarray | None = None,
          progress: Callable[[EpochReport], None] | None = None) -> FloatNetwork:
    """Train a float network of ``config.arch`` on uint8 ``images (n, 28, 28)`` and ``labels``.

    Parameters
    ----------
    config : TrainConfig
    images, labels : numpy.ndarray
        Training set.
    eval_images, eval_labels : numpy.ndarray, optional
        Evaluated (float accuracy) after every epoch for the progress report only; they never
        influence training.
    progress : callable, optional
        Called with an `EpochReport` after every epoch.

    Returns
    -------
    FloatNetwork
    """
    images = np.asarray(images, dtype=np.uint8)
    labels = np.asarray(labels, dtype=np.int64)
    if images.ndim != 3 or images.shape[1:] != (28, 28) or labels.shape != images.shape[:1]:
        raise ValueError(f"training needs images (n, 28, 28) and labels (n,), not "
                         f"{images.shape} and {labels.shape}")
    with single_threaded_blas():
        return _train(config, images, labels, eval_images, eval_labels, progress)


def _train(config, images, labels, eval_images, eval_labels, progress) -> FloatNetwork:
    rng = np.random.default_rng(config.seed)
    network = build_network(config.arch, rng)
    optimizer = _Adam(network, config.weight_decay)
    eval_inputs = None if eval_images is None else float_input(eval_images, config.input_shift)
    batches = -(-len(labels) // config.batch_size)
    total_steps = config.epochs * batches
    start = time.perf_counter()
    for epoch in range(config.epochs):
        order = rng.permutation(len(labels))
        shifted = shift_images(images[order], rng, config.max_shift)
        inputs = float_input(shifted, config.input_shift)
        targets = labels[order]
        loss_sum = correct = 0.0
        for b in range(batches):
            batch = slice(b * config.batch_size, (b + 1) * config.batch_size)
            logits = network.forward(inputs[batch], train=True)
            loss, grad = softmax_cross_entropy(logits, targets[batch])
            network.backward(grad, input_grad=False)
            step = epoch * batches + b
            optimizer.step(config.learning_rate * 0.5 * (1 + np.cos(np.pi * step / total_steps)))
            loss_sum += loss * len(grad)
            correct += float(np.sum(logits.argmax(axis=1) == targets[batch]))
        if progress is not None:
            held = None if eval_inputs is None else accuracy(network, eval_inputs, eval_labels)
            progress(EpochReport(epoch + 1, config.epochs, loss_sum / len(labels),
                                 correct / len(labels), held, time.perf_counter() - start))
    return network
