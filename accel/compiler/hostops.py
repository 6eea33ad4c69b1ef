"""Host operations: work the control core does on main memory between accelerator programs.

A compiled network alternates accelerator programs with the steps that are not matrix products
(pooling, residual additions). Each step is defined here once, on a NumPy view of main memory;
the golden backend and the RTL bench call `apply`, and the SoC firmware implements the same
operation in C (``accel/build/firmware/src/hostops.c``), checked bit for bit against this one.

`MaxPool` is the native MNIST networks' pooling (non-overlapping windows into a packed tensor);
the general compiler (`accel.compiler.lower`) uses `MaxPoolOp`, `AvgPoolOp` and `AddOp`. Their
fields travel to the firmware as the uint32 words of ``words()``, in declared order (signed
values two's complement).

A tensor view is int8 HWC: pixel (y, x), channel c is the byte at ``addr + (y * pitch + x) *
channels + c`` (``pitch >= width``, in pixels). A vector of n values is height 1, width 1,
channels n. Operations write only the valid pixels of their destination (a padded buffer's
border stays as it is). ``round_shift(p, 0) = p``, ``round_shift(p, s) = (p >> s) + ((p >> (s -
1)) & 1)`` (arithmetic shifts, 64-bit); ``sat8`` clamps to -128..127; all arithmetic is int64.
"""

from __future__ import annotations

from dataclasses import asdict, astuple, dataclass
from typing import Union

import numpy as np

__all__ = ["MaxPool", "MaxPoolOp", "AvgPoolOp", "AddOp", "HostOp", "host_op_from_dict"]


@dataclass(frozen=True)
class MaxPool:
    """Max pooling of an int8 HWC tensor with a row pitch, into a packed HWC tensor.

    Pixel (y, x) of the source (``y < height``, ``x < width``) is the ``channels`` bytes at
    ``src + (y * pitch + x) * channels``; only the first ``width`` pixels of a row are valid
    (the rest is padding a convolution left). The result, ``(height // size, width // size,
    channels)``, is written densely from ``dst``; a remainder row or column is dropped.
    """

    src: int
    pitch: int
    height: int
    width: int
    channels: int
    size: int
    dst: int

    kind = "maxpool"

    def __post_init__(self) -> None:
        for name, value in asdict(self).items():
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"maxpool {name} must be a non-negative integer, not {value!r}")
        if min(self.size, self.channels, self.height, self.width) < 1 or self.pitch < self.width:
            raise ValueError(f"bad maxpool geometry {self}")

    @property
    def out_shape(self) -> tuple[int, int, int]:
        return self.height // self.size, self.width // self.size, self.channels

    @property
    def src_bytes(self) -> int:
        """Bytes from ``src`` the operation reads (up to the last valid pixel)."""
        return ((self.height - 1) * self.pitch + self.width) * self.channels

    def apply(self, mem: np.ndarray) -> None:
        """Pool in place in ``mem`` (uint8 main memory)."""
        oh, ow, c = self.out_shape
        end = self.src + self.src_bytes
        if end > mem.size or self.dst + oh * ow * c > mem.size:
            raise ValueError(f"maxpool reaches beyond the {mem.size} bytes of memory")
        rows = np.zeros((self.height, self.pitch * c), dtype=np.uint8)
        rows.reshape(-1)[:self.src_bytes] = mem[self.src:end]
        x = rows.view(np.int8).reshape(self.height, self.pitch, c)[:oh * self.size,
                                                                   :ow * self.size]
        pooled = x.reshape(oh, self.size, ow, self.size, c).max(axis=(1, 3))
        mem[self.dst:self.dst + pooled.size] = pooled.reshape(-1).view(np.uint8)

    def to_dict(self) -> dict:
        return {"op": self.kind, **asdict(self)}


_INT8 = (-128, 127)


def _round_shift(p: np.ndarray, s: int) -> np.ndarray:
    return p if s == 0 else (p >> np.int64(s)) + ((p >> np.int64(s - 1)) & np.int64(1))


def _sat8(v: np.ndarray) -> np.ndarray:
    return np.clip(v, *_INT8)


def _view(mem: np.ndarray, what: str, addr: int, pitch: int, height: int, width: int,
          channels: int) -> np.ndarray:
    """The (height, width, channels) int8 view at ``addr`` (writable, no copy)."""
    size = ((height - 1) * pitch + width) * channels
    if addr + size > mem.size:
        raise ValueError(f"{what} ({size} bytes at {addr:#x}) reaches beyond the {mem.size} "
                         "bytes of memory")
    flat = mem[addr:addr + size].view(np.int8)
    return np.lib.stride_tricks.as_strided(flat, (height, width, channels),
                                           (pitch * channels, channels, 1), writeable=True)


class _Op:
    """Shared checks and encodings of the general host operations (fields are ints)."""

    kind = ""
    #: Fields with their allowed range (inclusive); the others are non-negative.
    _ranges: dict = {}

    def __post_init__(self) -> None:
        for name, value in asdict(self).items():
            if not isinstance(value, (int, np.integer)):
                raise ValueError(f"{self.kind} {name} must be an integer, not {value!r}")
            value = int(value)  # a bool flag becomes 0 or 1
            object.__setattr__(self, name, value)
            low, high = self._ranges.get(name, (0, (1 << 32) - 1))
            if not low <= value <= high:
                raise ValueError(f"{self.kind} {name} must be between {low} and {high}, "
                                 f"not {value!r}")
        self._check()

    def _check(self) -> None:
        raise NotImplementedError

    def _positive(self, *names: str) -> None:
        for name in names:
            if getattr(self, name) < 1:
                raise ValueError(f"{self.kind} {name} must be at least 1, not "
                                 f"{getattr(self, name)}")

    def _pitch(self, pitch: str, width: int) -> None:
        if getattr(self, pitch) < width:
            raise ValueError(f"{self.kind} {pitch} {getattr(self, pitch)} is smaller than the "
                             f"width {width}")

    def words(self) -> tuple[int, ...]:
        """The fields as uint32 words in declared order (signed values two's complement)."""
        return tuple(v & 0xFFFFFFFF for v in astuple(self))

    def to_dict(self) -> dict:
        return {"op": self.kind, **asdict(self)}


@dataclass(frozen=True)
class MaxPoolOp(_Op):
    """Max pooling of a source view that already includes its padding (filled with -128 by the
    compiler, so padding never wins) into a destination view.

    The output is ``((height - kernel_h) // stride_h + 1, (width - kernel_w) // stride_w + 1,
    channels)``; ``dst[y, x, c]`` is the maximum of the window at ``(y * stride_h, x *
    stride_w)``.
    """

    src: int
    src_pitch: int
    height: int
    width: int
    channels: int
    kernel_h: int
    kernel_w: int
    stride_h: int
    stride_w: int
    dst: int
    dst_pitch: int

    kind = "maxpool2d"

    def _check(self) -> None:
        self._positive("height", "width", "channels", "kernel_h", "kernel_w", "stride_h",
                       "stride_w")
        if self.kernel_h > self.height or self.kernel_w > self.width:
            raise ValueError(f"maxpool2d window {self.kernel_h}x{self.kernel_w} does not fit the "
                             f"{self.height}x{self.width} source")
        self._pitch("src_pitch", self.width)
        self._pitch("dst_pitch", self.out_shape[1])

    @property
    def out_shape(self) -> tuple[int, int, int]:
        return ((self.height - self.kernel_h) // self.stride_h + 1,
                (self.width - self.kernel_w) // self.stride_w + 1, self.channels)

    def apply(self, mem: np.ndarray) -> None:
        """Pool in ``mem`` (uint8 main memory)."""
        oh, ow, c = self.out_shape
        x = _view(mem, "maxpool2d source", self.src, self.src_pitch, self.height, self.width, c)
        win = np.lib.stride_tricks.sliding_window_view(x, (self.kernel_h, self.kernel_w),
                                                       axis=(0, 1))
        pooled = win[::self.stride_h, ::self.stride_w][:oh, :ow].max(axis=(3, 4))
        _view(mem, "maxpool2d destination", self.dst, self.dst_pitch, oh, ow, c)[...] = pooled


@dataclass(frozen=True)
class AvgPoolOp(_Op):
    """Average pooling of an unpadded source view, requantized through a divisor table.

    Windows start at ``(y * stride_h - pad_top, x * stride_w - pad_left)``; the output is
    ``((height + pad_top + pad_bottom - kernel_h) // stride_h + 1, ...)``. ``sum`` adds ``x -
    in_zero_point`` over the window's pixels inside the source; ``n`` is ``kernel_h *
    kernel_w`` with ``count_include_pad``, else the count of those pixels. ``table`` is the
    address of ``kernel_h * kernel_w`` pairs of little-endian uint32 words ``(multiplier,
    shift)`` for ``n = 1 ..``; ``dst = sat8(round_shift(sum * multiplier[n - 1], shift[n - 1]) +
    out_zero_point)``.
    """

    src: int
    src_pitch: int
    height: int
    width: int
    channels: int
    kernel_h: int
    kernel_w: int
    stride_h: int
    stride_w: int
    pad_top: int
    pad_left: int
    pad_bottom: int
    pad_right: int
    count_include_pad: int
    in_zero_point: int
    out_zero_point: int
    table: int
    dst: int
    dst_pitch: int

    kind = "avgpool"
    _ranges = {"count_include_pad": (0, 1), "in_zero_point": _INT8, "out_zero_point": _INT8}

    def _check(self) -> None:
        self._positive("height", "width", "channels", "kernel_h", "kernel_w", "stride_h",
                       "stride_w")
        if max(self.pad_top, self.pad_bottom) >= self.kernel_h or \
                max(self.pad_left, self.pad_right) >= self.kernel_w:
            raise ValueError(f"avgpool pads must be smaller than the {self.kernel_h}x"
                             f"{self.kernel_w} window")
        if self.height + self.pad_top + self.pad_bottom < self.kernel_h or \
                self.width + self.pad_left + self.pad_right < self.kernel_w:
            raise ValueError(f"avgpool window {self.kernel_h}x{self.kernel_w} does not fit the "
                             f"padded {self.height}x{self.width} source")
        self._pitch("src_pitch", self.width)
        self._pitch("dst_pitch", self.out_shape[1])

    @property
    def out_shape(self) -> tuple[int, int, int]:
        return ((self.height + self.pad_top + self.pad_bottom - self.kernel_h) // self.stride_h
                + 1, (self.width + self.pad_left + self.pad_right - self.kernel_w)
                // self.stride_w + 1, self.channels)

    @staticmethod
    def table_bytes(multipliers, shifts) -> np.ndarray:
        """The table for ``table``: (multiplier, shift) uint32 pairs, little-endian, uint8."""
        pairs = np.stack([np.asarray(multipliers, np.int64).ravel(),
                          np.asarray(shifts, np.int64).ravel()], axis=1)
        return pairs.astype("<u4").view(np.uint8).reshape(-1)

    def apply(self, mem: np.ndarray) -> None:
        """Pool in ``mem`` (uint8 main memory)."""
        oh, ow, c = self.out_shape
        kh, kw = self.kernel_h, self.kernel_w
        window = kh * kw
        if self.table + 8 * window > mem.size:
            raise ValueError(f"avgpool table at {self.table:#x} reaches beyond the {mem.size} "
                             "bytes of memory")
        pairs = mem[self.table:self.table + 8 * window].copy().view("<u4").reshape(window, 2)
        pairs = pairs.astype(np.int64)
        x = _view(mem, "avgpool source", self.src, self.src_pitch, self.height, self.width, c)
        pad = ((self.pad_top, self.pad_bottom), (self.pad_left, self.pad_right), (0, 0))
        diff = np.pad(x.astype(np.int64) - self.in_zero_point, pad)
        inside = np.pad(np.ones((self.height, self.width, 1), np.int64), pad)

        def sums(a: np.ndarray) -> np.ndarray:
            win = np.lib.stride_tricks.sliding_window_view(a, (kh, kw), axis=(0, 1))
            return win[::self.stride_h, ::self.stride_w][:oh, :ow].sum(axis=(3, 4))

        total = sums(diff)
        count = np.full((oh, ow, 1), window, np.int64) if self.count_include_pad \
            else sums(inside)
        out = np.empty(total.shape, np.int64)
        for n in np.unique(count):
            where = np.broadcast_to(count == n, total.shape)
            mult, shift = pairs[n - 1]
            out[where] = _sat8(_round_shift(total[where] * mult, int(shift))
                               + self.out_zero_point)
        _view(mem, "avgpool destination", self.dst, self.dst_pitch, oh, ow, c)[...] = out


@dataclass(frozen=True)
class AddOp(_Op):
    """Elementwise sum of two views of one shape, requantized: ``dst = sat8(relu?(round_shift((a
    - a_zero_point) * multiplier_a + (b - b_zero_point) * multiplier_b, shift)) +
    out_zero_point)``, ``relu?(v) = max(v, 0)`` when ``relu`` is 1."""

    a: int
    a_pitch: int
    b: int
    b_pitch: int
    height: int
    width: int
    channels: int
    a_zero_point: int
    b_zero_point: int
    multiplier_a: int
    multiplier_b: int
    shift: int
    out_zero_point: int
    relu: int
    dst: int
    dst_pitch: int

    kind = "add"
    _ranges = {"a_zero_point": _INT8, "b_zero_point": _INT8, "out_zero_point": _INT8,
               "multiplier_a": (0, (1 << 31) - 1), "multiplier_b": (0, (1 << 31) - 1),
               "shift": (0, 63), "relu": (0, 1)}

    def _check(self) -> None:
        self._positive("height", "width", "channels")
        for pitch in ("a_pitch", "b_pitch", "dst_pitch"):
            self._pitch(pitch, self.width)

    @property
    def out_shape(self) -> tuple[int, int, int]:
        return self.height, self.width, self.channels

    def apply(self, mem: np.ndarray) -> None:
        """Add in ``mem`` (uint8 main memory)."""
        h, w, c = self.out_shape
        a = _view(mem, "add operand a", self.a, self.a_pitch, h, w, c).astype(np.int64)
        b = _view(mem, "add operand b", self.b, self.b_pitch, h, w, c).astype(np.int64)
        y = _round_shift((a - self.a_zero_point) * self.multiplier_a
                         + (b - self.b_zero_point) * self.multiplier_b, self.shift)
        if self.relu:
            y = np.maximum(y, 0)
        _view(mem, "add destination", self.dst, self.dst_pitch, h, w, c)[...] = \
            _sat8(y + self.out_zero_point)


HostOp = Union[MaxPool, MaxPoolOp, AvgPoolOp, AddOp]

_KINDS = {op.kind: op for op in (MaxPool, MaxPoolOp, AvgPoolOp, AddOp)}


def host_op_from_dict(data: dict) -> HostOp:
    """Inverse of ``to_dict``; raises ValueError on an unknown or malformed operation."""
    data = dict(data)
    kind = data.pop("op", None)
    if kind not in _KINDS:
        raise ValueError(f"unknown host operation {kind!r}")
    try:
        return _KINDS[kind](**data)
    except TypeError as exc:
        raise ValueError(f"malformed {kind} operation: {exc}") from None
