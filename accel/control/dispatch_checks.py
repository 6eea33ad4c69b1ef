"""The dispatcher's checks: why an instruction fails, in the golden model's order.

`check_table` lists, per instruction, the failure conditions in priority order, each with the
`ErrorCause` it reports; `first_failure` turns the table into logic. The golden model
(`accel.golden.model`) raises the same causes in the same order, so the hardware and the model
agree on the cause of every failing instruction.
"""

from amaranth import Module, Signal

from accel.config import AccelConfig
from accel.control.dispatch_ops import COMPUTES, LOADS, STORES, a_rows
from accel.isa.decoder import Op
from accel.isa.spec import RECORD_BYTES, Counter, ErrorCause

__all__ = ["check_table", "first_failure"]


def _window_invalid(config: AccelConfig, ops):
    """A CONFIG_WINDOW operand that is not a non-empty range of whole bus words in memory."""
    invalid = (ops.base > ops.last) | (ops.last >= config.mem_size_limit)
    granule_bits = (config.bus_bytes - 1).bit_length()
    if granule_bits:
        invalid |= (ops.base[:granule_bits] != 0) | ~ops.last[:granule_bits].all()
    return invalid


def check_table(config: AccelConfig, ops, regs, mem_end) -> dict:
    """``{op: [(failure condition, cause), ...]}``, conditions in priority order.

    Parameters
    ----------
    config : AccelConfig
    ops : View of OPERANDS_LAYOUT
        The decoded operands.
    regs : View of `accel.control.dispatch_registers.registers_layout`
    mem_end : Value
        One past the last main-memory byte of a transfer (`dispatch_ops.transfer_end`).
    """
    rows, cols = ops.rows, ops.cols
    sp_rows, acc_rows = config.sp_rows, config.acc_rows
    window = regs.window
    mem_bad = mem_end > (1 << config.mem_addr_width)
    window_bad = (ops.mem_addr < window.base) | (mem_end > window.last + 1)
    bad_counter = ops.counter >= len(Counter)
    buffer_end = ops.mem_addr + ops.count * RECORD_BYTES
    # Row blocks: scratchpad rows of up to `dim` elements, accumulator rows of up to `cols`.
    sp_block = [(cols > config.dim, ErrorCause.SHAPE),
                (ops.sp_addr + rows > sp_rows, ErrorCause.SP_RANGE)]
    acc_block = [(cols > config.cols, ErrorCause.SHAPE),
                 (ops.acc_addr + rows > acc_rows, ErrorCause.ACC_RANGE)]
    table = {
        Op.LOAD_SP: sp_block,
        Op.LOAD_SP_T: [(rows > config.dim, ErrorCause.SHAPE),   # transposed: cols rows
                       (ops.sp_addr + cols > sp_rows, ErrorCause.SP_RANGE)],
        Op.LOAD_ACC: acc_block,
        Op.STORE_SP: sp_block,
        Op.STORE_ACC: acc_block,
        Op.STORE_ACT: acc_block,
        Op.CONFIG_ACT_CHANNELS: [(ops.acc_addr + 2 > acc_rows, ErrorCause.ACC_RANGE)],
        Op.PRELOAD: [(ops.k > config.tile_limits[1], ErrorCause.SHAPE),
                     (ops.n > config.cols, ErrorCause.SHAPE),
                     (ops.b_addr + ops.k > sp_rows, ErrorCause.SP_RANGE)],
        Op.CONFIG_WINDOW: [(window.locked, ErrorCause.WINDOW_LOCKED),
                           (_window_invalid(config, ops), ErrorCause.WINDOW_INVALID)],
        Op.EXEC_BUFFER: [((ops.mem_addr[:2] != 0) | (buffer_end > (1 << config.mem_addr_width)),
                          ErrorCause.MEM_RANGE),
                         ((ops.mem_addr < window.base) | (buffer_end > window.last + 1),
                          ErrorCause.MEM_WINDOW)],
        Op.READ_COUNTER: [(bad_counter, ErrorCause.ILLEGAL_INSTRUCTION)],
        Op.READ_COUNTER_HI: [(bad_counter, ErrorCause.ILLEGAL_INSTRUCTION)],
    }
    for transfer in list(LOADS) + list(STORES):    # new lists: the blocks above are shared
        table[transfer] = [*table[transfer], (mem_bad, ErrorCause.MEM_RANGE),
                           (window_bad, ErrorCause.MEM_WINDOW)]
    for compute in COMPUTES:
        table[compute] = [(~regs.weights.valid, ErrorCause.NO_WEIGHTS),
                          (ops.m > config.tile_limits[0], ErrorCause.SHAPE),
                          (ops.a_addr + a_rows(config, ops, regs) > sp_rows, ErrorCause.SP_RANGE),
                          (ops.c_addr + ops.m > acc_rows, ErrorCause.ACC_RANGE)]
    return table


def first_failure(m: Module, op, table: dict) -> tuple[Signal, Signal]:
    """``(fail, cause)``: whether ``op`` fails its first failing check of ``table`` (or is
    ``Op.ILLEGAL``), and that check's cause."""
    fail = Signal()
    cause = Signal(ErrorCause)
    with m.Switch(op):
        with m.Case(Op.ILLEGAL):
            m.d.comb += [fail.eq(1), cause.eq(ErrorCause.ILLEGAL_INSTRUCTION)]
        for checked, rules in table.items():
            with m.Case(checked):
                for index, (bad, rule_cause) in enumerate(rules):
                    with (m.If if index == 0 else m.Elif)(bad):
                        m.d.comb += [fail.eq(1), cause.eq(rule_cause)]
    return fail, cause
