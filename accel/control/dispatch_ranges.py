"""The storage ranges an instruction touches, for the dispatcher's `Scoreboard`.

Scratchpad and accumulator ranges are rows, main-memory ranges bytes, all half-open
``[lo, hi)``; a range an instruction does not touch stays empty (``lo == hi == 0``).
"""

from amaranth import Module, Signal

from accel.config import AccelConfig
from accel.control.dispatch_ops import COMPUTES, LOADS, STORES, a_rows, is_op
from accel.control.scoreboard import ranges_layout
from accel.isa.decoder import Op
from accel.isa.spec import RECORD_BYTES

__all__ = ["command_ranges"]


def command_ranges(m: Module, config: AccelConfig, op, ops, regs, mem_end) -> Signal:
    """A ``Signal(ranges_layout(config))`` holding the ranges of the decoded instruction.

    ``regs`` are the dispatcher's registers (the preloaded B operand of a COMPUTE), ``mem_end``
    is one past a transfer's last byte (`accel.control.dispatch_ops.transfer_end`).
    """
    new = Signal(ranges_layout(config))
    weights = regs.weights

    def span(rng, lo, count):
        return [rng.lo.eq(lo), rng.hi.eq(lo + count)]

    with m.Switch(op):
        with m.Case(Op.LOAD_SP):
            m.d.comb += span(new.sp_w, ops.sp_addr, ops.rows)
        with m.Case(Op.LOAD_SP_T):
            m.d.comb += span(new.sp_w, ops.sp_addr, ops.cols)
        with m.Case(Op.LOAD_ACC):
            m.d.comb += span(new.acc_w, ops.acc_addr, ops.rows)
        with m.Case(Op.STORE_SP):
            m.d.comb += span(new.sp_r, ops.sp_addr, ops.rows)
        with m.Case(Op.STORE_ACC, Op.STORE_ACT):
            m.d.comb += span(new.acc_r, ops.acc_addr, ops.rows)
        with m.Case(Op.CONFIG_ACT_CHANNELS):
            m.d.comb += span(new.acc_r, ops.acc_addr, 2)
        with m.Case(Op.EXEC_BUFFER):       # its records are read like a load's bytes
            m.d.comb += [new.mem_r.lo.eq(ops.mem_addr),
                         new.mem_r.hi.eq(ops.mem_addr + ops.count * RECORD_BYTES)]
        with m.Case(*COMPUTES):
            m.d.comb += [*span(new.sp_r, ops.a_addr, a_rows(config, ops, regs)),
                         *span(new.sp_r2, weights.b_addr, weights.k),
                         *span(new.acc_w, ops.c_addr, ops.m)]
    with m.If(is_op(op, *LOADS)):
        m.d.comb += [new.mem_r.lo.eq(ops.mem_addr), new.mem_r.hi.eq(mem_end)]
    with m.If(is_op(op, *STORES)):
        m.d.comb += [new.mem_w.lo.eq(ops.mem_addr), new.mem_w.hi.eq(mem_end)]
    return new
