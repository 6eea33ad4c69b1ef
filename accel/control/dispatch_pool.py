"""The last accumulator row a STORE_POOL reads, for the dispatcher's ACC_RANGE check and its
scoreboard range.

The row is ``acc_addr + (oy_last * sh + kh - 1) * in_pitch + ox_last * sw + kw - 1`` with
``oy_last = (rows - 1) // out_w`` and ``ox_last = min(rows, out_w) - 1`` (the ISA's formula,
`accel.golden.arith.pool_last_row`). The quotient comes from a restoring divider, one bit per
cycle, so no wide combinational divider sits in the dispatcher's path: a STORE_POOL waits
`accel.arch.microarch.POOL_CHECK_CYCLES` cycles in the dispatcher before it can fire.
"""

from amaranth import Module, Mux, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from accel.arch.microarch import COUNT_BITS, POOL_CHECK_CYCLES, ROW_ADDR_BITS
from accel.control.pooling import PoolParams

__all__ = ["PoolExtent", "EXTENT_BITS"]

#: Bits of the last row: a 16-bit address plus (255 * 16 + 15) * 65535 + 255 * 16 + 15.
EXTENT_BITS = 30
_QUOTIENT_BITS = COUNT_BITS - 1         # (rows - 1) is 0..255

assert POOL_CHECK_CYCLES == _QUOTIENT_BITS + 2   # load, one cycle per bit, the product


class PoolExtent(wiring.Component):
    """Computes the last accumulator row of the STORE_POOL being dispatched.

    While ``run`` is high and no result is held, it starts (one cycle: load), divides (one
    cycle per quotient bit) and forms the row (one cycle); then ``valid`` is high and ``last``
    holds the row of the ``acc_addr``, ``rows`` and ``params`` present while it ran (the
    caller holds them). ``clear`` drops the result (the instruction fired).

    Members
    -------
    run, clear : In(1)
    acc_addr : In(ROW_ADDR_BITS)
    rows : In(COUNT_BITS)
        1..256.
    params : In(PoolParams)
    valid : Out(1)
    last : Out(EXTENT_BITS)
    """

    run: In(1)
    clear: In(1)
    acc_addr: In(ROW_ADDR_BITS)
    rows: In(COUNT_BITS)
    params: In(PoolParams)
    valid: Out(1)
    last: Out(EXTENT_BITS)

    def elaborate(self, platform) -> Module:
        m = Module()
        par = self.params
        busy = Signal()
        step = Signal(range(_QUOTIENT_BITS + 1))
        dividend = Signal(_QUOTIENT_BITS)       # shifted out MSB first
        remainder = Signal(COUNT_BITS + 1)
        quotient = Signal(_QUOTIENT_BITS)

        trial = Signal(COUNT_BITS + 1)
        m.d.comb += trial.eq((remainder << 1) | dividend[-1])
        fits = trial >= par.out_w
        with m.If(self.clear):
            m.d.sync += [self.valid.eq(0), busy.eq(0)]
        with m.Elif(self.run & ~self.valid & ~busy):
            m.d.sync += [busy.eq(1), step.eq(0), dividend.eq(self.rows - 1), remainder.eq(0)]
        with m.Elif(busy & (step != _QUOTIENT_BITS)):
            m.d.sync += [remainder.eq(Mux(fits, trial - par.out_w, trial)),
                         quotient.eq((quotient << 1) | fits),
                         dividend.eq(dividend << 1), step.eq(step + 1)]
        with m.Elif(busy):
            ox_last = Mux(self.rows < par.out_w, self.rows, par.out_w) - 1
            rows_down = quotient * par.sh + par.kh - 1
            m.d.sync += [
                self.last.eq(self.acc_addr + rows_down * par.in_pitch + ox_last * par.sw
                             + par.kw - 1),
                self.valid.eq(1), busy.eq(0)]
        return m

