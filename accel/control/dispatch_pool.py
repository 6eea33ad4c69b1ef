"""The last accumulator row a STORE_POOL reads, for the dispatcher's ACC_RANGE check and its
scoreboard range.

The row is ``acc_addr + (oy_last * sh + kh - 1) * in_pitch + ox_last * sw + kw - 1`` with
``oy_last = (rows - 1) // out_w`` and ``ox_last = min(rows, out_w) - 1`` (the ISA's formula,
`accel.golden.arith.pool_last_row`). The quotient comes from a restoring divider that forms
`BITS_PER_STEP` bits per cycle, so no 8-stage combinational divider sits in the dispatcher's
path: a STORE_POOL waits `accel.arch.microarch.POOL_CHECK_CYCLES` cycles in the dispatcher
before it can fire.
"""

from amaranth import Cat, Module, Mux, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from accel.arch.microarch import COUNT_BITS, POOL_CHECK_CYCLES, ROW_ADDR_BITS
from accel.control.pooling import PoolParams

__all__ = ["PoolExtent", "EXTENT_BITS", "BITS_PER_STEP"]

#: Bits of the last row: a 16-bit address plus (255 * 16 + 15) * 65535 + 255 * 16 + 15.
EXTENT_BITS = 30
_QUOTIENT_BITS = COUNT_BITS - 1         # (rows - 1) is 0..255
#: Quotient bits the divider forms per cycle (restoring steps chained in one cycle).
BITS_PER_STEP = 4
_STEPS = -(-_QUOTIENT_BITS // BITS_PER_STEP)

assert POOL_CHECK_CYCLES == _STEPS + 1      # the division steps, the product


class PoolExtent(wiring.Component):
    """Computes the last accumulator row of the STORE_POOL being dispatched.

    While ``run`` is high and no result is held, it divides (`BITS_PER_STEP` quotient bits
    per cycle, from the first cycle of ``run``) and forms the row (one cycle); then ``valid`` is high and ``last``
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
        busy = Signal()                             # dividing or forming the row
        step = Signal(range(_STEPS + 1))
        remainder = Signal(COUNT_BITS)              # < out_w <= 256
        quotient = Signal(_STEPS * BITS_PER_STEP)
        dividend = Signal(_STEPS * BITS_PER_STEP)   # rows - 1, held by the caller
        m.d.comb += dividend.eq(self.rows - 1)

        # BITS_PER_STEP restoring steps, chained: each shifts in the next dividend bit (MSB
        # first; the chunk of this step) and subtracts out_w when it fits.
        chunks = [dividend[len(dividend) - (k + 1) * BITS_PER_STEP:
                           len(dividend) - k * BITS_PER_STEP] for k in range(_STEPS)]
        chunk = Signal(BITS_PER_STEP)
        with m.Switch(step):
            for k, bits_k in enumerate(chunks):
                with m.Case(k):
                    m.d.comb += chunk.eq(bits_k)
        rem, bits = Mux(busy, remainder, 0), []
        for k in range(BITS_PER_STEP):
            trial = Signal(COUNT_BITS + 1, name=f"trial{k}")
            m.d.comb += trial.eq((rem << 1) | chunk[-1 - k])
            fits = Signal(name=f"fits{k}")
            m.d.comb += fits.eq(trial >= par.out_w)
            rem = Mux(fits, trial - par.out_w, trial)[:COUNT_BITS]
            bits.append(fits)
        dividing = self.run & ~self.valid & (~busy | (step != _STEPS))
        with m.If(self.clear):
            m.d.sync += [self.valid.eq(0), busy.eq(0), step.eq(0)]
        with m.Elif(dividing):
            m.d.sync += [busy.eq(1), remainder.eq(rem), step.eq(step + 1),
                         quotient.eq(Cat(*reversed(bits), Mux(busy, quotient, 0)))]
        with m.Elif(busy):
            ox_last = Mux(self.rows < par.out_w, self.rows, par.out_w) - 1
            rows_down = quotient * par.sh + par.kh - 1
            m.d.sync += [
                self.last.eq(self.acc_addr + rows_down * par.in_pitch + ox_last * par.sw
                             + par.kw - 1),
                self.valid.eq(1), busy.eq(0), step.eq(0)]
        return m
