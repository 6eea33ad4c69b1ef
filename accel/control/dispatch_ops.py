"""What the dispatcher's parts share about instructions: groups and derived operand values."""

from amaranth import Module, Mux, Signal

from accel.config import AccelConfig, Dataflow
from accel.control.layouts import LoadKind, StoreKind
from accel.isa.decoder import Op

__all__ = ["LOADS", "STORES", "STORE_UNIT", "COMPUTES", "is_op", "elem_bytes", "a_rows",
           "transfer_end"]

#: Load instructions, with the load-unit command kind each becomes.
LOADS = {Op.LOAD_SP: LoadKind.SP, Op.LOAD_SP_T: LoadKind.SP_T, Op.LOAD_ACC: LoadKind.ACC}
#: Store instructions, with the store-unit command kind each becomes.
STORES = {Op.STORE_SP: StoreKind.SP, Op.STORE_ACC: StoreKind.ACC, Op.STORE_ACT: StoreKind.ACT,
          Op.STORE_POOL: StoreKind.POOL}
#: Everything the store unit runs: the stores and CONFIG_ACT_CHANNELS (no main-memory access).
STORE_UNIT = {**STORES, Op.CONFIG_ACT_CHANNELS: StoreKind.CHANNELS}
#: Instructions run by the execute unit.
COMPUTES = (Op.COMPUTE, Op.COMPUTE_ACC)


def is_op(op, *codes):
    """Whether the decoded ``op`` is any of ``codes`` (a 1-bit value; 0 for no codes)."""
    hit = 0
    for code in codes:
        hit = hit | (op == code)
    return hit


def elem_bytes(config: AccelConfig, op):
    """Bytes per main-memory element of a transfer: accumulator width for ``*_acc``."""
    return Mux(is_op(op, Op.LOAD_ACC, Op.STORE_ACC), config.acc_bytes, config.in_bytes)


def a_rows(config: AccelConfig, ops, regs):
    """Scratchpad rows of a COMPUTE's A operand: ``m`` (ws) or the preloaded ``k`` (os)."""
    return ops.m if config.dataflow is Dataflow.WS else regs.weights.k


def transfer_end(m: Module, config: AccelConfig, op, ops, regs) -> Signal:
    """One past the last main-memory byte a load or store touches (exact, never wraps)."""
    end = Signal(max(config.mem_addr_width, 32) + 10, name="mem_end")
    stride = Mux(is_op(op, *STORES), regs.store_stride, regs.load_stride)
    m.d.comb += end.eq(ops.mem_addr + (ops.rows - 1) * stride + ops.cols * elem_bytes(config, op))
    return end
