"""The golden model's pooling registers and STORE_POOL (fused pooling in the store path).

A mixin of `accel.golden.model.GoldenModel`: it uses the model's checks, its activation
(``_activate``, exactly STORE_ACT's) and its main-memory writes, and adds the instructions
CONFIG_POOL, CONFIG_POOL_AVG and STORE_POOL.
"""

from __future__ import annotations

from accel.golden.arith import pool_avg, pool_last_row, pool_max, pool_rows
from accel.isa.spec import Counter

__all__ = ["PoolingUnit", "POOL_MAX", "POOL_AVG"]

#: Values of CONFIG_POOL's ``mode`` field.
POOL_MAX, POOL_AVG = 0, 1


class PoolingUnit:
    """Pooling state and handlers mixed into the golden model.

    Members
    -------
    pool_kh, pool_kw, pool_sh, pool_sw : int
        Window height, width and strides (input pixels), 1..16.
    pool_mode : int
        `POOL_MAX` or `POOL_AVG`.
    pool_in_pitch : int
        Accumulator rows between vertically adjacent input pixels.
    pool_out_w : int
        Pooled pixels per pooled row.
    pool_multiplier, pool_shift, pool_zero_point : int
        Requantization of the average (CONFIG_POOL_AVG).
    """

    def reset_pooling(self) -> None:
        """Reset the pooling registers (STORE_POOL then equals STORE_ACT)."""
        self.pool_kh = self.pool_kw = self.pool_sh = self.pool_sw = 1
        self.pool_mode = POOL_MAX
        self.pool_in_pitch = 1
        self.pool_out_w = 1
        self.pool_multiplier, self.pool_shift, self.pool_zero_point = 1, 0, 0

    @property
    def pool_geometry(self) -> dict[str, int]:
        """The window settings as keyword arguments of `pool_rows` / `pool_last_row`."""
        return dict(out_w=self.pool_out_w, kh=self.pool_kh, kw=self.pool_kw, sh=self.pool_sh,
                    sw=self.pool_sw, in_pitch=self.pool_in_pitch)

    def _op_config_pool(self, kh: int, kw: int, sh: int, sw: int, mode: int, in_pitch: int,
                        out_w: int) -> None:
        self.pool_kh, self.pool_kw, self.pool_sh, self.pool_sw = kh, kw, sh, sw
        self.pool_mode, self.pool_in_pitch, self.pool_out_w = mode, in_pitch, out_w

    def _op_config_pool_avg(self, multiplier: int, shift: int, zero_point: int) -> None:
        self.pool_multiplier, self.pool_shift, self.pool_zero_point = multiplier, shift, \
            zero_point

    def _op_store_pool(self, mem_addr: int, acc_addr: int, rows: int, cols: int) -> None:
        cfg = self.config
        self._check_count("cols", cols, cfg.cols)
        self._check_rows("acc", acc_addr, pool_last_row(rows, **self.pool_geometry) + 1)
        window = self.acc[acc_addr + pool_rows(rows, **self.pool_geometry), :cols]
        values = self._activate(window)  # (rows, kh * kw, cols)
        if self.pool_mode == POOL_MAX:
            out = pool_max(values)
        else:
            out = pool_avg(values, act_zero_point=self.act_zero_point,
                           multiplier=self.pool_multiplier, shift=self.pool_shift,
                           zero_point=self.pool_zero_point, out_width=cfg.input_width)
        self.write_block(mem_addr, out, self.store_stride, cfg.in_bytes)
        self.counters[Counter.STORE_BYTES] += rows * cols * cfg.in_bytes


