"""Traffic-minimal convolutions (weight-stationary): the input loaded once, fused pooling.

`plan_conv` lowers a stride-``(sh, 1)`` convolution (any kernel, padding, groups) without an
im2col copy in main memory. The padded input is loaded once into scratchpad *regions*: region
row ``t`` holds the bytes from padded pixel ``t`` (``t = Y * P + X``, ``P`` pixels per stored
row) on: ``g = min(kw, tk // C)`` whole pixels when ``C <= tk`` (a row-im2col of ``g * C``
elements), else one chunk of ``tk`` channels per region. Output pixel ``(y, x)`` is GEMM row
``r = y * Q + x`` with ``Q = sh * P``; the kernel tap group ``(i, j0)`` of a region reads its A
rows at region row ``r + i * P + j0`` — the same rows shifted, so every kernel row and every
output-channel tile reuses the loaded input (``compute_acc`` at shifted A addresses). Rows with
``x >= ow`` straddle two image rows: computed, never stored.

The weights of every output-channel tile stay resident, followed by the bias as ``d`` int8
*digit* rows that a constant A block (``[1, 127, 127, ...]`` per row, loaded once per program)
turns into the bias with one ``compute`` (no ``load_acc`` broadcast, which moves ``acc_bytes``
per element). A bias too large for the digits falls back to ``load_acc``.

With a `PoolSpec`, blocks of accumulator rows hold whole pooling windows (bands of conv rows)
and ``store_pool`` writes the pooled pixels: conv + bias + requant + ReLU + pool is one store.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from accel.compiler.scratch import const_rows, flush_stores, scratch_state
from accel.compiler.tiler import CHANNEL_ROWS, ChannelRequant, ProgramBuilder
from accel.config import MAX_BLOCK_ROWS, AccelConfig, Dataflow

__all__ = ["PoolSpec", "ConvJob", "bias_digits", "const_row", "plan_conv"]


#: Rows of one region load of a resident input (small: the first computes start early).
PIECE_ROWS = 128


#: The constant A row's weights: 1 for the first digit, 127 for every other.
DIGIT_WEIGHT = 127


@dataclass(frozen=True)
class PoolSpec:
    """A pooling window fused into the store (``config_pool``; no padding).

    Members
    -------
    kernel, stride : (int, int)
    out_h, out_w : int
        The pooled output.
    avg : bool
        Average (``config_pool_avg`` with ``multiplier``, ``shift``, ``zero_point``) or max.
    """

    kernel: tuple[int, int]
    stride: tuple[int, int]
    out_h: int
    out_w: int
    avg: bool = False
    multiplier: int = 1
    shift: int = 0
    zero_point: int = 0


@dataclass(frozen=True)
class ConvJob:
    """One convolution for `plan_conv`.

    Members
    -------
    origin, pitch, cin : int
        Address of padded pixel (0, 0), stored pixels per row, channels.
    kernel, stride : (int, int)
    out_h, out_w, cout : int
    w_addr : int
        ``(kh * kw * cin + digits) x cout`` int8: the dense weight (rows in (i, j, c) order)
        followed by the `bias_digits` rows.
    digits : int
        Bias digit rows (0: no bias, or ``bias_addr`` when ``digit_bias`` is False).
    digit_bias : bool
        The bias comes from the digit rows; else from ``bias_addr`` (``cout`` int32) by
        ``load_acc``.
    bias_addr : int or None
    const_addr : int
        ``tk`` bytes: `const_row`.
    requant : Requant or ChannelRequant
    dst_origin, dst_pitch : int
        Pixel (0, 0) of the output (conv or pooled) and its stored pixels per row.
    pool : PoolSpec or None
    """

    origin: int
    pitch: int
    cin: int
    kernel: tuple[int, int]
    stride: tuple[int, int]
    out_h: int
    out_w: int
    cout: int
    w_addr: int
    digits: int
    digit_bias: bool
    bias_addr: int | None
    const_addr: int
    requant: object
    dst_origin: int
    dst_pitch: int
    pool: PoolSpec | None = None


def const_row(tk: int) -> np.ndarray:
    """The constant A row: ``[1, 127, ..., 127]`` (``tk`` int8 values)."""
    return np.array([1] + [DIGIT_WEIGHT] * (tk - 1), dtype=np.int8)


def bias_digits(bias: np.ndarray, tk: int) -> np.ndarray | None:
    """int8 rows ``D`` (``d x n``, ``d <= tk``) with ``const_row(tk)[:d] @ D == bias``, or None
    when the bias needs more than ``tk`` digits. All-zero biases give ``d == 0``."""
    bias = np.asarray(bias, dtype=np.int64)
    if not bias.any():
        return np.zeros((0, bias.size), dtype=np.int8)
    high = np.rint(bias / DIGIT_WEIGHT).astype(np.int64)
    low = bias - DIGIT_WEIGHT * high
    extra = int(-(-np.abs(high).max() // DIGIT_WEIGHT))
    if 1 + extra > tk:
        return None
    rows = [low]
    left = high.copy()
    for _ in range(extra):
        step = np.clip(left, -DIGIT_WEIGHT, DIGIT_WEIGHT)
        rows.append(step)
        left -= step
    assert not left.any()
    return np.stack(rows).astype(np.int8)


@dataclass(frozen=True)
class _Tap:
    region: int
    a_off: int     # region rows after the output pixel's top-left input pixel
    k: int
    b_row: int     # first row of the dense weight


def _taps(job: ConvJob, tk: int) -> tuple[list[tuple[int, int]], list[_Tap]]:
    """(offset, cols) of each region's rows, and the taps."""
    kh, kw = job.kernel
    c, p = job.cin, job.pitch
    if c <= tk:
        g = min(kw, tk // c)
        regions = [(0, g * c)]
        taps = [_Tap(0, i * p + j0, min(g, kw - j0) * c, (i * kw + j0) * c)
                for i in range(kh) for j0 in range(0, kw, g)]
    else:
        regions = [(c0, min(tk, c - c0)) for c0 in range(0, c, tk)]
        taps = [_Tap(q, i * p + j, cols, (i * kw + j) * c + c0)
                for i in range(kh) for j in range(kw) for q, (c0, cols) in enumerate(regions)]
    return regions, taps


def _blocks(job: ConvJob, q: int, limit: int) -> list[tuple[int, int, int]] | None:
    """``(first unit, units, m)``: bands of output rows (pooled rows with a pool) whose GEMM
    rows fit ``limit`` accumulator rows; None when one unit does not."""
    pool = job.pool
    if pool is None:
        units, per, span, width = job.out_h, 1, 1, job.out_w
        store_cap = MAX_BLOCK_ROWS
    else:
        units, per, span = pool.out_h, pool.stride[0], pool.kernel[0]
        width = (pool.out_w - 1) * pool.stride[1] + pool.kernel[1]
        store_cap = MAX_BLOCK_ROWS // pool.out_w

    def m_of(n: int) -> int:
        return ((n - 1) * per + span - 1) * q + width

    if m_of(1) > limit or store_cap < 1:
        return None
    n = 1
    while n < units and m_of(n + 1) <= min(limit, MAX_BLOCK_ROWS) and n + 1 <= store_cap:
        n += 1
    return [(u, min(n, units - u), m_of(min(n, units - u))) for u in range(0, units, n)]


def plan_conv(config: AccelConfig, builder: ProgramBuilder, job: ConvJob,
              tag: object = None) -> int | None:
    """Append ``job``'s commands to ``builder``; returns the MACs the array spends, or None
    (nothing appended) when the job does not fit this scheme: not weight-stationary, a
    horizontal stride, or buffers beyond the scratchpad or accumulator.

    The last block's stores stay pending until the next job (or `flush_stores`): they are
    emitted later in the program, recorded with ``tag`` in `moved_stores`."""
    if config.dataflow is not Dataflow.WS or job.stride[1] != 1 \
            or job.out_w > MAX_BLOCK_ROWS:
        return None
    pool = job.pool
    tk, tn = config.rows, config.cols
    kh, kw = job.kernel
    q = job.stride[0] * job.pitch
    if pool is not None and (pool.out_w > MAX_BLOCK_ROWS or q >= 1 << 16
                             or max(pool.kernel + pool.stride) > 16):
        return None
    acc_free = config.acc_rows - CHANNEL_ROWS
    blocks = _blocks(job, q, acc_free // 2)
    if blocks is None:
        return None
    regions, taps = _taps(job, tk)
    k_total = kh * kw * job.cin
    digits = job.digits if job.digit_bias else 0
    w_rows = k_total + digits
    ntiles = [(n0, min(tn, job.cout - n0)) for n0 in range(0, job.cout, tn)]
    max_off = max(t.a_off for t in taps)
    firsts = [u * q * (pool.stride[0] if pool else 1) for u, _, _ in blocks]
    t_end = max(t0 + m + max_off for t0, (_, _, m) in zip(firsts, blocks))
    block_rows = max(m for _, _, m in blocks) + max_off
    sp_free = config.sp_rows - const_rows(config)
    weight_need = len(ntiles) * w_rows
    resident = weight_need + len(regions) * t_end <= sp_free
    region_need = len(regions) * (t_end if resident else 2 * block_rows)
    if weight_need + region_need > sp_free:
        return None
    state = scratch_state(builder, config)
    eb = config.in_bytes
    base = state["sp"].reserve(weight_need + region_need)
    w_sp = [base + i * w_rows for i in range(len(ntiles))]
    reg_base = base + weight_need
    channel = isinstance(job.requant, ChannelRequant)
    const = sp_free
    weighed: set = set()

    def load_weights(n: int) -> None:
        """Column tile ``n``'s weights and bias digits (once)."""
        if n in weighed:
            return
        weighed.add(n)
        n0, cols = ntiles[n]
        for r0 in range(0, w_rows, MAX_BLOCK_ROWS):
            builder.load("load_sp", job.cout * eb, mem_addr=job.w_addr + (r0 * job.cout + n0)
                         * eb, sp_addr=w_sp[n] + r0, rows=min(MAX_BLOCK_ROWS, w_rows - r0),
                         cols=cols)

    def load_regions(t0: int, rows: int, dst: int) -> None:
        """Region rows ``[t0, t0 + rows)`` into scratchpad rows from ``dst`` (per region)."""
        for reg, (c0, cols) in enumerate(regions):
            for r0 in range(0, rows, MAX_BLOCK_ROWS):
                builder.load("load_sp", job.cin * eb, mem_addr=job.origin
                             + ((t0 + r0) * job.cin + c0) * eb,
                             sp_addr=dst + reg * region_need // len(regions) + r0,
                             rows=min(MAX_BLOCK_ROWS, rows - r0), cols=cols)

    order = [(b, n) for n in range(len(ntiles)) for b in range(len(blocks))] if resident \
        else [(b, n) for b in range(len(blocks)) for n in range(len(ntiles))]
    loaded = 0
    fetched: set = set()

    def fetch(b: int) -> None:
        """Load what block ``b`` reads (in pieces, so that the first computes start early)."""
        nonlocal loaded
        u0, units, m = blocks[b]
        if resident:
            while loaded < firsts[b] + m + max_off:
                step = min(PIECE_ROWS, t_end - loaded)
                load_regions(loaded, step, reg_base + loaded)
                loaded += step
        elif b not in fetched:
            load_regions(firsts[b], m + max_off, reg_base + (b % 2) * block_rows)
            fetched.add(b)

    # the constants load while the previous job's last stores wait for its computes
    load_weights(order[0][1])
    flush_stores(builder)
    if not channel:
        builder.requant(job.requant)
    if pool is not None:
        _config_pool(builder, state, pool, q)
    pending = state["pending"]
    macs = 0
    for index, (b, n) in enumerate(order):
        u0, units, m = blocks[b]
        t0 = firsts[b]
        n0, cols = ntiles[n]
        load_weights(n)
        fetch(b)
        if index + 1 < len(order):       # the next block loads while this one computes
            load_weights(order[index + 1][1])
            fetch(order[index + 1][0])
        if digits and (state["const"] < min(const_rows(config), m)
                       or state["const_cols"] < digits):
            need = max(state["const"], min(const_rows(config), max(m for _, _, m in blocks)))
            width = max(state["const_cols"], digits)   # a few columns: one bus word a row
            builder.load("load_sp", 0, mem_addr=job.const_addr, sp_addr=const, rows=need,
                         cols=width)
            state["const"], state["const_cols"] = need, width
        a_base = reg_base + (t0 if resident else (b % 2) * block_rows)
        stride_reg = region_need // len(regions)
        if channel:
            flush_stores(builder)       # the activation settings change in store order
            builder.channel_requant(config, job.requant, n0, cols)
        c_addr = (index % 2) * (acc_free // 2)   # two slots: a deferred store never meets
                                                  # the next block's computes
        first = True
        if job.bias_addr is not None and not job.digit_bias:
            for r0 in range(0, m, MAX_BLOCK_ROWS):
                builder.load("load_acc", 0, mem_addr=job.bias_addr + n0 * config.acc_bytes,
                             acc_addr=c_addr + r0, rows=min(MAX_BLOCK_ROWS, m - r0), cols=cols)
            first = False
        # (B rows, k, first A row, A rows per COMPUTE, A moves with the output rows)
        steps = [(w_sp[n] + t.b_row, t.k, a_base + t.region * stride_reg + t.a_off,
                  MAX_BLOCK_ROWS, 1) for t in taps]
        if digits:
            steps.append((w_sp[n] + k_total, digits, const, state["const"], 0))
        for b_addr, k, a_addr, piece, moves in steps:
            builder.op("preload", b_addr=b_addr, k=k, n=cols)
            for r0 in range(0, m, piece):
                rows = min(piece, m - r0)
                builder.op("compute" if first else "compute_acc", a_addr=a_addr + moves * r0,
                           m=rows, c_addr=c_addr + r0)
                macs += rows * k * cols
            if first:
                # the previous block's stores follow this block's first computes, so the
                # dispatcher does not hold them back while those stores wait
                flush_stores(builder)
            first = False
        pending.append((tag, lambda args=(u0, units, c_addr, q, n0, cols):
                        _stores(config, builder, job, *args)))
    return macs


def _config_pool(builder: ProgramBuilder, state: dict, pool: PoolSpec, q: int) -> None:
    key = (pool, q)
    if state["pool"] == key:
        return
    builder.op("config_pool", kh=pool.kernel[0], kw=pool.kernel[1], sh=pool.stride[0],
               sw=pool.stride[1], mode=1 if pool.avg else 0, in_pitch=q, out_w=pool.out_w)
    if pool.avg:
        builder.op("config_pool_avg", multiplier=pool.multiplier, shift=pool.shift,
                   zero_point=pool.zero_point)
    state["pool"] = key


def _stores(config: AccelConfig, builder: ProgramBuilder, job: ConvJob, u0: int, units: int,
            c_addr: int, q: int, n0: int, cols: int) -> None:
    eb = config.in_bytes
    row_bytes = job.dst_pitch * job.cout * eb
    stride = job.cout * eb
    pool = job.pool
    if pool is None:
        for y in range(units):
            builder.store("store_act", stride, mem_addr=job.dst_origin + (u0 + y) * row_bytes
                          + n0 * eb, acc_addr=c_addr + y * q, rows=job.out_w, cols=cols)
        return
    if job.dst_pitch == pool.out_w:
        builder.store("store_pool", stride, mem_addr=job.dst_origin + u0 * row_bytes + n0 * eb,
                      acc_addr=c_addr, rows=units * pool.out_w, cols=cols)
        return
    for y in range(units):
        builder.store("store_pool", stride, mem_addr=job.dst_origin + (u0 + y) * row_bytes
                      + n0 * eb, acc_addr=c_addr + y * pool.stride[0] * q, rows=pool.out_w,
                      cols=cols)
