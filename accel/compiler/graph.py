"""The integer network IR: int8 tensors with a scale and zero point, and the layers that map
them onto the accelerator.

A `Graph` is a list of `Node` objects in topological order over named `Tensor` values. Every
tensor is int8 in HWC layout (``(height, width, channels)``, batch 1) or a 1-D vector
``(features,)``, and carries the affine quantization ``real = scale x (q - zero_point)``; the
only int32 tensor is a `Dense` output without requantization (raw accumulators, e.g. logits).
Integer semantics of every node are exact and defined by `accel.compiler.reference`
(accumulators are int32 and wrap like the accelerator's; a well-formed model never does); ``scale``
is informational there (it dequantizes outputs and documents the model), except where a node
derives its fixed-point factors from it at construction.

Front ends (`accel.frontend.onnx`, the native MNIST networks) build a `Graph`; the lowering
(`accel.compiler.lower`) maps it onto accelerator programs and host steps.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Union

import numpy as np

from accel.compiler.fixedpoint import fixed_points

__all__ = ["Tensor", "Requantize", "Conv2D", "Dense", "MaxPool", "AvgPool", "Add", "Node",
           "Graph", "GraphError", "INT8", "ADD_FRACTION_BITS", "node_inputs"]

INT8 = (-128, 127)


class GraphError(ValueError):
    """A graph that breaks a rule of the IR (the message names the node)."""


def _pair(name: str, value, low: int = 1) -> tuple[int, int]:
    pair = tuple(int(v) for v in (value if np.ndim(value) else (value, value)))
    if len(pair) != 2 or min(pair) < low:
        raise GraphError(f"{name} must be two integers >= {low}, not {value!r}")
    return pair  # type: ignore[return-value]


def _int_array(name: str, value, ndim: int, bits: int) -> np.ndarray:
    array = np.asarray(value)
    if array.ndim != ndim or not np.issubdtype(array.dtype, np.integer):
        raise GraphError(f"{name} must be a {ndim}-D integer array, not {array.dtype} with "
                         f"shape {array.shape}")
    lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    if array.size and (array.min() < lo or array.max() > hi):
        raise GraphError(f"{name} values must be between {lo} and {hi}")
    return array.astype(np.int64)


@dataclass(frozen=True)
class Tensor:
    """A named int8 (or int32) value: shape, and ``real = scale x (q - zero_point)``.

    Members
    -------
    shape : tuple of int
        ``(h, w, c)`` or ``(n,)``.
    scale : float
        Positive.
    zero_point : int
        In the int8 range (0 for int32 tensors).
    dtype : str
        ``"int8"`` or ``"int32"``.
    """

    name: str
    shape: tuple[int, ...]
    scale: float
    zero_point: int = 0
    dtype: str = "int8"

    def __post_init__(self) -> None:
        object.__setattr__(self, "shape", tuple(int(v) for v in self.shape))
        if len(self.shape) not in (1, 3) or min(self.shape) < 1:
            raise GraphError(f"tensor {self.name!r}: shape must be (h, w, c) or (n,), not "
                             f"{self.shape}")
        if not (np.isfinite(self.scale) and self.scale > 0):
            raise GraphError(f"tensor {self.name!r}: scale must be positive, not {self.scale!r}")
        if self.dtype not in ("int8", "int32"):
            raise GraphError(f"tensor {self.name!r}: dtype must be int8 or int32")
        if not INT8[0] <= self.zero_point <= INT8[1] or (self.dtype == "int32"
                                                         and self.zero_point != 0):
            raise GraphError(f"tensor {self.name!r}: zero point {self.zero_point} out of range")

    @property
    def size(self) -> int:
        return int(np.prod(self.shape))

    def quantize(self, real: np.ndarray) -> np.ndarray:
        """``clamp(round_half_even(real / scale) + zero_point)`` as int64 (ONNX QuantizeLinear)."""
        q = np.rint(np.asarray(real, dtype=np.float64) / self.scale) + self.zero_point
        lo, hi = INT8 if self.dtype == "int8" else (-(1 << 31), (1 << 31) - 1)
        return np.clip(q, lo, hi).astype(np.int64)

    def dequantize(self, q: np.ndarray) -> np.ndarray:
        return (np.asarray(q, dtype=np.float64) - self.zero_point) * self.scale


@dataclass(frozen=True, eq=False)
class Requantize:
    """The activation unit's settings for an int8 output: per output channel
    ``multiplier[c] x 2**-shift[c]``, then ReLU (optional), plus ``zero_point``, saturated to
    int8 (`accel.golden.arith.activate`). Per-tensor requantization has equal entries.
    """

    multiplier: np.ndarray
    shift: np.ndarray
    zero_point: int = 0
    relu: bool = False

    def __post_init__(self) -> None:
        mult = np.asarray(self.multiplier, dtype=np.int64).reshape(-1)
        shift = np.asarray(self.shift, dtype=np.int64).reshape(-1)
        if mult.shape != shift.shape or mult.size == 0:
            raise GraphError("requantization needs one multiplier and one shift per channel")
        if mult.min() < 0 or mult.max() >= 1 << 31 or shift.min() < 0 or shift.max() > 63:
            raise GraphError("requantization multipliers must be in 0..2**31-1, shifts 0..63")
        if not INT8[0] <= self.zero_point <= INT8[1]:
            raise GraphError(f"output zero point {self.zero_point} is outside int8")
        object.__setattr__(self, "multiplier", mult)
        object.__setattr__(self, "shift", shift)
        object.__setattr__(self, "zero_point", int(self.zero_point))
        object.__setattr__(self, "relu", bool(self.relu))

    @classmethod
    def from_scales(cls, factors: np.ndarray, zero_point: int = 0,
                    relu: bool = False) -> "Requantize":
        """From real factors ``input_scale x weight_scale[c] / output_scale`` (one per channel,
        or a scalar), rounded by `accel.compiler.fixedpoint.fixed_point`."""
        mult, shift = fixed_points(np.atleast_1d(factors))
        return cls(mult, shift, zero_point, relu)

    @property
    def per_tensor(self) -> bool:
        return bool((self.multiplier == self.multiplier[0]).all()
                    and (self.shift == self.shift[0]).all())

    def channels(self, count: int) -> "Requantize":
        """The same settings for ``count`` channels (a per-tensor entry broadcast)."""
        if self.multiplier.size == count:
            return self
        if self.multiplier.size != 1:
            raise GraphError(f"requantization has {self.multiplier.size} channels, not {count}")
        return Requantize(np.repeat(self.multiplier, count), np.repeat(self.shift, count),
                          self.zero_point, self.relu)


@dataclass(frozen=True, eq=False)
class Conv2D:
    """2-D convolution of an HWC tensor, requantized to int8.

    ``acc[y, x, o] = bias[o] + sum over (i, j, c in group of o) (in[y*sh + i - top,
    x*sw + j - left, c] - in.zero_point) * weight[i, j, c - group_start, o]``, where pixels in the
    padding read as ``in.zero_point`` (real 0); then ``requant`` per output channel.

    Members
    -------
    weight : ndarray (kh, kw, cin // groups, cout)
        int8, symmetric (weight zero point 0).
    bias : ndarray (cout,)
        int32 at the accumulator scale (``in.scale x weight_scale[o]``).
    stride : (sh, sw)
    pads : (top, left, bottom, right)
    groups : int
        Divides cin and cout; ``groups == cin == cout`` is depthwise.
    """

    name: str
    input: str
    output: str
    weight: np.ndarray
    bias: np.ndarray
    requant: Requantize
    stride: tuple[int, int] = (1, 1)
    pads: tuple[int, int, int, int] = (0, 0, 0, 0)
    groups: int = 1

    def __post_init__(self) -> None:
        object.__setattr__(self, "weight", _int_array(f"{self.name}: weight", self.weight, 4, 8))
        object.__setattr__(self, "bias", _int_array(f"{self.name}: bias", self.bias, 1, 32))
        object.__setattr__(self, "stride", _pair(f"{self.name}: stride", self.stride))
        pads = tuple(int(p) for p in self.pads)
        if len(pads) != 4 or min(pads) < 0:
            raise GraphError(f"{self.name}: pads must be four integers >= 0, not {self.pads!r}")
        object.__setattr__(self, "pads", pads)
        cout = self.weight.shape[3]
        if self.bias.shape != (cout,):
            raise GraphError(f"{self.name}: bias has shape {self.bias.shape} for {cout} outputs")
        if self.groups < 1 or cout % self.groups:
            raise GraphError(f"{self.name}: groups {self.groups} does not divide {cout} outputs")
        object.__setattr__(self, "requant", self.requant.channels(cout))

    @property
    def kernel(self) -> tuple[int, int]:
        return self.weight.shape[0], self.weight.shape[1]

    def output_shape(self, shape: tuple[int, ...]) -> tuple[int, int, int]:
        kh, kw, cin_g, cout = self.weight.shape
        top, left, bottom, right = self.pads
        if len(shape) != 3 or shape[2] != cin_g * self.groups:
            raise GraphError(f"{self.name}: a convolution of {cin_g * self.groups} input "
                             f"channels gets a tensor of shape {shape}")
        h, w = shape[0] + top + bottom, shape[1] + left + right
        if h < kh or w < kw:
            raise GraphError(f"{self.name}: a {kh}x{kw} kernel does not fit the padded "
                             f"{h}x{w} input")
        return (h - kh) // self.stride[0] + 1, (w - kw) // self.stride[1] + 1, cout


@dataclass(frozen=True, eq=False)
class Dense:
    """Fully connected layer on the HWC flattening of its input.

    ``acc[o] = bias[o] + sum_k (in[k] - in.zero_point) * weight[k, o]``; requantized to int8, or
    the raw int32 accumulators when ``requant`` is None (only the graph's output).
    """

    name: str
    input: str
    output: str
    weight: np.ndarray
    bias: np.ndarray
    requant: Requantize | None

    def __post_init__(self) -> None:
        object.__setattr__(self, "weight", _int_array(f"{self.name}: weight", self.weight, 2, 8))
        object.__setattr__(self, "bias", _int_array(f"{self.name}: bias", self.bias, 1, 32))
        n = self.weight.shape[1]
        if self.bias.shape != (n,):
            raise GraphError(f"{self.name}: bias has shape {self.bias.shape} for {n} outputs")
        if self.requant is not None:
            object.__setattr__(self, "requant", self.requant.channels(n))

    def output_shape(self, shape: tuple[int, ...]) -> tuple[int]:
        if int(np.prod(shape)) != self.weight.shape[0]:
            raise GraphError(f"{self.name}: a dense layer with {self.weight.shape[0]} inputs gets "
                             f"a tensor of shape {shape}")
        return (self.weight.shape[1],)


@dataclass(frozen=True, eq=False)
class MaxPool:
    """Max pooling; padded positions never win (ONNX semantics). Output quantization equals the
    input's."""

    name: str
    input: str
    output: str
    kernel: tuple[int, int]
    stride: tuple[int, int]
    pads: tuple[int, int, int, int] = (0, 0, 0, 0)

    def __post_init__(self) -> None:
        _check_window(self)

    def output_shape(self, shape: tuple[int, ...]) -> tuple[int, int, int]:
        return _pool_shape(self, shape)


@dataclass(frozen=True, eq=False)
class AvgPool:
    """Average pooling, requantized: ``out = saturate(round_shift((sum of the window's valid
    (in - in.zero_point)) x multiplier[n], shift[n]) + out.zero_point)`` where ``n`` is the
    divisor: the window's valid pixel count, or ``kh x kw`` with ``count_include_pad``.
    ``multiplier[n - 1], shift[n - 1]`` is `fixed_point` of ``in.scale / (out.scale x n)``
    (`AvgPool.factors`). GlobalAveragePool is a window of the whole input.
    """

    name: str
    input: str
    output: str
    kernel: tuple[int, int]
    stride: tuple[int, int]
    multiplier: np.ndarray
    shift: np.ndarray
    pads: tuple[int, int, int, int] = (0, 0, 0, 0)
    count_include_pad: bool = False

    def __post_init__(self) -> None:
        _check_window(self)
        window = self.kernel[0] * self.kernel[1]
        mult = np.asarray(self.multiplier, dtype=np.int64).reshape(-1)
        shift = np.asarray(self.shift, dtype=np.int64).reshape(-1)
        if mult.shape != (window,) or shift.shape != (window,):
            raise GraphError(f"{self.name}: needs {window} multipliers and shifts (one per "
                             f"divisor 1..{window})")
        object.__setattr__(self, "multiplier", mult)
        object.__setattr__(self, "shift", shift)

    @staticmethod
    def factors(ratio: float, window: int) -> tuple[np.ndarray, np.ndarray]:
        """``(multiplier, shift)`` for divisors ``1..window`` of the scale ratio
        ``in.scale / out.scale``."""
        return fixed_points(ratio / np.arange(1, window + 1, dtype=np.float64))

    def output_shape(self, shape: tuple[int, ...]) -> tuple[int, int, int]:
        return _pool_shape(self, shape)


def _check_window(node: MaxPool | AvgPool) -> None:
    """Normalize a pooling node's kernel, stride and pads; pads must be smaller than the
    kernel (a window of padding alone has no value)."""
    object.__setattr__(node, "kernel", _pair(f"{node.name}: kernel", node.kernel))
    object.__setattr__(node, "stride", _pair(f"{node.name}: stride", node.stride))
    pads = tuple(int(p) for p in node.pads)
    object.__setattr__(node, "pads", pads)
    if len(pads) != 4 or min(pads) < 0 or max(pads[0], pads[2]) >= node.kernel[0] \
            or max(pads[1], pads[3]) >= node.kernel[1]:
        raise GraphError(f"{node.name}: pads {pads} must be >= 0 and smaller than the kernel "
                         f"{node.kernel}")


def _pool_shape(node: MaxPool | AvgPool, shape: tuple[int, ...]) -> tuple[int, int, int]:
    top, left, bottom, right = node.pads
    if len(shape) != 3:
        raise GraphError(f"{node.name}: pooling needs an (h, w, c) tensor, not {shape}")
    h, w = shape[0] + top + bottom, shape[1] + left + right
    if h < node.kernel[0] or w < node.kernel[1]:
        raise GraphError(f"{node.name}: a {node.kernel} window does not fit input {shape}")
    return (h - node.kernel[0]) // node.stride[0] + 1, (w - node.kernel[1]) // node.stride[1] + 1, \
        shape[2]


#: Fraction bits of `Add`'s multipliers; sums of two 9-bit differences times them fit int32.
ADD_FRACTION_BITS = 20


@dataclass(frozen=True, eq=False)
class Add:
    """Elementwise sum of two tensors of one shape, requantized:
    ``out = saturate(relu?(round_shift((a - a.zp) x multiplier_a + (b - b.zp) x multiplier_b,
    shift)) + out.zero_point)``, in int32 arithmetic (`Add.factors` keeps it in range)."""

    name: str
    a: str
    b: str
    output: str
    multiplier_a: int
    multiplier_b: int
    shift: int
    relu: bool = False

    def __post_init__(self) -> None:
        limit = 1 << (ADD_FRACTION_BITS + 1)
        if not (0 <= self.multiplier_a < limit and 0 <= self.multiplier_b < limit
                and 0 <= self.shift <= 40):
            raise GraphError(f"{self.name}: add multipliers must be below 2**"
                             f"{ADD_FRACTION_BITS + 1} and the shift in 0..40")

    @staticmethod
    def factors(ratio_a: float, ratio_b: float) -> tuple[int, int, int]:
        """``(multiplier_a, multiplier_b, shift)`` for ``a.scale / out.scale`` and
        ``b.scale / out.scale``: the larger ratio gets `ADD_FRACTION_BITS` significant bits."""
        if not (ratio_a > 0 and ratio_b > 0 and np.isfinite(ratio_a) and np.isfinite(ratio_b)):
            raise GraphError("add scale ratios must be positive and finite")
        exponent = int(np.floor(np.log2(max(ratio_a, ratio_b))))
        shift = ADD_FRACTION_BITS - exponent
        if not 0 <= shift <= 40:
            raise GraphError(f"add scale ratios {ratio_a:g}, {ratio_b:g} are out of range")
        return round(ratio_a * 2.0 ** shift), round(ratio_b * 2.0 ** shift), shift

    def output_shape(self, shape_a: tuple[int, ...], shape_b: tuple[int, ...]) -> tuple:
        if tuple(shape_a) != tuple(shape_b):
            raise GraphError(f"{self.name}: cannot add tensors of shapes {shape_a} and {shape_b}")
        return tuple(shape_a)


Node = Union[Conv2D, Dense, MaxPool, AvgPool, Add]


def node_inputs(node: Node) -> tuple[str, ...]:
    return (node.a, node.b) if isinstance(node, Add) else (node.input,)


@dataclass(frozen=True, eq=False)
class Graph:
    """A quantized network: input tensor, nodes in topological order, output tensor.

    Members
    -------
    name : str
    tensors : dict of str -> Tensor
        Every value, the input's and every node output's.
    nodes : tuple of Node
    input, output : str
        Tensor names. The output is int8, or int32 from a final `Dense` without requantization.
    postprocess : str or None
        ``"softmax"`` or ``"argmax"``: a last step on the host (in float on the dequantized
        output), or None.
    metadata : dict
        JSON-serializable facts (source file, opset, accuracy...).
    """

    name: str
    tensors: dict
    nodes: tuple
    input: str
    output: str
    postprocess: str | None = None
    metadata: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "nodes", tuple(self.nodes))
        object.__setattr__(self, "tensors", dict(self.tensors))
        if self.postprocess not in (None, "softmax", "argmax"):
            raise GraphError(f"postprocess must be softmax, argmax or None, not "
                             f"{self.postprocess!r}")
        if not self.nodes:
            raise GraphError("a graph needs at least one node")
        self.check()

    def check(self) -> None:
        """Every tensor defined once before use, shapes consistent, int32 only at the output."""
        if self.input not in self.tensors:
            raise GraphError(f"input tensor {self.input!r} is not declared")
        if self.tensors[self.input].dtype != "int8":
            raise GraphError("the graph input must be int8")
        defined = {self.input}
        for node in self.nodes:
            for name in node_inputs(node):
                if name not in defined:
                    raise GraphError(f"{node.name}: input {name!r} is not defined before it")
                if self.tensors[name].dtype != "int8":
                    raise GraphError(f"{node.name}: input {name!r} is int32 (only the graph "
                                     "output may be)")
            if node.output in defined or node.output not in self.tensors:
                raise GraphError(f"{node.name}: output {node.output!r} is undeclared or "
                                 "defined twice")
            shapes = [self.tensors[n].shape for n in node_inputs(node)]
            expected = node.output_shape(*shapes)
            out = self.tensors[node.output]
            if tuple(expected) != out.shape:
                raise GraphError(f"{node.name}: output {node.output!r} has shape {out.shape}, "
                                 f"the node makes {tuple(expected)}")
            int32 = isinstance(node, Dense) and node.requant is None
            if (out.dtype == "int32") != int32:
                raise GraphError(f"{node.name}: output {node.output!r} must be "
                                 f"{'int32' if int32 else 'int8'}")
            if isinstance(node, MaxPool):
                src = self.tensors[node.input]
                if (src.scale, src.zero_point) != (out.scale, out.zero_point):
                    raise GraphError(f"{node.name}: max pooling keeps its input's quantization")
            if isinstance(node, Conv2D) and node.requant.zero_point != out.zero_point \
                    or isinstance(node, Dense) and node.requant is not None \
                    and node.requant.zero_point != out.zero_point:
                raise GraphError(f"{node.name}: requantization zero point differs from "
                                 f"{node.output!r}'s")
            defined.add(node.output)
        if self.output not in defined or self.output == self.input:
            raise GraphError(f"output tensor {self.output!r} is not made by any node")

    @property
    def input_tensor(self) -> Tensor:
        return self.tensors[self.input]

    @property
    def output_tensor(self) -> Tensor:
        return self.tensors[self.output]

    def producer(self, tensor: str) -> Node | None:
        return next((n for n in self.nodes if n.output == tensor), None)

    def consumers(self, tensor: str) -> list[Node]:
        return [n for n in self.nodes if tensor in node_inputs(n)]

    def macs(self) -> int:
        """Multiply-accumulates of one inference (convolutions and dense layers; a grouped
        convolution counts only its real products)."""
        total = 0
        for node in self.nodes:
            if isinstance(node, Conv2D):
                oh, ow, cout = self.tensors[node.output].shape
                total += oh * ow * cout * int(np.prod(node.weight.shape[:3]))
            elif isinstance(node, Dense):
                total += node.weight.size
        return total
