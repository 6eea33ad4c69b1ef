"""Exact integer arithmetic shared by the golden model and the hardware references.

Every rounding, wrap and saturation of the accelerator is defined here once.
"""

from __future__ import annotations

import numpy as np

__all__ = ["wrap", "saturate", "round_shift", "activate", "activate_channels", "pool_rows",
           "pool_last_row", "pool_max", "pool_avg"]


def wrap(values: np.ndarray, width: int) -> np.ndarray:
    """Reduce integers modulo ``2**width`` into the signed range (two's complement wrap).

    ``values`` is int64 (already exact modulo 2**64) or object (Python ints); the result is int64.
    """
    if values.dtype == object:
        mask = (1 << width) - 1
        half = 1 << (width - 1)
        out = [((int(v) + half) & mask) - half for v in values.ravel()]
        return np.array(out, dtype=np.int64).reshape(values.shape)
    values = values.astype(np.int64, copy=False)
    if width >= 64:
        return values
    low = values & np.int64((1 << width) - 1)
    half = np.int64(1 << (width - 1))
    # Subtract 2**width as two halves: 2**63 (width 63) does not fit in an int64.
    return np.where(low >= half, low - half - half, low)


def saturate(values: np.ndarray, width: int) -> np.ndarray:
    """Clamp to the signed ``width``-bit range."""
    lo, hi = -(1 << (width - 1)), (1 << (width - 1)) - 1
    return np.clip(values, lo, hi)


def round_shift(values: np.ndarray, shift: int) -> np.ndarray:
    """``floor((p + 2**(shift-1)) / 2**shift)`` (round half up); identity for shift 0.

    Computed as ``(p >> shift) + bit(shift - 1) of p`` so it never overflows the input type.
    """
    if shift == 0:
        return values
    if values.dtype == object:
        return np.array([(int(v) >> shift) + ((int(v) >> (shift - 1)) & 1)
                         for v in values.ravel()], dtype=object).reshape(values.shape)
    return (values >> np.int64(shift)) + ((values >> np.int64(shift - 1)) & np.int64(1))


def activate(acc: np.ndarray, *, multiplier: int, shift: int, relu: bool, zero_point: int,
             acc_width: int, out_width: int) -> np.ndarray:
    """The activation unit: requantize, ReLU, add zero point, saturate.

    ``saturate(max?(round_shift(acc * multiplier, shift), 0) + zero_point, out_width)``.

    Parameters
    ----------
    acc : ndarray of int64
        Accumulator values, already in the signed ``acc_width`` range.
    multiplier : int
        0 .. 2**31 - 1.
    shift : int
        0 .. 63.
    """
    acc = np.asarray(acc, dtype=np.int64)
    if acc_width + 32 <= 64:
        product = acc * np.int64(multiplier)
    else:
        product = acc.astype(object) * multiplier
    y = round_shift(product, shift)
    if relu:
        y = np.where(y > 0, y, 0) if y.dtype != object else np.array(
            [max(int(v), 0) for v in y.ravel()], dtype=object).reshape(y.shape)
    if y.dtype == object:
        lo, hi = -(1 << (out_width - 1)), (1 << (out_width - 1)) - 1
        return np.array([min(max(int(v) + zero_point, lo), hi) for v in y.ravel()],
                        dtype=np.int64).reshape(y.shape)
    # y fits in 63 bits with headroom for a 16-bit zero point, except at the extremes: clamp
    # first to a range that keeps the addition exact and the saturation unchanged.
    y = np.clip(y, -(1 << 40), 1 << 40)
    return saturate(y + np.int64(zero_point), out_width)


def activate_channels(acc: np.ndarray, *, multipliers, shifts, relu: bool, zero_point: int,
                      acc_width: int, out_width: int) -> np.ndarray:
    """The activation unit in per-channel mode: column ``c`` of ``acc`` (rows, cols) goes
    through `activate` with ``multipliers[c]`` and ``shifts[c]``; ReLU and the zero point are
    shared.

    Raises
    ------
    ValueError
        If ``multipliers`` or ``shifts`` does not hold one value per column.
    """
    acc = np.asarray(acc, dtype=np.int64)
    multipliers, shifts = np.asarray(multipliers), np.asarray(shifts)
    cols = acc.shape[-1]
    if multipliers.shape != (cols,) or shifts.shape != (cols,):
        raise ValueError(f"multipliers and shifts need {cols} values (one per column), not "
                         f"{multipliers.shape} and {shifts.shape}")
    out = np.empty(acc.shape, dtype=np.int64)
    for c in range(cols):
        out[..., c] = activate(acc[..., c], multiplier=int(multipliers[c]), shift=int(shifts[c]),
                               relu=relu, zero_point=zero_point, acc_width=acc_width,
                               out_width=out_width)
    return out


def pool_rows(rows: int, *, out_w: int, kh: int, kw: int, sh: int, sw: int,
              in_pitch: int) -> np.ndarray:
    """Accumulator row offsets (relative to ``acc_addr``) that STORE_POOL reads.

    Returns an int64 array of shape ``(rows, kh * kw)``: row ``p`` lists the window of pooled
    pixel ``p`` (``oy, ox = divmod(p, out_w)``) in row-major window order, the order the
    hardware reads it.
    """
    oy, ox = np.divmod(np.arange(rows, dtype=np.int64), out_w)
    base = oy * (sh * in_pitch) + ox * sw
    dy, dx = np.divmod(np.arange(kh * kw, dtype=np.int64), kw)
    return base[:, None] + (dy * in_pitch + dx)[None, :]


def pool_last_row(rows: int, *, out_w: int, kh: int, kw: int, sh: int, sw: int,
                  in_pitch: int) -> int:
    """The largest accumulator row offset STORE_POOL reads (the ACC_RANGE check's row)."""
    oy_last = (rows - 1) // out_w
    ox_last = min(rows, out_w) - 1
    return (oy_last * sh + kh - 1) * in_pitch + ox_last * sw + kw - 1


def pool_max(values: np.ndarray) -> np.ndarray:
    """Max pooling of activated values ``(pixels, window, cols)`` -> ``(pixels, cols)``."""
    return np.asarray(values, dtype=np.int64).max(axis=1)


def pool_avg(values: np.ndarray, *, act_zero_point: int, multiplier: int, shift: int,
             zero_point: int, out_width: int) -> np.ndarray:
    """Average pooling of activated values ``(pixels, window, cols)`` -> ``(pixels, cols)``.

    ``saturate(round_shift(sum(v - act_zero_point) * multiplier, shift) + zero_point,
    out_width)``: the zero-point-corrected window sum, requantized like the activation unit
    (``multiplier / 2**shift`` is typically ``1 / window size``).
    """
    # |v - act_zero_point| < 2**17 (inputs up to 16 bits, a 16-bit zero point), at most 256
    # window elements and a 31-bit multiplier: the product stays below 2**56, exact in int64.
    total = (np.asarray(values, dtype=np.int64) - np.int64(act_zero_point)).sum(axis=1)
    y = round_shift(total * np.int64(multiplier), shift)
    return saturate(y + np.int64(zero_point), out_width)
