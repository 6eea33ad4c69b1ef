"""Fused pooling for random programs: CONFIG_POOL, CONFIG_POOL_AVG and STORE_POOL, legal and
failing.

The program builder (`accel.verify.randprog`) does not know the pooling registers that an
earlier program left (``pool`` is None then), so a STORE_POOL is preceded by a CONFIG_POOL
unless this program set the window itself. Windows, strides and pitches are small, so that the
windows overlap the accumulator rows other instructions write (hazards) and fit the
accumulator.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from accel.golden.arith import pool_last_row
from accel.isa.encoding import encode
from accel.isa.spec import ErrorCause

if TYPE_CHECKING:
    from accel.verify.randprog import _Builder

__all__ = ["PoolRecipes", "POOL_ERRORS"]

#: The error causes `PoolRecipes.failing` can provoke with a STORE_POOL.
POOL_ERRORS = (ErrorCause.ACC_RANGE, ErrorCause.SHAPE, ErrorCause.MEM_RANGE)



class PoolRecipes:
    """Pooling commands appended to a program builder's output.

    Parameters
    ----------
    builder : accel.verify.randprog._Builder

    Members
    -------
    pool : dict or None
        The window registers (``kh``, ``kw``, ``sh``, ``sw``, ``in_pitch``, ``out_w``) in force,
        None while unknown (set by an earlier program).
    """

    def __init__(self, builder: "_Builder", *, fresh: bool):
        self.b = builder
        self.pool = dict(kh=1, kw=1, sh=1, sw=1, in_pitch=1, out_w=1) if fresh else None

    def config_pool(self) -> None:
        """A random small window (sometimes 1-wide, sometimes overlapping, any pitch)."""
        rng = self.b.rng
        kh, kw = rng.choice([1, 2, 2, 3]), rng.choice([1, 2, 2, 3])
        geometry = dict(kh=kh, kw=kw, sh=rng.choice([1, kh, 2]), sw=rng.choice([1, kw, 2]),
                        out_w=rng.randint(1, 4))
        geometry["in_pitch"] = rng.choice([(geometry["out_w"] - 1) * geometry["sw"] + kw,
                                           rng.randint(0, 8)])
        self.b.out.append(encode("config_pool", mode=rng.randint(0, 1), **geometry))
        self.pool = geometry

    def config_pool_avg(self) -> None:
        rng = self.b.rng
        self.b.out.append(encode("config_pool_avg", multiplier=rng.choice(
            [1, rng.randrange(1 << 16), rng.randrange(1 << 31)]), shift=rng.randint(0, 40),
            zero_point=rng.randint(-20, 20)))

    def store_pool(self) -> None:
        """A legal STORE_POOL (a CONFIG_POOL first when the window is unknown or by chance)."""
        b, rng, cfg = self.b, self.b.rng, self.b.cfg
        if self.pool is None or rng.random() < 0.4:
            self.config_pool()
            if rng.random() < 0.5:
                self.config_pool_avg()
        rows = b.rows(2 * self.pool["out_w"] + 1)
        last = pool_last_row(rows, **self.pool)
        if last >= cfg.acc_rows:
            return
        acc_addr = b.row_addr(b.acc_pool, cfg.acc_rows, last + 1)
        cols = rng.randint(1, cfg.cols)
        stride = b.stride(cols * cfg.in_bytes)
        block = b.mem_block(rows, cols * cfg.in_bytes, stride)
        if block < 0:
            return
        b.set_stride(False, stride)
        b.out.append(encode("store_pool", mem_addr=block, acc_addr=acc_addr, rows=rows,
                            cols=cols))

    def failing(self, cause: ErrorCause) -> bool:
        """Append a STORE_POOL failing with ``cause`` (after a CONFIG_POOL that makes its
        earlier checks pass); False when the configuration cannot provoke it."""
        b, rng, cfg = self.b, self.b.rng, self.b.cfg
        self.config_pool()
        rows = rng.randint(1, 2 * self.pool["out_w"])
        last = pool_last_row(rows, **self.pool)
        if cause == ErrorCause.SHAPE:
            if cfg.cols >= 256:
                return False
            b.out.append(encode("store_pool", mem_addr=0, acc_addr=0, rows=rows,
                                cols=rng.randint(cfg.cols + 1, min(cfg.cols + 4, 256))))
        elif cause == ErrorCause.ACC_RANGE:   # the last window reaches past the accumulator
            acc_addr = min(cfg.acc_rows - last + rng.randint(0, 2), 0xFFFF)
            if acc_addr + last < cfg.acc_rows:
                return False
            b.out.append(encode("store_pool", mem_addr=0, acc_addr=acc_addr, rows=rows,
                                cols=rng.randint(1, cfg.cols)))
        elif cause == ErrorCause.MEM_RANGE:   # the pooled rows end past the addressable memory
            if last >= cfg.acc_rows:
                return False
            cols = rng.randint(1, cfg.cols)
            b.set_stride(False, cols * cfg.in_bytes)
            span = rows * cols * cfg.in_bytes
            mem_addr = cfg.mem_size_limit - rng.randint(1, max(1, span - 1))
            if mem_addr > 0xFFFF_FFFF or span < 2:
                return False
            b.out.append(encode("store_pool", mem_addr=mem_addr, acc_addr=0, rows=rows,
                                cols=cols))
        else:
            return False
        return True
