"""Quantized networks: the integer layers the compiler maps onto the accelerator, and their
exact NumPy reference.

A `QuantizedNetwork` is a feed-forward chain of `Conv2D`, `MaxPool2D` and `Dense` layers on
int8 tensors in HWC order (height, width, channels). Its arithmetic is the accelerator's:

* the input is ``pixel >> input_shift`` for uint8 pixels (0..255), an int8 tensor (28, 28, 1);
* `Conv2D` ("valid" padding, stride 1) and `Dense` accumulate ``int8 x int8`` products plus an
  int32 bias in the accumulator, then the activation unit requantizes
  (`accel.golden.arith.activate` with the layer's `Requant`) to int8; the last layer may instead
  return the raw int32 accumulators (the logits);
* `MaxPool2D` takes the maximum of each non-overlapping ``size x size`` window (a remainder row
  or column is dropped);
* a `Dense` layer after a 3-D tensor flattens it in HWC order.

`reference` computes exactly that, so every backend (golden model, RTL, SoC) must reproduce its
logits bit for bit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Union

import numpy as np

from accel.golden.arith import activate, wrap
from accel.compiler.tiler import Requant

__all__ = ["Conv2D", "MaxPool2D", "Dense", "Layer", "QuantizedNetwork", "quantize_input",
           "reference"]

#: Accumulator width the reference wraps to (the default configuration's); the compiler refuses
#: configurations whose accumulator is narrower than the network needs.
ACC_WIDTH = 32


def _int_array(name: str, value: np.ndarray, ndim: int, bits: int) -> np.ndarray:
    array = np.asarray(value)
    if array.ndim != ndim or not np.issubdtype(array.dtype, np.integer):
        raise ValueError(f"{name} must be a {ndim}-D integer array, not {array.dtype} "
                         f"with shape {array.shape}")
    lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    if array.size and (array.min() < lo or array.max() > hi):
        raise ValueError(f"{name} values must be between {lo} and {hi}")
    return array.astype(np.int64)


@dataclass(frozen=True, eq=False)
class Conv2D:
    """A "valid", stride-1 convolution: weight ``(kh, kw, cin, cout)`` int8, bias ``(cout,)``
    int32, requantized (usually with ReLU) to int8."""

    weight: np.ndarray
    bias: np.ndarray
    requant: Requant

    def __post_init__(self) -> None:
        object.__setattr__(self, "weight", _int_array("conv weight", self.weight, 4, 8))
        object.__setattr__(self, "bias", _int_array("conv bias", self.bias, 1, 32))
        if self.bias.shape[0] != self.weight.shape[3]:
            raise ValueError(f"conv bias has {self.bias.shape[0]} elements for "
                             f"{self.weight.shape[3]} output channels")

    def output_shape(self, shape: tuple[int, ...]) -> tuple[int, int, int]:
        kh, kw, cin, cout = self.weight.shape
        if len(shape) != 3 or shape[2] != cin or shape[0] < kh or shape[1] < kw:
            raise ValueError(f"a {kh}x{kw}x{cin} convolution does not fit input {shape}")
        return shape[0] - kh + 1, shape[1] - kw + 1, cout


@dataclass(frozen=True)
class MaxPool2D:
    """Non-overlapping ``size x size`` max pooling."""

    size: int = 2

    def __post_init__(self) -> None:
        if isinstance(self.size, bool) or not isinstance(self.size, int) or self.size < 1:
            raise ValueError(f"pool size must be a positive integer, not {self.size!r}")

    def output_shape(self, shape: tuple[int, ...]) -> tuple[int, int, int]:
        if len(shape) != 3 or shape[0] < self.size or shape[1] < self.size:
            raise ValueError(f"a {self.size}x{self.size} pool does not fit input {shape}")
        return shape[0] // self.size, shape[1] // self.size, shape[2]


@dataclass(frozen=True, eq=False)
class Dense:
    """A fully connected layer: weight ``(inputs, outputs)`` int8, bias ``(outputs,)`` int32;
    requantized to int8, or raw int32 accumulators when ``requant`` is None (last layer)."""

    weight: np.ndarray
    bias: np.ndarray
    requant: Requant | None

    def __post_init__(self) -> None:
        object.__setattr__(self, "weight", _int_array("dense weight", self.weight, 2, 8))
        object.__setattr__(self, "bias", _int_array("dense bias", self.bias, 1, 32))
        if self.bias.shape[0] != self.weight.shape[1]:
            raise ValueError(f"dense bias has {self.bias.shape[0]} elements for "
                             f"{self.weight.shape[1]} outputs")

    def output_shape(self, shape: tuple[int, ...]) -> tuple[int]:
        inputs = int(np.prod(shape))
        if inputs != self.weight.shape[0]:
            raise ValueError(f"a dense layer with {self.weight.shape[0]} inputs gets a tensor "
                             f"of shape {shape} ({inputs} values)")
        return (self.weight.shape[1],)


Layer = Union[Conv2D, MaxPool2D, Dense]


@dataclass(frozen=True, eq=False)
class QuantizedNetwork:
    """An int8 network ready to compile.

    Members
    -------
    name : str
        ``mlp``, ``cnn`` or any identifier.
    layers : tuple of Layer
        The last layer is a `Dense` without requantization: its int32 outputs are the logits.
    input_shape : (int, int, int)
        (28, 28, 1) for MNIST.
    input_shift : int
        Input int8 values are ``pixel >> input_shift`` (1 maps 0..255 onto 0..127).
    metadata : dict
        JSON-serializable facts (training seed, float and int8 accuracy, scales...).
    """

    name: str
    layers: tuple[Layer, ...]
    input_shape: tuple[int, int, int] = (28, 28, 1)
    input_shift: int = 1
    metadata: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "layers", tuple(self.layers))
        object.__setattr__(self, "input_shape", tuple(int(v) for v in self.input_shape))
        if not self.layers:
            raise ValueError("a network needs at least one layer")
        if not 0 <= self.input_shift <= 8:
            raise ValueError(f"input_shift must be between 0 and 8, not {self.input_shift!r}")
        last = self.layers[-1]
        if not isinstance(last, Dense) or last.requant is not None:
            raise ValueError("the last layer must be a Dense layer without requantization "
                             "(its int32 accumulators are the logits)")
        for layer in self.layers[:-1]:
            if isinstance(layer, Dense) and layer.requant is None:
                raise ValueError("only the last layer may skip requantization")
        self.shapes()  # validates the chain

    def shapes(self) -> list[tuple[int, ...]]:
        """The tensor shape before every layer and after the last one."""
        shapes: list[tuple[int, ...]] = [self.input_shape]
        for layer in self.layers:
            shapes.append(layer.output_shape(shapes[-1]))
        return shapes

    @property
    def classes(self) -> int:
        return self.layers[-1].weight.shape[1]

    def macs(self) -> int:
        """Multiply-accumulates of one inference."""
        total = 0
        for layer, shape in zip(self.layers, self.shapes()):
            if isinstance(layer, Conv2D):
                oh, ow, cout = layer.output_shape(shape)
                total += oh * ow * cout * int(np.prod(layer.weight.shape[:3]))
            elif isinstance(layer, Dense):
                total += layer.weight.size
        return total


def quantize_input(images: np.ndarray, shift: int = 1) -> np.ndarray:
    """uint8 images ``(..., 28, 28)`` -> int8-range int64 tensors ``(..., 28, 28, 1)``."""
    images = np.asarray(images)
    if not np.issubdtype(images.dtype, np.integer) or images.size and (
            images.min() < 0 or images.max() > 255):
        raise ValueError("images must hold integer pixels between 0 and 255")
    return (images.astype(np.int64) >> shift)[..., None]


def _conv(x: np.ndarray, layer: Conv2D) -> np.ndarray:
    kh, kw, cin, cout = layer.weight.shape
    oh, ow, _ = layer.output_shape(x.shape)
    acc = np.zeros((oh, ow, cout), dtype=np.int64)
    for i in range(kh):
        for j in range(kw):
            acc += np.einsum("hwc,cn->hwn", x[i:i + oh, j:j + ow, :], layer.weight[i, j])
    return acc + layer.bias


def _pool(x: np.ndarray, size: int) -> np.ndarray:
    oh, ow = x.shape[0] // size, x.shape[1] // size
    x = x[:oh * size, :ow * size].reshape(oh, size, ow, size, x.shape[2])
    return x.max(axis=(1, 3))


def _requant(acc: np.ndarray, requant: Requant) -> np.ndarray:
    return activate(wrap(acc, ACC_WIDTH), multiplier=requant.multiplier, shift=requant.shift,
                    relu=requant.relu, zero_point=requant.zero_point, acc_width=ACC_WIDTH,
                    out_width=8)


def reference(network: QuantizedNetwork, image: np.ndarray) -> np.ndarray:
    """Exact int32 logits of one uint8 image ``(28, 28)`` (or an int8 input tensor of the
    network's input shape), computed layer by layer in NumPy."""
    image = np.asarray(image)
    x = quantize_input(image, network.input_shift) if image.ndim == 2 else image.astype(np.int64)
    if x.shape != network.input_shape:
        raise ValueError(f"the network takes {network.input_shape} inputs, not {x.shape}")
    for layer in network.layers:
        if isinstance(layer, Conv2D):
            x = _requant(_conv(x, layer), layer.requant)
        elif isinstance(layer, MaxPool2D):
            x = _pool(x, layer.size)
        else:
            acc = wrap(x.reshape(-1) @ layer.weight + layer.bias, ACC_WIDTH)
            x = acc if layer.requant is None else _requant(acc, layer.requant)
    return x.astype(np.int32)
