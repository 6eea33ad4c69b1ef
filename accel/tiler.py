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

from .config import MAX_BLOCK_ROWS, AccelConfig
from .isa.encoding import Command, encode
from .isa.spec import Activation

__all__ = ["Requant", "MatmulLayout", "MatmulPlan", "plan_matmul"]

_ALIGN = 64


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
class MatmulLayout:
    """Byte addresses of the operands and the result in main memory (row-major, packed)."""

    a_addr: int
    b_addr: int
    bias_addr: int | None
    c_addr: int
    mem_size: int


def _align(value: int) -> int:
    return (value + _ALIGN - 1) // _ALIGN * _ALIGN


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
    requant: Requant | None
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
    a_addr = _align(base)
    b_addr = _align(a_addr + m * k * config.in_bytes)
    bias_addr = _align(b_addr + k * n * config.in_bytes)
    c_addr = _align(bias_addr + (n * config.acc_bytes if has_bias else 0))
    mem_size = _align(c_addr + m * n * out_bytes)
    if mem_size > config.mem_size_limit:
        raise ValueError(f"a {m}x{k} @ {k}x{n} matmul needs {mem_size} bytes of main memory; "
                         f"the bus addresses only {config.mem_size_limit}")
    return MatmulLayout(a_addr, b_addr, bias_addr if has_bias else None, c_addr, mem_size)


def _ranges(total: int, step: int) -> list[tuple[int, int]]:
    return [(start, min(step, total - start)) for start in range(0, total, step)]


class _Emitter:
    """Appends commands, skipping stride configuration that is already in effect."""

    def __init__(self) -> None:
        self.program: list[Command] = []
        self._load_stride: int | None = None
        self._store_stride: int | None = None

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


def plan_matmul(config: AccelConfig, m: int, k: int, n: int, *, bias: bool = False,
                requant: Requant | None = None, base: int = 0) -> MatmulPlan:
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
    emit = _Emitter()
    if requant is not None:
        emit.program.append(requant.command())
    _plan_tiles(plan, emit)
    emit.op("fence")
    plan.program = emit.program
    return plan


def _store_block(plan: MatmulPlan, emit: _Emitter, c_addr: int, m0: int, tm: int, n0: int,
                 tn: int) -> None:
    lay = plan.layout
    row_bytes = plan.n * plan.out_bytes
    mem = lay.c_addr + m0 * row_bytes + n0 * plan.out_bytes
    name = "store_act" if plan.requant is not None else "store_acc"
    emit.store(name, row_bytes, mem_addr=mem, acc_addr=c_addr, rows=tm, cols=tn)


def _load_bias(plan: MatmulPlan, emit: _Emitter, c_addr: int, tm: int, n0: int,
               tn: int) -> None:
    assert plan.layout.bias_addr is not None
    mem = plan.layout.bias_addr + n0 * plan.config.acc_bytes
    emit.load("load_acc", 0, mem_addr=mem, acc_addr=c_addr, rows=tm, cols=tn)


def _tile_shape(config: AccelConfig, m: int, k: int, n: int) -> tuple[int, int, int, int, int]:
    """(tm, tk, tn, scratchpad slots, accumulator slots) for this dataflow.

    Weight-stationary: B tiles (tk <= rows, tn <= cols) are held in the array and up to 256 A
    rows stream; a scratchpad slot holds an A block (tm rows) and a B tile (tk rows).
    Output-stationary: C tiles (tm <= rows, tn <= cols) are held in the array and k streams; a
    slot holds A^T (tk rows) and B (tk rows). Two slots (double buffering) when they fit.
    """
    tn = min(config.cols, n)
    if config.dataflow == "ws":
        tk = min(config.rows, k)
        sp_slots = 2 if config.sp_rows >= 2 * (tk + 1) else 1
        acc_slots = 2 if config.acc_rows >= 2 else 1
        tm = min(MAX_BLOCK_ROWS, m, config.sp_rows // sp_slots - tk,
                 config.acc_rows // acc_slots)
    else:
        tm = min(config.rows, m)
        sp_slots = 2 if config.sp_rows >= 4 else 1
        tk = min(MAX_BLOCK_ROWS, k, config.sp_rows // sp_slots // 2)
        acc_slots = 2 if config.acc_rows >= 2 * tm else 1
    return tm, tk, tn, sp_slots, acc_slots


def _plan_tiles(plan: MatmulPlan, emit: _Emitter) -> None:
    """Loads, preloads, computes and stores for every output block, in either dataflow."""
    cfg, lay = plan.config, plan.layout
    tm, tk, tn, sp_slots, acc_slots = _tile_shape(cfg, plan.m, plan.k, plan.n)
    a_rows = tm if cfg.dataflow == "ws" else tk  # scratchpad rows of one A block
    a_load = "load_sp" if cfg.dataflow == "ws" else "load_sp_t"
    a_row_bytes, b_row_bytes = plan.k * cfg.in_bytes, plan.n * cfg.in_bytes
    slot_rows = cfg.sp_rows // sp_slots
    sp_turn = acc_turn = 0
    for n0, tn_i in _ranges(plan.n, tn):
        for m0, tm_i in _ranges(plan.m, tm):
            c_addr = (acc_turn % acc_slots) * (cfg.acc_rows // acc_slots)
            acc_turn += 1
            if plan.has_bias:
                _load_bias(plan, emit, c_addr, tm_i, n0, tn_i)
            for index, (k0, tk_i) in enumerate(_ranges(plan.k, tk)):
                base = (sp_turn % sp_slots) * slot_rows
                sp_turn += 1
                a_sp, b_sp = base, base + a_rows
                emit.load(a_load, a_row_bytes, mem_addr=lay.a_addr + m0 * a_row_bytes
                          + k0 * cfg.in_bytes, sp_addr=a_sp, rows=tm_i, cols=tk_i)
                emit.load("load_sp", b_row_bytes, mem_addr=lay.b_addr + k0 * b_row_bytes
                          + n0 * cfg.in_bytes, sp_addr=b_sp, rows=tk_i, cols=tn_i)
                emit.op("preload", b_addr=b_sp, k=tk_i, n=tn_i)
                accumulate = plan.has_bias or index > 0
                emit.op("compute_acc" if accumulate else "compute", a_addr=a_sp, m=tm_i,
                        c_addr=c_addr)
            _store_block(plan, emit, c_addr, m0, tm_i, n0, tn_i)
