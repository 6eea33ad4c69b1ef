"""NumPy reference models of the systolic array's two dataflows (test-only)."""

from __future__ import annotations

import numpy as np


def wrap(x, width: int) -> np.ndarray:
    """Wrap integers to signed ``width``-bit two's complement (Python-int exact)."""
    x = np.asarray(x, dtype=object)
    half = 1 << (width - 1)
    return np.vectorize(lambda v: ((int(v) + half) % (1 << width)) - half, otypes=[object])(x)


def matmul(a, b, acc_width: int) -> np.ndarray:
    """``a @ b`` with exact products and the sum wrapped to ``acc_width`` bits."""
    return wrap(np.asarray(a, dtype=object) @ np.asarray(b, dtype=object), acc_width)


def ws_expected(tiles, vectors, acc_width: int):
    """Outputs of a weight-stationary run.

    ``tiles`` are the preloaded weight tiles in order; ``vectors`` is a list of
    ``(a_row, new_weights, last)``. Returns a list of ``(c_row, last)``: each vector is multiplied
    by the tile most recently switched to (all zeros before the first switch).
    """
    rows, cols = np.asarray(tiles[0]).shape if tiles else (len(vectors[0][0]), 0)
    weights = np.zeros((rows, cols), dtype=object)
    pending = list(tiles)
    out = []
    for a_row, new_weights, last in vectors:
        if new_weights:
            weights = np.asarray(pending.pop(0), dtype=object)
        out.append((list(matmul(np.asarray(a_row)[None, :], weights, acc_width)[0]), last))
    return out


def os_expected(reductions, acc_width: int):
    """Outputs of an output-stationary run: for each ``(A, B)`` the rows of ``A @ B`` in order,
    ``last`` on the final row. Returns a list of ``(c_row, last)``."""
    out = []
    for a, b in reductions:
        c = matmul(a, b, acc_width)
        for i in range(c.shape[0]):
            out.append((list(c[i]), i == c.shape[0] - 1))
    return out


def random_matrix(rng: np.random.Generator, shape, width: int, *, extreme: bool = False):
    """Random signed ``width``-bit integers; ``extreme`` draws only the two end values."""
    lo, hi = -(1 << (width - 1)), (1 << (width - 1)) - 1
    if extreme:
        return rng.choice(np.array([lo, hi, lo]), size=shape).astype(np.int64)
    return rng.integers(lo, hi, size=shape, endpoint=True, dtype=np.int64)
