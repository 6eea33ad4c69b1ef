"""Tile a matrix multiplication into an accelerator program and a main-memory layout.

`plan_matmul` turns C = A @ B (+ bias, optionally through the activation unit) of any shape into
a sequence of loads, preloads, computes and stores that respects every limit of the
configuration: the array's tile shape for its dataflow, scratchpad and accumulator depths, and the
256-row limit of one transfer; `emit_gemm` does the same for a `Gemm` over strided operand views
(the compiler's layers). The loop order and the operand kept resident in the scratchpad are
`accel.compiler.schedule`'s, so that each operand is read once whenever the scratchpad allows;
result tiles rotate through up to three accumulator slots, each stored while the next tiles
compute. The GEMM types (`Gemm`, `APart`, `Requant`, `ChannelRequant`) live in
`accel.compiler.gemm` and are re-exported here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from accel.arch.microarch import align_up
from accel.config import AccelConfig, Dataflow
from accel.compiler.gemm import CHANNEL_ROWS, APart, ChannelRequant, Gemm, Requant
from accel.compiler.schedule import choose_schedule, last_c_row, placers
from accel.isa.encoding import Command, encode

__all__ = ["Requant", "ChannelRequant", "CHANNEL_ROWS", "MatmulLayout", "MatmulPlan",
           "plan_matmul", "APart", "Gemm", "ProgramBuilder", "emit_gemm"]

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


def emit_gemm(config: AccelConfig, builder: ProgramBuilder, gemm: Gemm) -> None:
    """Append the loads, preloads, computes and stores of ``gemm`` to ``builder``, in either
    dataflow (no trailing fence).

    The tiling is `accel.compiler.schedule.choose_schedule`'s: the loop order and the operand
    kept resident in the scratchpad that move the fewest bytes. Each block is loaded when first
    used; a C tile's store is emitted after the next tile's last load and first compute (when
    the accumulator holds two tiles), so that it overlaps that tile's computes.

    With a `ChannelRequant`, the top two accumulator rows hold the multipliers and shifts of
    the column tile being stored: before its store, ``load_acc`` (2 rows, ``tn`` columns,
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
                (gemm.c_addr, last_c_row(gemm) - gemm.c_addr + gemm.n * out_bytes)]
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
    sched = choose_schedule(cfg, gemm, acc_rows)
    a_place, b_place = placers(cfg, sched)
    a_load = "load_sp" if cfg.dataflow is Dataflow.WS else "load_sp_t"
    store = "store_act" if gemm.requant is not None else "store_acc"
    tiles = [(mi, ni) for mi in range(len(sched.m_tiles)) for ni in range(len(sched.n_tiles))]
    if sched.order == "nm":
        tiles.sort(key=lambda t: (t[1], t[0]))
    pending = None

    def flush():
        (m0, tm_i), (n0, tn_i), c_addr = pending
        if channels is not None:
            builder.channel_requant(cfg, channels, n0, tn_i)
        for r0, rows, addr in gemm.store_segments(m0, tm_i):
            builder.store(store, gemm.c_stride, mem_addr=addr + n0 * out_bytes,
                          acc_addr=c_addr + r0 - m0, rows=rows, cols=tn_i)

    for mi, ni in tiles:
        (m0, tm_i), (n0, tn_i) = sched.m_tiles[mi], sched.n_tiles[ni]
        c_addr = (builder.acc_turn % sched.acc_slots) * (acc_rows // sched.acc_slots)
        builder.acc_turn += 1
        if gemm.bias_addr is not None and gemm.bias_per_row:
            builder.load("load_acc", cfg.acc_bytes, mem_addr=gemm.bias_addr
                         + m0 * cfg.acc_bytes, acc_addr=c_addr, rows=tm_i, cols=1)
        elif gemm.bias_addr is not None:
            builder.load("load_acc", 0, mem_addr=gemm.bias_addr + n0 * cfg.acc_bytes,
                         acc_addr=c_addr, rows=tm_i, cols=tn_i)
        first = gemm.bias_addr is None
        store_at = 0 if pending is None else _store_step(
            cfg, sched, a_place, b_place, mi, ni,
            pending[0][1] * -(-pending[1][1] * out_bytes // max(1, cfg.bus_width // 8)))
        for ki, ks in enumerate(sched.k_steps):
            part = gemm.a_parts[ks.part]
            a_sp, load_a = a_place.place((mi, ki))
            if load_a:
                builder.load(a_load, part.stride, mem_addr=part.addr + m0 * part.stride
                             + ks.k0 * eb, sp_addr=a_sp, rows=tm_i, cols=ks.rows)
            b_sp, load_b = b_place.place((ki, ni))
            if load_b:
                builder.load("load_sp", gemm.b_stride, mem_addr=gemm.b_addr
                             + ks.b_row * gemm.b_stride + n0 * eb, sp_addr=b_sp,
                             rows=ks.rows, cols=tn_i)
            builder.op("preload", b_addr=b_sp, k=ks.rows, n=tn_i)
            builder.op("compute" if first else "compute_acc", a_addr=a_sp, m=tm_i,
                       c_addr=c_addr)
            first = False
            if pending is not None and ki == store_at:
                flush()
                pending = None
        pending = ((m0, tm_i), (n0, tn_i), c_addr)
        if not sched.defer_stores:
            flush()
            pending = None
    if pending is not None:
        flush()


def _store_step(config: AccelConfig, sched, a_place, b_place, mi: int, ni: int,
                store_words: int) -> int:
    """After which k step of tile (mi, ni) the previous tile's store goes.

    The store waits in the dispatcher until the previous tile's last compute has retired, and
    holds up every later command meanwhile; so it goes after the tile's last load. With only
    two accumulator slots it must also finish before the next tile overwrites its slot: then
    it goes no later than the last step from which the computes still ahead of the array
    outlast it.
    """
    steps = len(sched.k_steps)
    loading = [ki for ki in range(steps)
               if a_place.needs_load((mi, ki)) or b_place.needs_load((ki, ni))]
    at = loading[-1] if loading else 0
    if sched.acc_slots >= 3:
        return at
    ws = config.dataflow is Dataflow.WS
    tm = sched.m_tiles[mi][1]
    lengths = [tm if ws else max(ks.rows, config.rows) for ks in sched.k_steps]
    # The dispatcher runs up to three computes ahead of the array when it reaches the store.
    for ki in range(at, -1, -1):
        ahead = sum(lengths[max(0, ki - 2):ki + 1])
        if sum(lengths[ki + 1:]) + ahead >= store_words + 16:
            return ki
    return 0
