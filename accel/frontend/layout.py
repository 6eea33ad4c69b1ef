"""Layout tracking: which element of a graph tensor every element of an ONNX tensor is.

accelgen tensors are HWC (or vectors); ONNX tensors are NCHW with a batch axis. A *layout* is an
integer array of the ONNX tensor's shape (batch axis of size 1 included) whose entries index the
HWC flattening of the graph tensor that holds the data. Layout-only ops (Flatten, Reshape,
Transpose, Squeeze, Unsqueeze) are the same NumPy operation applied to the layout, so any chain of
them is tracked exactly; a consumer then asks for the layout it needs (`is_canonical`) or reads
the permutation (a Gemm after a Flatten of NCHW permutes its weight rows from CHW to HWC).
"""

from __future__ import annotations

import numpy as np

__all__ = ["canonical", "is_canonical", "graph_shape", "flatten", "reshape", "transpose",
           "squeeze", "unsqueeze"]


def canonical(shape: tuple[int, ...]) -> np.ndarray:
    """The layout of a graph tensor of ``shape`` seen by ONNX: ``(1, c, h, w)`` for ``(h, w, c)``,
    ``(1, n)`` for ``(n,)``."""
    if len(shape) == 3:
        h, w, c = shape
        return np.arange(h * w * c).reshape(1, h, w, c).transpose(0, 3, 1, 2)
    return np.arange(shape[0]).reshape(1, shape[0])


def graph_shape(onnx_shape: tuple[int, ...]) -> tuple[int, ...]:
    """The graph tensor shape of an ONNX ``(1, c, h, w)`` or ``(1, n)`` shape."""
    if len(onnx_shape) == 4:
        return (onnx_shape[2], onnx_shape[3], onnx_shape[1])
    return (int(np.prod(onnx_shape[1:])),)


def is_canonical(layout: np.ndarray, rank: int) -> bool:
    """True when ``layout`` is a whole graph tensor in ONNX order of ``rank`` (4 or 2)."""
    if layout.ndim != rank or layout.shape[0] != 1:
        return False
    return np.array_equal(layout, canonical(graph_shape(layout.shape)))


def flatten(layout: np.ndarray, axis: int) -> np.ndarray:
    axis = axis + layout.ndim if axis < 0 else axis
    if not 0 <= axis <= layout.ndim:
        raise ValueError(f"axis {axis} is out of range for rank {layout.ndim}")
    outer = int(np.prod(layout.shape[:axis]))
    return layout.reshape(outer, -1)


def reshape(layout: np.ndarray, shape, allowzero: bool = False) -> np.ndarray:
    target = [int(v) for v in np.asarray(shape).reshape(-1)]
    if not allowzero:
        target = [layout.shape[i] if v == 0 and i < layout.ndim else v
                  for i, v in enumerate(target)]
    if target.count(-1) > 1:
        raise ValueError(f"shape {target} has more than one -1")
    return layout.reshape(target)


def transpose(layout: np.ndarray, perm) -> np.ndarray:
    perm = list(range(layout.ndim))[::-1] if perm is None else [int(p) for p in perm]
    return layout.transpose(perm)


def _axes(axes, rank: int) -> list[int]:
    return sorted(int(a) + rank if int(a) < 0 else int(a) for a in np.asarray(axes).reshape(-1))


def squeeze(layout: np.ndarray, axes) -> np.ndarray:
    if axes is None:
        return layout.squeeze()
    axes = _axes(axes, layout.ndim)
    if any(layout.shape[a] != 1 for a in axes):
        raise ValueError(f"cannot squeeze axes {axes} of shape {layout.shape}")
    return layout.squeeze(tuple(axes))


def unsqueeze(layout: np.ndarray, axes) -> np.ndarray:
    out = layout
    for a in _axes(axes, layout.ndim + np.asarray(axes).size):
        out = np.expand_dims(out, a)
    return out
