"""The dispatcher's architectural registers: their layout, reset values and updates.

The registers hold what later instructions refer to: the transfer strides, the activation
settings, the B operand selected by PRELOAD and the DMA window. The sticky error is separate
(`ERROR_LAYOUT`): it is also set by unit completions, not only by executed instructions.
"""

from amaranth import Module, unsigned
from amaranth.lib import data

from accel.arch.microarch import STRIDE_BITS
from accel.config import AccelConfig
from accel.control.activation import ActivationParams
from accel.control.layouts import COUNT_BITS, POSITION_BITS, ROW_ADDR_BITS
from accel.isa.decoder import Op
from accel.isa.spec import ErrorCause

__all__ = ["WEIGHTS_LAYOUT", "ERROR_LAYOUT", "window_layout", "registers_layout",
           "registers_init", "update_registers"]

#: The B operand selected by the last PRELOAD. ``dirty``: the next COMPUTE must re-read its rows
#: (the operand changed, or a load wrote some of them, since the previous COMPUTE).
WEIGHTS_LAYOUT = data.StructLayout({
    "valid": 1, "b_addr": unsigned(ROW_ADDR_BITS), "k": unsigned(COUNT_BITS),
    "n": unsigned(COUNT_BITS), "dirty": 1,
})

#: The sticky error: its cause, the codes of the instruction that set it and ERROR_INDEX (the
#: position of the EXEC_BUFFER record that set it; 0 for a command from the core).
ERROR_LAYOUT = data.StructLayout({"cause": ErrorCause, "funct7": 7, "funct3": 3,
                                  "index": unsigned(POSITION_BITS)})


def window_layout(config: AccelConfig) -> data.StructLayout:
    """The DMA window: inclusive byte addresses ``base``..``last``, and whether it is locked."""
    return data.StructLayout({"base": unsigned(config.mem_addr_width),
                              "last": unsigned(config.mem_addr_width), "locked": 1})


def registers_layout(config: AccelConfig) -> data.StructLayout:
    """All architectural registers of the dispatcher."""
    return data.StructLayout({
        "load_stride": unsigned(STRIDE_BITS), "store_stride": unsigned(STRIDE_BITS),
        "act": ActivationParams, "weights": WEIGHTS_LAYOUT, "window": window_layout(config),
    })


def registers_init(config: AccelConfig) -> dict:
    """Reset values: unit multiplier, no B operand, the window spanning all memory."""
    return {"act": {"multiplier": 1}, "weights": {"dirty": 1},
            "window": {"last": config.mem_size_limit - 1}}


def update_registers(m: Module, regs, op, ops, sp_written) -> None:
    """Apply one executed instruction to ``regs``; call inside ``m.If(<it executes now>)``.

    ``sp_written`` is the scratchpad row range (``lo``, ``hi``) the instruction writes, empty
    for all but loads to the scratchpad.
    """
    weights = regs.weights
    with m.Switch(op):
        with m.Case(Op.CONFIG_LOAD):
            m.d.sync += regs.load_stride.eq(ops.stride)
        with m.Case(Op.CONFIG_STORE):
            m.d.sync += regs.store_stride.eq(ops.stride)
        with m.Case(Op.CONFIG_WINDOW):
            m.d.sync += [regs.window.base.eq(ops.base), regs.window.last.eq(ops.last)]
        with m.Case(Op.LOCK_WINDOW):
            m.d.sync += regs.window.locked.eq(1)
        with m.Case(Op.CONFIG_ACT):
            m.d.sync += [regs.act.multiplier.eq(ops.multiplier), regs.act.shift.eq(ops.shift),
                         regs.act.relu.eq(ops.act == 1),
                         regs.act.zero_point.eq(ops.zero_point), regs.act.per_channel.eq(0)]
        with m.Case(Op.CONFIG_ACT_CHANNELS):
            # the per-column multipliers and shifts live in the store unit, which loads them
            m.d.sync += [regs.act.relu.eq(ops.act == 1), regs.act.zero_point.eq(ops.zero_point),
                         regs.act.per_channel.eq(1)]
        with m.Case(Op.PRELOAD):
            m.d.sync += [weights.valid.eq(1), weights.b_addr.eq(ops.b_addr),
                         weights.k.eq(ops.k), weights.n.eq(ops.n)]
            with m.If(~weights.valid | (weights.b_addr != ops.b_addr) | (weights.k != ops.k)
                      | (weights.n != ops.n)):
                m.d.sync += weights.dirty.eq(1)
        with m.Case(Op.COMPUTE, Op.COMPUTE_ACC):
            m.d.sync += weights.dirty.eq(0)
    # A load writing rows of the selected B operand forces the next COMPUTE to re-read it.
    with m.If((sp_written.lo < sp_written.hi) & (sp_written.lo < weights.b_addr + weights.k)
              & (weights.b_addr < sp_written.hi)):
        m.d.sync += weights.dirty.eq(1)
