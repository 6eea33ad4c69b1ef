"""The store unit's pooling datapath (STORE_POOL): the window walk and the window reduction.

`PoolWalk` generates the accumulator row addresses of STORE_POOL, one per read, in the golden
model's order (`accel.golden.arith.pool_rows`): pooled pixel by pooled pixel, each window row by
row. `PoolReduce` folds the activated rows of each window into one row: their maximum, or the
sum of ``v - act_zero_point`` that the store unit then requantizes with a second
`accel.control.activation.ActivationUnit` (the average's ``round_shift(sum * multiplier, shift)
+ zero_point``, saturated, is exactly that unit's function without ReLU).
"""

from amaranth import Module, Mux, Signal, signed, unsigned
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from accel.arch.microarch import COUNT_BITS, ROW_ADDR_BITS
from accel.isa.decoder import operand_shape
from accel.isa.spec import BY_NAME

__all__ = ["PoolParams", "POOL_INIT", "WINDOW_BITS", "sum_width", "PoolWalk", "PoolReduce"]

_CONFIG_POOL, _CONFIG_POOL_AVG = BY_NAME["config_pool"], BY_NAME["config_pool_avg"]

#: The CONFIG_POOL and CONFIG_POOL_AVG registers, decoded (window sizes and strides are
#: counts 1..16, ``out_w`` 1..256), as the dispatcher resolves them into each store command.
PoolParams = data.StructLayout({
    **{name: operand_shape(_CONFIG_POOL.field(name))
       for name in ("kh", "kw", "sh", "sw", "in_pitch", "out_w")},
    "avg": unsigned(1),
    **{name: operand_shape(_CONFIG_POOL_AVG.field(name))
       for name in ("multiplier", "shift", "zero_point")},
})

#: Reset values of `PoolParams` (STORE_POOL then equals STORE_ACT).
POOL_INIT = {"kh": 1, "kw": 1, "sh": 1, "sw": 1, "in_pitch": 1, "out_w": 1, "multiplier": 1}

#: Bits of a window's element count ``kh * kw`` (1..256).
WINDOW_BITS = 9


def sum_width(out_width: int) -> int:
    """Bits of a window sum of ``v - act_zero_point``: the difference of an ``out_width``-bit
    value and a 16-bit zero point needs ``max(out_width, 16) + 1`` bits, and 256 of them 8
    more."""
    zero_point_bits = PoolParams["zero_point"].shape.width
    return max(out_width, zero_point_bits) + 1 + 8


class PoolWalk(wiring.Component):
    """Accumulator row addresses of one STORE_POOL, one per ``next``.

    On ``start`` it takes ``base`` (the instruction's ``acc_addr``), ``rows`` and ``params``;
    from the next cycle ``addr`` is the row of read number ``i`` (``i`` = the ``next`` pulses
    since), for pooled pixel ``p = i // (kh * kw)``, ``oy, ox = divmod(p, out_w)``, window
    element ``dy, dx = divmod(i % (kh * kw), kw)``::

        addr = base + (oy * sh + dy) * in_pitch + ox * sw + dx

    and ``done`` rises once ``rows * kh * kw`` reads have been taken. No multiplier sits in
    the address path: the walk adds strides (``sh * in_pitch`` is formed once, on ``start``).

    Members
    -------
    start : In(1)
    base : In(ROW_ADDR_BITS)
    rows : In(COUNT_BITS)
    params : In(PoolParams)
    next : In(1)
    addr : Out(ROW_ADDR_BITS)
    done : Out(1)
    """

    start: In(1)
    base: In(ROW_ADDR_BITS)
    rows: In(COUNT_BITS)
    params: In(PoolParams)
    next: In(1)
    addr: Out(ROW_ADDR_BITS)
    done: Out(1)

    def elaborate(self, platform) -> Module:
        m = Module()
        par = Signal(PoolParams)
        left = Signal(COUNT_BITS)                   # pooled pixels still to walk
        line_step = Signal(ROW_ADDR_BITS)           # sh * in_pitch (mod 2**16)
        ox = Signal(unsigned(8))
        dy = Signal(unsigned(4))
        dx = Signal(unsigned(4))
        line_base = Signal(ROW_ADDR_BITS)           # window origin of pixel (oy, 0)
        pix_base = Signal(ROW_ADDR_BITS)            # window origin of pixel (oy, ox)
        win_row = Signal(ROW_ADDR_BITS)             # first row of window row dy
        m.d.comb += [self.addr.eq(win_row + dx), self.done.eq(left == 0)]

        with m.If(self.start):
            m.d.sync += [par.eq(self.params), left.eq(self.rows), ox.eq(0), dy.eq(0), dx.eq(0),
                         line_base.eq(self.base), pix_base.eq(self.base), win_row.eq(self.base),
                         line_step.eq(self.params.sh * self.params.in_pitch)]
        with m.Elif(self.next):
            with m.If(dx != par.kw - 1):
                m.d.sync += dx.eq(dx + 1)
            with m.Else():
                m.d.sync += dx.eq(0)
                with m.If(dy != par.kh - 1):
                    m.d.sync += [dy.eq(dy + 1), win_row.eq(win_row + par.in_pitch)]
                with m.Else():
                    m.d.sync += [dy.eq(0), left.eq(left - 1)]
                    with m.If(ox != par.out_w - 1):
                        m.d.sync += [ox.eq(ox + 1), pix_base.eq(pix_base + par.sw),
                                     win_row.eq(pix_base + par.sw)]
                    with m.Else():
                        m.d.sync += [ox.eq(0), line_base.eq(line_base + line_step),
                                     pix_base.eq(line_base + line_step),
                                     win_row.eq(line_base + line_step)]
        return m


class PoolReduce(wiring.Component):
    """Fold every ``window`` consecutive activated rows into one row.

    Lane by lane, the output row of a window ``v[0] .. v[window - 1]`` is ``max(v)`` when
    ``avg`` is clear and ``sum(v - zero_point)`` when it is set (exact, ``sum_width(out_width)``
    bits; the maximum sign-extended). ``window``, ``avg`` and ``zero_point`` are held by the
    caller for the whole command; ``start`` forgets a partial window. An input row is taken
    whenever the output register is empty or being emptied, so the unit takes one row per cycle
    and its output follows a window's last row by one cycle (``o.valid`` is a register).

    Parameters
    ----------
    lanes : int
    out_width : int
        Bits of an activated element.

    Members
    -------
    start : In(1)
    window : In(WINDOW_BITS)
        Rows per window (1..256).
    avg : In(1)
    zero_point : In(signed(16))
        The activation's zero point, subtracted from every element of an average.
    i : In(stream.Signature(data.ArrayLayout(signed(out_width), lanes)))
    o : Out(stream.Signature(data.ArrayLayout(signed(sum_width(out_width)), lanes)))
    """

    def __init__(self, *, lanes: int, out_width: int) -> None:
        self.lanes = lanes
        self.width = sum_width(out_width)
        super().__init__({
            "start": In(1),
            "window": In(WINDOW_BITS),
            "avg": In(1),
            "zero_point": In(PoolParams["zero_point"].shape),
            "i": In(stream.Signature(data.ArrayLayout(signed(out_width), lanes))),
            "o": Out(stream.Signature(data.ArrayLayout(signed(self.width), lanes))),
        })

    def elaborate(self, platform) -> Module:
        m = Module()
        count = Signal(WINDOW_BITS)                 # rows of the current window taken
        partial = Signal(data.ArrayLayout(signed(self.width), self.lanes))
        take = Signal()
        m.d.comb += [self.i.ready.eq(~self.o.valid | self.o.ready),
                     take.eq(self.i.valid & self.i.ready)]
        with m.If(self.o.valid & self.o.ready):
            m.d.sync += self.o.valid.eq(0)

        last = count == self.window - 1
        for n in range(self.lanes):
            x = self.i.payload[n]
            term = Signal(signed(self.width), name=f"term{n}")
            folded = Signal(signed(self.width), name=f"folded{n}")
            m.d.comb += [
                term.eq(Mux(self.avg, x - self.zero_point, x)),
                folded.eq(Mux(count == 0, term,
                              Mux(self.avg, partial[n] + term,
                                  Mux(term > partial[n], term, partial[n])))),
            ]
            with m.If(take):
                m.d.sync += partial[n].eq(folded)
                with m.If(last):
                    m.d.sync += self.o.payload[n].eq(folded)
        with m.If(take):
            m.d.sync += count.eq(Mux(last, 0, count + 1))
            with m.If(last):
                m.d.sync += self.o.valid.eq(1)
        with m.If(self.start):
            m.d.sync += count.eq(0)
        return m
