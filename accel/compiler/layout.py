"""Main-memory layout of a compiled graph: one buffer per stored tensor, padded where a consumer
reads padding.

A buffer holds an int8 HWC tensor (a vector ``(n,)`` is ``(1, 1, n)``) with a border of
``pads = (top, left, bottom, right)`` pixels and ``pitch = left + width + right`` pixels per
stored row. The memory image pre-fills the whole buffer with its ``fill`` byte; producers store
only the valid pixels, so the border keeps the fill across any number of inferences. A consumer
that pads (a convolution with its input zero point, a max pool with -128) reads the padded view
straight from the buffer.

`plan_layouts` decides, for each tensor, the buffer its producer writes and the extra copies
(identity GEMMs on the accelerator) for consumers whose padding conflicts: a different fill,
a packed tensor (`Dense`, the graph output) next to a padded one, or a padded graph input (the
input buffer stays packed).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from accel.arch.microarch import align_up
from accel.compiler.graph import Conv2D, Dense, Graph, MaxPool, Node

__all__ = ["SLACK", "Buffer", "Allocator", "Need", "TensorLayout", "consumer_need", "plan_layouts",
           "shape3", "PACKED"]

#: Bytes allocated after every buffer: a convolution's row-im2col loads read whole scratchpad
#: rows from the last pixels on (`accel.compiler.conv_tiles`).
SLACK = 64

#: A consumer's need: None (any layout), PACKED, or (fill, pads).
PACKED = "packed"
Need = object


@dataclass(frozen=True)
class Buffer:
    """A tensor's storage.

    Members
    -------
    tensor : str
    addr : int
        First byte of the buffer (the top-left border pixel).
    shape : (h, w, c)
    pads : (top, left, bottom, right)
    fill : int
        The border's int8 value.
    item : int
        Bytes per value (1; 4 for an int32 output).
    """

    tensor: str
    addr: int
    shape: tuple[int, int, int]
    pads: tuple[int, int, int, int] = (0, 0, 0, 0)
    fill: int = 0
    item: int = 1

    @property
    def pitch(self) -> int:
        """Stored pixels per row."""
        return self.pads[1] + self.shape[1] + self.pads[3]

    @property
    def rows(self) -> int:
        return self.pads[0] + self.shape[0] + self.pads[2]

    @property
    def size(self) -> int:
        return self.rows * self.pitch * self.shape[2] * self.item

    @property
    def packed(self) -> bool:
        return not any(self.pads)

    def pixel(self, y: int, x: int) -> int:
        """Address of pixel ``(y, x)`` of the tensor (negative inside the top/left border)."""
        return self.addr + ((y + self.pads[0]) * self.pitch + x + self.pads[1]) \
            * self.shape[2] * self.item

    @property
    def origin(self) -> int:
        """Address of pixel (0, 0)."""
        return self.pixel(0, 0)

    def image(self) -> np.ndarray | None:
        """The bytes the memory image pre-fills (None when the fill is 0)."""
        if self.fill == 0:
            return None
        return np.full(self.size, self.fill & 0xFF, dtype=np.uint8)

    def read(self, mem: np.ndarray) -> np.ndarray:
        """The tensor's valid values from main memory, shape ``shape`` (int8 or int32)."""
        h, w, c = self.shape
        dtype = np.dtype("i1") if self.item == 1 else np.dtype("<i4")
        rows = [np.asarray(mem[self.pixel(y, 0):self.pixel(y, 0) + w * c * self.item])
                .view(dtype).reshape(w, c) for y in range(h)]
        return np.stack(rows).astype(np.int8 if self.item == 1 else np.int32)


class Allocator:
    """Hands out 64-byte-aligned ranges from ``base`` below ``limit``."""

    def __init__(self, base: int, limit: int) -> None:
        self.end = base
        self.limit = limit

    def take(self, size: int, what: str = "a buffer") -> int:
        addr = align_up(self.end)
        self.end = addr + size
        if self.end > self.limit:
            raise ValueError(f"the graph needs more than {self.limit} bytes of main memory "
                             f"(at {what}; the bus addresses only {self.limit})")
        return addr


def shape3(shape: tuple[int, ...]) -> tuple[int, int, int]:
    """An IR shape as (h, w, c): a vector (n,) is (1, 1, n)."""
    return tuple(shape) if len(shape) == 3 else (1, 1, shape[0])  # type: ignore[return-value]


def consumer_need(graph: Graph, node: Node, tensor: str) -> Need:
    """What ``node`` needs of the buffer of its input ``tensor``."""
    if isinstance(node, Dense):
        return PACKED
    if isinstance(node, (Conv2D, MaxPool)) and any(node.pads):
        fill = graph.tensors[tensor].zero_point if isinstance(node, Conv2D) else -128
        return fill, node.pads
    return None


def _merge(needs: list) -> dict[int, tuple[int, int, int, int]]:
    """fill -> the largest pads of each side among the padded needs of that fill."""
    out: dict[int, tuple[int, int, int, int]] = {}
    for fill, pads in needs:
        old = out.get(fill, (0, 0, 0, 0))
        out[fill] = tuple(max(a, b) for a, b in zip(old, pads))  # type: ignore[assignment]
    return out


@dataclass(frozen=True)
class TensorLayout:
    """Where a tensor is stored: ``primary`` (its producer writes it) and, per fill value, the
    (fill, pads) of each copy."""

    primary: tuple[int, tuple[int, int, int, int]] | None  # None: packed
    copies: tuple[tuple[int, tuple[int, int, int, int]], ...]

    def key(self, need: Need):
        """The buffer key serving ``need``: None for the primary, else a copy's fill."""
        if need is None:
            return None
        if need == PACKED:
            return None if self.primary is None else PACKED
        fill = need[0]
        return None if self.primary is not None and self.primary[0] == fill else fill


def plan_layouts(graph: Graph) -> dict[str, TensorLayout]:
    """The layout of every int8 tensor (see the module docstring)."""
    layouts = {}
    for name in [graph.input] + [n.output for n in graph.nodes]:
        needs = [consumer_need(graph, node, name) for node in graph.consumers(name)]
        packed = name in (graph.input, graph.output) or PACKED in needs
        padded = _merge([n for n in needs if n is not None and n != PACKED])
        if packed or not padded:
            primary = None
            copies = tuple(sorted(padded.items()))
        else:
            # the fill most consumers want is stored directly; the others get copies
            counts = {fill: sum(1 for n in needs if isinstance(n, tuple) and n[0] == fill)
                      for fill in padded}
            first = max(sorted(padded), key=lambda f: counts[f])
            primary = (first, padded.pop(first))
            copies = tuple(sorted(padded.items()))
        layouts[name] = TensorLayout(primary, copies)
    return layouts
