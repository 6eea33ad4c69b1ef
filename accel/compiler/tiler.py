"""Tile a matrix multiplication into an accelerator program and a main-memory layout.

`plan_matmul` turns C = A @ B (+ bias, optionally through the activation unit) of any shape into
a sequence of loads, preloads, computes and stores that respects every limit of the
configuration: the array's tile shape for its dataflow, scratchpad and accumulator depths, and the
256-row limit of one transfer. Operand and result slots in the scratchpad and accumulator are
double-buffered when capacity allows, so hardware can load the next tile while computing the
current one and store one result block while computing the next.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from accel.arch.microarch import align_up
from accel.config import MAX_BLOCK_ROWS, AccelConfig, Dataflow
from accel.isa.encoding import Command, encode
from accel.isa.spec import Activation

__all__ = ["Requant", "ChannelRequant", "CHANNEL_ROWS", "MatmulLayout", "MatmulPlan",
           "plan_matmul", "APart", "Gemm", "ProgramBuilder", "emit_gemm"]

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
class MatmulLayout:
    """Byte addresses of the operands and the result in main memory (row-major, packed)."""

    a_addr: int
    b_addr: int
    bias_addr: int | None
    c_addr: int
    mem_size: int


@dataclass
class MatmulPlan:
    """A tiled matmul: program, memory layout and the shapes it was built for.

    Members
    -------
    program : list of Command
    layout : MatmulLayout
    out_bytes : int
        Bytes per result element in main memory (``acc_bytes`` raw, ``in_bytes`` requantized).
    """

    config: AccelConfig
    m: int
    k: int
    n: int
    has_bias: bool
    requant: Requant | ChannelRequant | None
    layout: MatmulLayout
    program: list[Command] = field(default_factory=list)

    @property
    def out_bytes(self) -> int:
        return self.config.in_bytes if self.requant is not None else self.config.acc_bytes

    def memory_image(self, a: np.ndarray, b: np.ndarray,
                     bias: np.ndarray | None = None) -> np.ndarray:
        """The initial main memory (uint8) holding A, B and the bias at their addresses."""
        cfg, lay = self.config, self.layout
        mem = np.zeros(lay.mem_size, dtype=np.uint8)
        for addr, values, width in ((lay.a_addr, a, cfg.in_bytes), (lay.b_addr, b, cfg.in_bytes),
                                    (lay.bias_addr, bias, cfg.acc_bytes)):
            if values is None or addr is None:
                continue
            raw = np.ascontiguousarray(values, dtype=f"<i{width}").view(np.uint8).ravel()
            mem[addr:addr + raw.size] = raw
        return mem

    def read_result(self, mem: np.ndarray) -> np.ndarray:
        """The M x N result read back from a final main-memory image."""
        nbytes = self.m * self.n * self.out_bytes
        raw = np.ascontiguousarray(mem[self.layout.c_addr:self.layout.c_addr + nbytes])
        out = raw.view(f"<i{self.out_bytes}").reshape(self.m, self.n)
        return out.astype(np.int8 if self.out_bytes == 1 else
                          np.int16 if self.out_bytes == 2 else
                          np.int32 if self.out_bytes == 4 else np.int64)


def _layout(config: AccelConfig, m: int, k: int, n: int, has_bias: bool,
            out_bytes: int, base: int) -> MatmulLayout:
    a_addr = align_up(base)
    b_addr = align_up(a_addr + m * k * config.in_bytes)
    bias_addr = align_up(b_addr + k * n * config.in_bytes)
    c_addr = align_up(bias_addr + (n * config.acc_bytes if has_bias else 0))
    mem_size = align_up(c_addr + m * n * out_bytes)
    if mem_size > config.mem_size_limit:
        raise ValueError(f"a {m}x{k} @ {k}x{n} matmul needs {mem_size} bytes of main memory; "
                         f"the bus addresses only {config.mem_size_limit}")
    return MatmulLayout(a_addr, b_addr, bias_addr if has_bias else None, c_addr, mem_size)


def _ranges(total: int, step: int) -> list[tuple[int, int]]:
    return [(start, min(step, total - start)) for start in range(0, total, step)]


class ProgramBuilder:
    """Appends commands, skipping configuration (strides, activation) already in effect.

    One builder can receive several GEMMs (`emit_gemm`); it assumes it is the only source of
    commands, so the configuration it remembers is the accelerator's.
    """

    def __init__(self) -> None:
        self.program: list[Command] = []
        self._load_stride: int | None = None
        self._store_stride: int | None = None
        # What the activation unit holds: a Requant, or the (table slice, columns, acc row,
        # zero point, relu) of the last load_acc + config_act_channels; None when unknown.
        self._requant: Requant | tuple | None = None
        self.sp_turn = 0
        self.acc_turn = 0

    def requant(self, requant: Requant) -> None:
        """Configure the activation unit (unless it already is)."""
        if requant != self._requant:
            self.program.append(requant.command())
            self._requant = requant

    def channel_requant(self, config: AccelConfig, requant: ChannelRequant, n0: int,
                        cols: int) -> None:
        """Load columns ``n0 .. n0 + cols`` of ``requant``'s table into the reserved top two
        accumulator rows and apply them (``load_acc`` + ``config_act_channels``), unless that
        slice is already in effect."""
        acc_addr = config.acc_rows - CHANNEL_ROWS
        state = (requant.params_addr + 4 * n0, 4 * requant.channels, cols, acc_addr,
                 requant.zero_point, requant.relu)
        if state == self._requant:
            return
        self.load("load_acc", 4 * requant.channels, mem_addr=state[0], acc_addr=acc_addr,
                  rows=CHANNEL_ROWS, cols=cols)
        self.program.append(requant.command(acc_addr))
        self._requant = state

    def op(self, name: str, **operands: int) -> None:
        self.program.append(encode(name, **operands))

    def load(self, name: str, stride: int, **operands: int) -> None:
        if stride != self._load_stride:
            self.op("config_load", stride=stride)
            self._load_stride = stride
        self.op(name, **operands)

    def store(self, name: str, stride: int, **operands: int) -> None:
        if stride != self._store_stride:
            self.op("config_store", stride=stride)
            self._store_stride = stride
        self.op(name, **operands)


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


def plan_matmul(config: AccelConfig, m: int, k: int, n: int, *, bias: bool = False,
                requant: Requant | ChannelRequant | None = None,
                base: int = 0) -> MatmulPlan:
    """Plan C (m x n) = A (m x k) @ B (k x n) [+ bias] [-> activation] for ``config``.

    The result is raw accumulator values (``acc_bytes`` each) unless ``requant`` is given, in
    which case it goes through the activation unit (``in_bytes`` each). Operands and result are
    laid out in main memory from ``base`` (rounded up to 64 bytes) on.

    Raises
    ------
    ValueError
        On a non-positive dimension, or when the operands do not fit the addressable memory.
    """
    for name, value in (("m", m), ("k", k), ("n", n)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive integer, not {value!r}")
    out_bytes = config.in_bytes if requant is not None else config.acc_bytes
    if isinstance(base, bool) or not isinstance(base, int) or base < 0:
        raise ValueError(f"base must be a non-negative integer, not {base!r}")
    layout = _layout(config, m, k, n, bias, out_bytes, base)
    plan = MatmulPlan(config, m, k, n, bias, requant, layout)
    builder = ProgramBuilder()
    gemm = Gemm(m, n, (APart(layout.a_addr, k * config.in_bytes, k),), layout.b_addr,
                n * config.in_bytes, layout.c_addr, n * out_bytes, layout.bias_addr, requant)
    emit_gemm(config, builder, gemm)
    builder.op("fence")
    plan.program = builder.program
    return plan


def _tile_shape(config: AccelConfig, m: int, k: int, n: int,
                acc_rows: int) -> tuple[int, int, int, int, int]:
    """(tm, tk, tn, scratchpad slots, accumulator slots) for this dataflow, with accumulator
    rows ``[0, acc_rows)`` for results.

    Weight-stationary: B tiles (tk <= rows, tn <= cols) are held in the array and up to 256 A
    rows stream; a scratchpad slot holds an A block (tm rows) and a B tile (tk rows).
    Output-stationary: C tiles (tm <= rows, tn <= cols) are held in the array and k streams; a
    slot holds A^T (tk rows) and B (tk rows). Two slots (double buffering) when they fit.
    """
    tn = min(config.cols, n)
    if config.dataflow is Dataflow.WS:
        tk = min(config.rows, k)
        sp_slots = 2 if config.sp_rows >= 2 * (tk + 1) else 1
        acc_slots = 2 if acc_rows >= 2 else 1
        tm = min(MAX_BLOCK_ROWS, m, config.sp_rows // sp_slots - tk, acc_rows // acc_slots)
    else:
        tm = min(config.rows, m, acc_rows)
        sp_slots = 2 if config.sp_rows >= 4 else 1
        tk = min(MAX_BLOCK_ROWS, k, config.sp_rows // sp_slots // 2)
        acc_slots = 2 if acc_rows >= 2 * tm else 1
    return tm, tk, tn, sp_slots, acc_slots


def emit_gemm(config: AccelConfig, builder: ProgramBuilder, gemm: Gemm) -> None:
    """Append the loads, preloads, computes and stores of ``gemm`` to ``builder``, in either
    dataflow (no trailing fence).

    With a `ChannelRequant`, the top two accumulator rows hold the multipliers and shifts of
    the current column tile: before the tile's computes, ``load_acc`` (2 rows, ``tn`` columns,
    stride ``4 * channels``) from the table and ``config_act_channels`` (both skipped when that
    slice is already in effect).

    Raises
    ------
    ValueError
        When an operand view reaches beyond the addressable memory, or a `ChannelRequant` meets
        an accelerator without 32-bit accumulators or with too few accumulator rows.
    """
    cfg = config
    eb = cfg.in_bytes
    out_bytes = eb if gemm.requant is not None else cfg.acc_bytes
    extents = [(p.addr, (gemm.m - 1) * p.stride + p.k * eb) for p in gemm.a_parts]
    extents += [(gemm.b_addr, (gemm.k - 1) * gemm.b_stride + gemm.n * eb),
                (gemm.c_addr, _last_c_row(gemm) - gemm.c_addr + gemm.n * out_bytes)]
    if gemm.bias_addr is not None:
        extents.append((gemm.bias_addr, (gemm.m if gemm.bias_per_row else gemm.n)
                        * cfg.acc_bytes))
    channels = gemm.requant if isinstance(gemm.requant, ChannelRequant) else None
    acc_rows = cfg.acc_rows
    if channels is not None:
        extents.append((channels.params_addr, channels.nbytes))
        if cfg.acc_width != 32:
            raise ValueError(f"a per-channel requant loads int32 multipliers into the "
                             f"accumulator and needs acc_width 32, not {cfg.acc_width}")
        acc_rows -= CHANNEL_ROWS
        if acc_rows < 1:
            raise ValueError(f"a per-channel requant needs more than {CHANNEL_ROWS} "
                             f"accumulator rows, not {cfg.acc_rows}")
    for addr, size in extents:
        if addr < 0 or addr + size > cfg.mem_size_limit:
            raise ValueError(f"an operand at {addr:#x} ({size} bytes) lies outside the "
                             f"{cfg.mem_size_limit} bytes of addressable memory")
    if gemm.requant is not None and channels is None:
        builder.requant(gemm.requant)
    max_k = max(p.k for p in gemm.a_parts)
    tm, tk, tn, sp_slots, acc_slots = _tile_shape(cfg, gemm.m, max_k, gemm.n, acc_rows)
    a_rows = tm if cfg.dataflow is Dataflow.WS else tk  # scratchpad rows of one A block
    a_load = "load_sp" if cfg.dataflow is Dataflow.WS else "load_sp_t"
    slot_rows = cfg.sp_rows // sp_slots
    store = "store_act" if gemm.requant is not None else "store_acc"
    for n0, tn_i in _ranges(gemm.n, tn):
        if channels is not None:
            builder.channel_requant(cfg, channels, n0, tn_i)
        for m0, tm_i in _ranges(gemm.m, tm):
            c_addr = (builder.acc_turn % acc_slots) * (acc_rows // acc_slots)
            builder.acc_turn += 1
            if gemm.bias_addr is not None and gemm.bias_per_row:
                builder.load("load_acc", cfg.acc_bytes, mem_addr=gemm.bias_addr
                             + m0 * cfg.acc_bytes, acc_addr=c_addr, rows=tm_i, cols=1)
            elif gemm.bias_addr is not None:
                builder.load("load_acc", 0, mem_addr=gemm.bias_addr + n0 * cfg.acc_bytes,
                             acc_addr=c_addr, rows=tm_i, cols=tn_i)
            first = gemm.bias_addr is None
            b_row = 0
            for part in gemm.a_parts:
                for k0, tk_i in _ranges(part.k, tk):
                    base = (builder.sp_turn % sp_slots) * slot_rows
                    builder.sp_turn += 1
                    a_sp, b_sp = base, base + a_rows
                    builder.load(a_load, part.stride, mem_addr=part.addr + m0 * part.stride
                                 + k0 * eb, sp_addr=a_sp, rows=tm_i, cols=tk_i)
                    builder.load("load_sp", gemm.b_stride, mem_addr=gemm.b_addr
                                 + (b_row + k0) * gemm.b_stride + n0 * eb, sp_addr=b_sp,
                                 rows=tk_i, cols=tn_i)
                    builder.op("preload", b_addr=b_sp, k=tk_i, n=tn_i)
                    builder.op("compute" if first else "compute_acc", a_addr=a_sp, m=tm_i,
                               c_addr=c_addr)
                    first = False
                b_row += part.k
            for r0, rows, addr in gemm.store_segments(m0, tm_i):
                builder.store(store, gemm.c_stride, mem_addr=addr + n0 * out_bytes,
                              acc_addr=c_addr + r0 - m0, rows=rows, cols=tn_i)


def _last_c_row(gemm: Gemm) -> int:
    """Address of the last stored row of C (``c_addr`` when none is)."""
    for r in range(gemm.m - 1, max(-1, gemm.m - 1 - (gemm.c_rows or (1,))[0]), -1):
        addr = gemm.c_row_addr(r)
        if addr is not None:
            return addr
    return gemm.c_addr
