"""Real factors as the integer ``multiplier x 2**-shift`` pairs the activation unit applies.

One definition serves the quantizer (`accel.nn.quantize`), the graph IR (`accel.compiler.graph`)
and the ONNX front end, so every requantization of a real scale ratio rounds the same way.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["fixed_point", "fixed_points"]


def fixed_point(real: float) -> tuple[int, int]:
    """``(multiplier, shift)`` with ``multiplier x 2**-shift`` nearest to ``real``.

    Parameters
    ----------
    real : float
        A positive factor between ``2**-33`` and ``2**31`` (exclusive) or so.

    Returns
    -------
    multiplier : int
        In ``[2**30, 2**31)``: 31 significant bits.
    shift : int
        In ``0 .. 63``.

    Raises
    ------
    ValueError
        ``real`` is not positive and finite, or needs a shift outside ``0 .. 63``.
    """
    if not (math.isfinite(real) and real > 0):
        raise ValueError(f"a requantization factor must be positive and finite, not {real!r}")
    fraction, exponent = math.frexp(real)  # real = fraction * 2**exponent, 0.5 <= fraction < 1
    multiplier = round(fraction * (1 << 31))
    if multiplier == 1 << 31:
        multiplier, exponent = 1 << 30, exponent + 1
    shift = 31 - exponent
    if not 0 <= shift <= 63:
        raise ValueError(f"requantization factor {real!r} needs shift {shift}, outside 0..63")
    return multiplier, shift


def fixed_points(reals: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`fixed_point` of every element: ``(multipliers, shifts)`` as int64 arrays."""
    pairs = [fixed_point(float(r)) for r in np.asarray(reals, dtype=np.float64).ravel()]
    multipliers = np.array([p[0] for p in pairs], dtype=np.int64)
    shifts = np.array([p[1] for p in pairs], dtype=np.int64)
    return multipliers, shifts
