"""What the dispatcher hands to the load, execute and store units.

Unit commands are self-contained: the dispatcher resolves the architectural registers (strides,
activation settings, the preloaded B operand) at dispatch time, so a unit never looks at state
that a later instruction may already have changed. Count fields hold counts (1..256), not counts
minus one.
"""

from amaranth import unsigned
from amaranth.lib import data, enum

from accel.arch.microarch import COUNT_BITS, ROW_ADDR_BITS, STRIDE_BITS
from accel.control.activation import ActivationParams
from accel.config import AccelConfig

__all__ = ["LoadKind", "StoreKind", "DONE_LAYOUT", "DISPATCH_COMMAND_LAYOUT", "POSITION_BITS",
           "BUFFER_START_LAYOUT", "load_command_layout",
           "store_command_layout", "exec_command_layout", "COUNT_BITS", "ROW_ADDR_BITS"]


class LoadKind(enum.Enum, shape=2):
    """Which load instruction a load-unit command came from (value = its funct3)."""

    SP = 0
    SP_T = 1
    ACC = 2


class StoreKind(enum.Enum, shape=2):
    """Which store-unit instruction a store-unit command came from (value = its funct3).

    ``CHANNELS`` (``config_act_channels``) moves no data: it loads the per-column activation
    registers from accumulator rows ``addr`` and ``addr + 1``.
    """

    SP = 0
    ACC = 1
    ACT = 2
    CHANNELS = 3


#: A unit's completion report, one per command, in command order: ``err`` when a bus access of
#: the command failed, and the command's ``funct3`` (a LoadKind/StoreKind value, 0 for compute)
#: so that the status word can name the failing instruction.
DONE_LAYOUT = data.StructLayout({"err": 1, "funct3": 3})


#: Bits of an EXEC_BUFFER record position (1 + index, up to 65536) and of ERROR_INDEX.
POSITION_BITS = 17

#: What the dispatcher takes: a command (as on the command port) and where it came from.
#: ``position``: 0 for a command the core issued, 1 + its index for an EXEC_BUFFER record;
#: ``last``: the buffer's last record (its dispatch answers the core's EXEC_BUFFER); ``bad``: the
#: record's word is not a custom-0 R-type word with zero register fields; ``bus_err``: reading
#: a word of the record ended in a bus error.
DISPATCH_COMMAND_LAYOUT = data.StructLayout({
    "funct7": 7, "funct3": 3, "rs1": 32, "rs2": 32,
    "position": unsigned(POSITION_BITS), "last": 1, "bad": 1, "bus_err": 1,
})


#: The dispatcher's word to the command fetcher on a core command with EXEC_BUFFER's codes:
#: ``run`` when it executes, then fetch ``count`` records (1..65536) from byte ``addr``.
BUFFER_START_LAYOUT = data.StructLayout({"run": 1, "addr": 32, "count": unsigned(POSITION_BITS)})


def _transfer_fields(config: AccelConfig) -> dict:
    return {
        "mem_addr": unsigned(config.mem_addr_width),
        "stride": unsigned(STRIDE_BITS),
        "rows": unsigned(COUNT_BITS),
        "cols": unsigned(COUNT_BITS),
        "addr": unsigned(ROW_ADDR_BITS),
    }


def load_command_layout(config: AccelConfig) -> data.StructLayout:
    """A DMA load: ``rows`` x ``cols`` elements from ``mem_addr`` (row stride ``stride``) to
    scratchpad or accumulator rows starting at ``addr`` (transposed for ``SP_T``)."""
    return data.StructLayout({"kind": LoadKind, **_transfer_fields(config)})


def store_command_layout(config: AccelConfig) -> data.StructLayout:
    """A DMA store from scratchpad or accumulator rows at ``addr``; ``act`` holds the activation
    settings in force when the instruction was dispatched (used by ``ACT``). For ``CHANNELS``
    only ``kind`` and ``addr`` matter."""
    return data.StructLayout({"kind": StoreKind, **_transfer_fields(config),
                              "act": ActivationParams})


def exec_command_layout(config: AccelConfig) -> data.StructLayout:
    """One COMPUTE with its B operand resolved.

    Members
    -------
    a_addr, m, c_addr, accumulate :
        From the COMPUTE instruction (``accumulate`` for ``compute_acc``).
    b_addr, k, n :
        The B operand selected by the last PRELOAD.
    reload : 1
        The B rows must be read from the scratchpad again: the operand changed, or a load
        wrote some of its rows, since the previous COMPUTE. (Weight-stationary only; the
        output-stationary unit streams B every time.)
    """
    return data.StructLayout({
        "a_addr": unsigned(ROW_ADDR_BITS), "m": unsigned(COUNT_BITS),
        "c_addr": unsigned(ROW_ADDR_BITS), "accumulate": 1,
        "b_addr": unsigned(ROW_ADDR_BITS), "k": unsigned(COUNT_BITS), "n": unsigned(COUNT_BITS),
        "reload": 1,
    })


