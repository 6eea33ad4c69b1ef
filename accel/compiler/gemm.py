"""What one GEMM is: its operand views in main memory, its bias and its output conversion.

`Gemm` is the interface between the compiler's lowering (`lower_gemm`) and the tiler
(`tiler.emit_gemm`); `Requant` and `ChannelRequant` are the activation-unit settings of a
requantized output.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from accel.isa.encoding import Command, encode
from accel.isa.spec import Activation

__all__ = ["Requant", "ChannelRequant", "CHANNEL_ROWS", "APart", "Gemm"]


@dataclass(frozen=True)
class Requant:
    """Activation-unit settings for a requantized output (see `accel.golden.activate`).

    Parameters
    ----------
    multiplier : int
        0 .. 2**31 - 1.
    shift : int
        0 .. 63.
    zero_point : int
        Signed 16-bit output zero point.
    relu : bool
        Apply ReLU before adding the zero point.
    """

    multiplier: int = 1
    shift: int = 0
    zero_point: int = 0
    relu: bool = False

    def __post_init__(self) -> None:
        if not 0 <= self.multiplier < (1 << 31):
            raise ValueError(f"multiplier must be between 0 and {(1 << 31) - 1}, "
                             f"not {self.multiplier!r}")
        if not 0 <= self.shift <= 63:
            raise ValueError(f"shift must be between 0 and 63, not {self.shift!r}")
        if not -(1 << 15) <= self.zero_point < (1 << 15):
            raise ValueError(f"zero_point must be between -32768 and 32767, "
                             f"not {self.zero_point!r}")

    def command(self) -> Command:
        return encode("config_act", multiplier=self.multiplier, shift=self.shift,
                      act=int(Activation.RELU if self.relu else Activation.NONE),
                      zero_point=self.zero_point)


@dataclass(frozen=True)
class ChannelRequant:
    """Per-channel (per output column) activation-unit settings (``config_act_channels``).

    Output column ``j`` of the GEMM is requantized with ``multipliers[j]`` and ``shifts[j]``;
    ReLU and the zero point are shared (see `accel.golden.arith.activate_channels`).

    Parameters
    ----------
    params_addr : int
        Main-memory byte address of ``channels`` little-endian int32 multipliers (0 .. 2**31 -
        1) followed by ``channels`` int32 shifts (0 .. 63); the caller writes the table
        (`table_bytes`).
    channels : int
        Entries of each table: the GEMM's ``n``.
    zero_point : int
        Signed 16-bit output zero point.
    relu : bool
        Apply ReLU before adding the zero point.
    """

    params_addr: int
    channels: int
    zero_point: int = 0
    relu: bool = False

    def __post_init__(self) -> None:
        for name, low in (("params_addr", 0), ("channels", 1)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ValueError(f"{name} must be an integer of at least {low}, not {value!r}")
        if not -(1 << 15) <= self.zero_point < (1 << 15):
            raise ValueError(f"zero_point must be between -32768 and 32767, "
                             f"not {self.zero_point!r}")

    @property
    def nbytes(self) -> int:
        """Bytes of the table at ``params_addr``."""
        return 8 * self.channels

    @staticmethod
    def table_bytes(multipliers, shifts) -> bytes:
        """The table for ``params_addr``: int32 multipliers then int32 shifts, little-endian.

        Raises
        ------
        ValueError
            If the lengths differ, or a multiplier or shift is out of its range.
        """
        mult = np.asarray(multipliers, dtype=np.int64).ravel()
        shift = np.asarray(shifts, dtype=np.int64).ravel()
        if mult.size != shift.size or mult.size < 1:
            raise ValueError(f"multipliers and shifts need the same positive length, not "
                             f"{mult.size} and {shift.size}")
        if mult.min() < 0 or mult.max() >= (1 << 31):
            raise ValueError(f"multipliers must be between 0 and {(1 << 31) - 1}")
        if shift.min() < 0 or shift.max() > 63:
            raise ValueError("shifts must be between 0 and 63")
        return np.concatenate([mult, shift]).astype("<i4").tobytes()

    def command(self, acc_addr: int) -> Command:
        """The ``config_act_channels`` reading the two accumulator rows at ``acc_addr``."""
        return encode("config_act_channels", acc_addr=acc_addr,
                      act=int(Activation.RELU if self.relu else Activation.NONE),
                      zero_point=self.zero_point)


#: Accumulator rows a `ChannelRequant` GEMM reserves (at the top) for its multipliers and shifts.
CHANNEL_ROWS = 2


@dataclass(frozen=True)
class APart:
    """Columns ``k`` of the left operand A, read from main memory as a strided view.

    Element (row r, column c) of the part is at byte ``addr + r * stride + c * in_bytes``.
    Views may overlap (an im2col of a convolution is rows of one image at a stride of one
    pixel), so no copy is ever made.
    """

    addr: int
    stride: int
    k: int


@dataclass(frozen=True)
class Gemm:
    """C (m x n) = [A parts side by side] (m x sum k) @ B (sum k x n) [+ bias] [-> activation].

    Members
    -------
    m, n : int
        Rows of A and C; columns of B and C.
    a_parts : tuple of APart
        A, split by columns; tiles never straddle two parts.
    b_addr, b_stride : int
        B, row-major with ``b_stride`` bytes between rows (rows in the order of the parts).
    c_addr, c_stride : int
        Where C goes: ``acc_bytes`` per element raw, ``in_bytes`` through the activation unit.
    bias_addr : int or None
        ``n`` accumulator-width values added to every row.
    requant : Requant, ChannelRequant or None
        Send C through the activation unit, with one multiplier and shift for all of C
        (`Requant`) or one per column (`ChannelRequant`, ``channels == n``; it reserves the top
        two accumulator rows and needs ``acc_width`` 32).
    bias_per_row : bool
        The bias is instead ``m`` values, one per row (only for ``n == 1``: a matrix-vector
        product computed as a column; not with a `ChannelRequant`).
    c_rows : (period, valid, row_pitch) or None
        Segmented output rows: row ``r`` of C goes to ``c_addr + (r // period) * row_pitch +
        (r % period) * c_stride`` when ``r % period < valid`` and is not stored otherwise (a
        convolution's rows that straddle two image rows). None stores every row at ``c_addr +
        r * c_stride``.
    """

    m: int
    n: int
    a_parts: tuple[APart, ...]
    b_addr: int
    b_stride: int
    c_addr: int
    c_stride: int
    bias_addr: int | None = None
    requant: Requant | ChannelRequant | None = None
    bias_per_row: bool = False
    c_rows: tuple[int, int, int] | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "a_parts", tuple(self.a_parts))
        if self.c_rows is not None:
            rows = tuple(self.c_rows)
            if len(rows) != 3 or any(isinstance(v, bool) or not isinstance(v, int)
                                     for v in rows) or not 1 <= rows[1] <= rows[0] \
                    or rows[2] < 0:
                raise ValueError(f"c_rows must be (period, valid, row_pitch) with 1 <= valid "
                                 f"<= period and row_pitch >= 0, not {self.c_rows!r}")
            object.__setattr__(self, "c_rows", rows)
        if self.bias_per_row and self.n != 1:
            raise ValueError("a per-row bias needs n == 1")
        if isinstance(self.requant, ChannelRequant):
            if self.bias_per_row:
                raise ValueError("a per-row bias cannot go with a per-channel requant")
            if self.requant.channels != self.n:
                raise ValueError(f"a per-channel requant of {self.requant.channels} channels "
                                 f"does not fit a GEMM of n = {self.n}")
        for name in ("m", "n"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, not {value!r}")
        if not self.a_parts or any(p.k < 1 for p in self.a_parts):
            raise ValueError("A needs at least one part, each with k >= 1 columns")

    @property
    def k(self) -> int:
        return sum(p.k for p in self.a_parts)

    def c_row_addr(self, r: int) -> int | None:
        """Main-memory address of row ``r`` of C, or None when it is not stored."""
        if self.c_rows is None:
            return self.c_addr + r * self.c_stride
        period, valid, pitch = self.c_rows
        if r % period >= valid:
            return None
        return self.c_addr + (r // period) * pitch + (r % period) * self.c_stride

    def store_segments(self, m0: int, rows: int) -> list[tuple[int, int, int]]:
        """``(first row, rows, address)`` of the stored runs of rows ``m0 .. m0 + rows``."""
        if self.c_rows is None:
            return [(m0, rows, self.c_addr + m0 * self.c_stride)]
        period, valid, _ = self.c_rows
        out = []
        r, end = m0, m0 + rows
        while r < end:
            phase = r % period
            if phase >= valid:
                r += period - phase
                continue
            run = min(valid - phase, end - r)
            out.append((r, run, self.c_row_addr(r)))
            r += run
        return out
