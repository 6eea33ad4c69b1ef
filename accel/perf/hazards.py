"""The scoreboard's hazard rule, on decoded commands.

A command touches half-open ranges of scratchpad rows, accumulator rows and main-memory bytes;
which pairs of ranges make a command wait is `accel.arch.hazards.conflict_pairs`, the rule the
dispatcher's scoreboard is built from.
"""

from __future__ import annotations

from accel.arch.hazards import UNITS, conflict_pairs
from accel.golden.arith import pool_last_row
from accel.isa.spec import Unit

__all__ = ["Ranges", "command_ranges", "conflicts"]

#: One command's ranges: name (as in `accel.arch.hazards.TRACKED`) -> (lo, hi).
Ranges = dict[str, tuple[int, int]]


def command_ranges(name: str, ops: dict[str, int], *, stride: int, elem_bytes: int,
                   weights: tuple[int, int], a_rows: int,
                   pool: dict[str, int] | None = None) -> Ranges:
    """The ranges of a load, store or compute, as the dispatcher computes them.

    Parameters
    ----------
    name : str
        Instruction mnemonic.
    ops : dict
        Decoded operands.
    stride : int
        The load or store stride in force.
    elem_bytes : int
        Bytes per main-memory element of this transfer.
    weights : (b_addr, k)
        The preloaded B operand (computes).
    a_rows : int
        Scratchpad rows of the A operand (computes: m in ws, k in os).
    pool : dict, optional
        The pooling window in force (STORE_POOL): keyword arguments of
        `accel.golden.arith.pool_last_row`.
    """
    out: Ranges = {}
    if name.startswith(("load", "store")):
        lo = ops["mem_addr"]
        hi = lo + (ops["rows"] - 1) * stride + ops["cols"] * elem_bytes
        out["mem_r" if name.startswith("load") else "mem_w"] = (lo, hi)
    if name == "load_sp":
        out["sp_w"] = (ops["sp_addr"], ops["sp_addr"] + ops["rows"])
    elif name == "load_sp_t":
        out["sp_w"] = (ops["sp_addr"], ops["sp_addr"] + ops["cols"])
    elif name == "load_acc":
        out["acc_w"] = (ops["acc_addr"], ops["acc_addr"] + ops["rows"])
    elif name == "store_sp":
        out["sp_r"] = (ops["sp_addr"], ops["sp_addr"] + ops["rows"])
    elif name in ("store_acc", "store_act"):
        out["acc_r"] = (ops["acc_addr"], ops["acc_addr"] + ops["rows"])
    elif name == "store_pool":              # every row up to the last window's last one
        out["acc_r"] = (ops["acc_addr"], ops["acc_addr"] + 1 + pool_last_row(ops["rows"], **pool))
    elif name == "config_act_channels":     # reads the multiplier and shift rows
        out["acc_r"] = (ops["acc_addr"], ops["acc_addr"] + 2)
    elif name in ("compute", "compute_acc"):
        b_addr, k = weights
        out["sp_r"] = (ops["a_addr"], ops["a_addr"] + a_rows)
        out["sp_r2"] = (b_addr, b_addr + k)
        out["acc_w"] = (ops["c_addr"], ops["c_addr"] + ops["m"])
    return out


_PAIRS = {(new, old): conflict_pairs(new, old) for new in UNITS for old in UNITS}


def conflicts(new: Ranges, new_unit: Unit, old: Ranges, old_unit: Unit) -> bool:
    """Whether a new command of ``new_unit`` must wait for an in-flight one of ``old_unit``
    (both among `accel.arch.hazards.UNITS`)."""
    for a, b in _PAIRS[new_unit, old_unit]:
        x, y = new.get(a), old.get(b)
        if x is not None and y is not None and x[0] < y[1] and y[0] < x[1] \
                and x[0] < x[1] and y[0] < y[1]:
            return True
    return False
