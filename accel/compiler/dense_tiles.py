"""A dense layer (matrix-vector product) on the weight-stationary array, every byte moved once.

The layer runs transposed: ``y (n) = W^T (n x k) @ x (k)``. The input column is loaded once
with ``load_sp_t`` (one DMA row of up to 256 bytes per command, element ``c`` into scratchpad
row ``c``), so each ``tk``-row slice of it is a resident B operand. The weights are stored
tile-major in main memory, ``W^T[:, k0:k0 + tk]`` for each ``k0`` after the other (``tk``
bytes per row), so they stream into the scratchpad in a few long loads; each k tile is one
``compute_acc`` of ``n`` rows. The per-row bias is a ``load_acc`` of ``n`` single values.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from accel.compiler.scratch import flush_stores, scratch_state
from accel.compiler.tiler import ProgramBuilder, Requant
from accel.config import MAX_BLOCK_ROWS, AccelConfig, Dataflow

__all__ = ["DenseJob", "tile_major", "plan_dense"]


def tile_major(weight: np.ndarray, tk: int) -> np.ndarray:
    """``weight`` (k x n) as the int8 bytes of ``W^T`` k-tile after k-tile: ``ceil(k / tk)``
    blocks of ``n`` rows of ``tk`` values (the last block zero-padded)."""
    k, n = weight.shape
    tiles = -(-k // tk)
    padded = np.zeros((tiles * tk, n), dtype=np.int64)
    padded[:k] = weight
    return padded.reshape(tiles, tk, n).transpose(0, 2, 1).astype(np.int8).reshape(-1)


@dataclass(frozen=True)
class DenseJob:
    """Members: ``k`` inputs at ``x_addr`` (int8), ``n`` outputs, `tile_major` weights at
    ``w_addr``, ``n`` int32 biases at ``bias_addr`` (or None), ``requant`` (a `Requant`, or
    None for raw int32 sums), the output at ``y_addr`` (``item`` bytes per value)."""

    k: int
    n: int
    x_addr: int
    w_addr: int
    bias_addr: int | None
    requant: Requant | None
    y_addr: int
    item: int


def plan_dense(config: AccelConfig, builder: ProgramBuilder, job: DenseJob) -> int | None:
    """Append ``job``'s commands; returns the MACs the array spends, or None (nothing
    appended) when the configuration is not weight-stationary or the operands do not fit the
    scratchpad or accumulator."""
    tk = config.rows
    tiles = -(-job.k // tk)
    if config.dataflow is not Dataflow.WS or job.n > config.acc_rows // 2:
        return None
    state = scratch_state(builder, config)
    # pieces of a few k tiles, two in the scratchpad at a time, the input column resident
    per = max(1, min(MAX_BLOCK_ROWS // job.n if job.n <= MAX_BLOCK_ROWS else 1,
                     MAX_BLOCK_ROWS // tk, -(-tiles // 8)))
    total = job.k + 2 * per * job.n
    if total > state["sp"].size:
        return None
    base = state["sp"].reserve(total)
    x_sp, w_sp = base, base + job.k
    acc = state["acc"].reserve(job.n)
    eb = config.in_bytes
    pieces = [(t0, min(tiles, t0 + per)) for t0 in range(0, tiles, per)]

    def slot(t0: int) -> int:
        return w_sp + (t0 // per % 2) * per * job.n

    def load_weights(t0: int, t1: int) -> None:
        for r0 in range(t0 * job.n, t1 * job.n, MAX_BLOCK_ROWS):
            builder.load("load_sp", tk * eb, mem_addr=job.w_addr + r0 * tk * eb,
                         sp_addr=slot(t0) + r0 - t0 * job.n,
                         rows=min(MAX_BLOCK_ROWS, t1 * job.n - r0), cols=tk)

    def load_input(t0: int, t1: int) -> None:
        c0, c1 = t0 * tk, min(job.k, t1 * tk)
        builder.load("load_sp_t", tk * eb, mem_addr=job.x_addr + c0 * eb, sp_addr=x_sp + c0,
                     rows=1, cols=c1 - c0)

    for piece in pieces[:2]:        # both slots fill while the producer's last stores wait
        load_weights(*piece)
    flush_stores(builder)
    if job.requant is not None:
        builder.requant(job.requant)
    load_input(*pieces[0])
    if job.bias_addr is not None:
        for r0 in range(0, job.n, MAX_BLOCK_ROWS):
            builder.load("load_acc", config.acc_bytes, mem_addr=job.bias_addr
                         + r0 * config.acc_bytes, acc_addr=acc + r0,
                         rows=min(MAX_BLOCK_ROWS, job.n - r0), cols=1)
    first = job.bias_addr is None
    macs = 0
    for index, (t0, t1) in enumerate(pieces):
        if index + 1 < len(pieces):      # the next piece loads while this one computes
            load_input(*pieces[index + 1])
            if index >= 1:
                load_weights(*pieces[index + 1])
        for t in range(t0, t1):
            kt = min(tk, job.k - t * tk)
            builder.op("preload", b_addr=x_sp + t * tk, k=kt, n=1)
            for r0 in range(0, job.n, MAX_BLOCK_ROWS):
                m = min(MAX_BLOCK_ROWS, job.n - r0)
                builder.op("compute" if first else "compute_acc",
                           a_addr=slot(t0) + (t - t0) * job.n + r0, m=m, c_addr=acc + r0)
                macs += m * kt
            first = False
    store = "store_act" if job.requant is not None else "store_acc"
    for r0 in range(0, job.n, MAX_BLOCK_ROWS):
        builder.store(store, job.item, mem_addr=job.y_addr + r0 * job.item, acc_addr=acc + r0,
                      rows=min(MAX_BLOCK_ROWS, job.n - r0), cols=1)
    return macs
