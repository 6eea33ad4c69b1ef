"""Host operations: work the control core does on main memory between accelerator programs.

A compiled network alternates accelerator programs with the few steps that are not matrix
products (max pooling). Each step is defined here once, on a NumPy view of main memory; the
golden backend and the RTL bench call `apply`, and the SoC firmware implements the same
operation in C (``accel/build/firmware/src/apps/mnist.c``), checked bit for bit against this one.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

__all__ = ["MaxPool", "HostOp", "host_op_from_dict"]


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


HostOp = MaxPool

_KINDS = {MaxPool.kind: MaxPool}


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
