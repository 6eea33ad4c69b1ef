"""The scoreboard's hazard rule, on decoded commands (mirrors `accel.control.scoreboard`).

A command touches half-open ranges of scratchpad rows, accumulator rows and main-memory bytes.
A new command of one unit waits while an in-flight command of another unit writes a range it
reads or writes, or reads a range it writes. Which ranges each unit's commands carry is the
scoreboard's own `TRACKED` table.
"""

from __future__ import annotations

from accel.control.scoreboard import TRACKED

__all__ = ["Ranges", "command_ranges", "conflicts"]

#: One command's ranges: name (as in `accel.control.scoreboard.ranges_layout`) -> (lo, hi).
Ranges = dict[str, tuple[int, int]]

_READS = {"sp": ("sp_r", "sp_r2"), "acc": ("acc_r",), "mem": ("mem_r",)}
_WRITES = {"sp": ("sp_w",), "acc": ("acc_w",), "mem": ("mem_w",)}


def command_ranges(name: str, ops: dict[str, int], *, stride: int, elem_bytes: int,
                   weights: tuple[int, int], a_rows: int) -> Ranges:
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
    elif name in ("compute", "compute_acc"):
        b_addr, k = weights
        out["sp_r"] = (ops["a_addr"], ops["a_addr"] + a_rows)
        out["sp_r2"] = (b_addr, b_addr + k)
        out["acc_w"] = (ops["c_addr"], ops["c_addr"] + ops["m"])
    return out


def _pairs(new_unit: str, old_unit: str) -> tuple[tuple[str, str], ...]:
    """(new range, old range) pairs that conflict when they overlap."""
    pairs = []
    new_has, old_has = TRACKED[new_unit], TRACKED[old_unit]
    for space in ("sp", "acc", "mem"):
        for w in _WRITES[space]:
            if w in new_has:  # a new write waits for every old access
                pairs += [(w, o) for o in _READS[space] + _WRITES[space] if o in old_has]
        for r in _READS[space]:
            if r in new_has:  # a new read waits for old writes
                pairs += [(r, o) for o in _WRITES[space] if o in old_has]
    return tuple(pairs)


_PAIRS = {(new, old): _pairs(new, old) for new in TRACKED for old in TRACKED if new != old}


def conflicts(new: Ranges, new_unit: str, old: Ranges, old_unit: str) -> bool:
    """Whether a new command of ``new_unit`` must wait for an in-flight one of ``old_unit``
    (units as in `accel.control.scoreboard.UNITS`)."""
    if new_unit == old_unit:
        return False
    for a, b in _PAIRS[new_unit, old_unit]:
        x, y = new.get(a), old.get(b)
        if x is not None and y is not None and x[0] < y[1] and y[0] < x[1] \
                and x[0] < x[1] and y[0] < y[1]:
            return True
    return False
