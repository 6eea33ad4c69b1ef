"""Hazard tracking between the load, execute and store units.

Each unit executes its commands in order, so commands of one unit never need checking against
each other. Across units, the dispatcher holds back a command while it touches a scratchpad,
accumulator or main-memory range that an in-flight command of another unit writes (or, for a
writing command, reads or writes). That keeps the result of every program equal to executing it
one instruction at a time, while loads, computes and stores to disjoint ranges overlap freely.

Ranges are half-open ``[lo, hi)`` row (or byte) intervals; an empty range (``lo == hi``)
conflicts with nothing. Strided main-memory blocks are represented by their bounding interval,
which is conservative (it may hold a command back a little longer, never too little).
"""

from amaranth import Module, Mux, Signal, unsigned
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from accel.arch.hazards import TRACKED, UNITS, conflict_pairs
from accel.arch.microarch import ROW_RANGE_BITS, UNIT_QUEUE_DEPTH
from accel.config import AccelConfig

__all__ = ["UNITS", "TRACKED", "ranges_layout", "Scoreboard"]


def _range(width: int) -> data.StructLayout:
    return data.StructLayout({"lo": unsigned(width), "hi": unsigned(width)})


def ranges_layout(config: AccelConfig) -> data.StructLayout:
    """Every range a command can touch: scratchpad and accumulator rows, main-memory bytes."""
    row = _range(ROW_RANGE_BITS)
    mem = _range(config.mem_addr_width + 1)
    return data.StructLayout({"sp_w": row, "sp_r": row, "sp_r2": row, "acc_w": row,
                              "acc_r": row, "mem_r": mem, "mem_w": mem})


def _overlap(a, b):
    return (a.lo < b.hi) & (b.lo < a.hi) & (a.lo < a.hi) & (b.lo < b.hi)


def _conflicts(new, new_unit, old, old_unit):
    """Whether a new command of ``new_unit`` must wait for an in-flight one of ``old_unit``."""
    hit = 0
    for a, b in conflict_pairs(new_unit, old_unit):
        hit = hit | _overlap(getattr(new, a), getattr(old, b))
    return hit


class Scoreboard(wiring.Component):
    """In-flight commands of each unit, and whether a candidate command must wait.

    Parameters
    ----------
    config : AccelConfig
    depth : int
        Commands one unit may have in flight (queued or executing).

    Members
    -------
    new : In(ranges_layout(config))
        Ranges of the candidate command.
    new_unit : In(2)
        Index into `UNITS` of the candidate's unit.
    conflict : Out(1)
        The candidate overlaps an in-flight command of another unit (combinational).
    alloc : In(1)
        The candidate is dispatched this cycle: record it as in flight.
    retire : In(3)
        Bit ``i``: unit ``UNITS[i]`` completed its oldest command this cycle.
    full : Out(3)
        Bit ``i``: unit ``i`` has ``depth`` commands in flight.
    idle : Out(1)
        No command is in flight.
    """

    def __init__(self, config: AccelConfig, depth: int = UNIT_QUEUE_DEPTH):
        if not 1 <= depth <= 16:
            raise ValueError(f"depth must be between 1 and 16, not {depth!r}")
        self._config = config
        self._depth = depth
        super().__init__({
            "new": In(ranges_layout(config)),
            "new_unit": In(2),
            "conflict": Out(1),
            "alloc": In(1),
            "retire": In(3),
            "full": Out(3),
            "idle": Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        layout = ranges_layout(self._config)
        depth = self._depth
        conflict = 0
        idle = 1
        for index, unit in enumerate(UNITS):
            entries = [Signal(layout, name=f"{unit}_entry{i}") for i in range(depth)]
            valid = Signal(depth, name=f"{unit}_valid")
            head = Signal(range(depth), name=f"{unit}_head")  # oldest
            count = Signal(range(depth + 1), name=f"{unit}_count")
            tail = Signal(range(depth), name=f"{unit}_tail")
            alloc = self.alloc & (self.new_unit == index)
            retire = self.retire[index]
            m.d.comb += self.full[index].eq(count == depth)
            idle = idle & (count == 0)
            with m.If(alloc):
                m.d.sync += tail.eq(_next(tail, depth))
                for i, entry in enumerate(entries):
                    with m.If(tail == i):
                        m.d.sync += entry.eq(self.new)
            with m.If(retire):
                m.d.sync += head.eq(_next(head, depth))
            set_bits = Signal(depth, name=f"{unit}_set")
            clr_bits = Signal(depth, name=f"{unit}_clr")
            for i in range(depth):
                m.d.comb += [set_bits[i].eq(alloc & (tail == i)),
                             clr_bits[i].eq(retire & (head == i))]
            m.d.sync += valid.eq((valid & ~clr_bits) | set_bits)
            m.d.sync += count.eq(count + alloc - retire)
            for i, entry in enumerate(entries):
                for new_index, new_unit in enumerate(UNITS):
                    if new_unit == unit:
                        continue
                    conflict = conflict | (valid[i] & (self.new_unit == new_index)
                                           & _conflicts(self.new, new_unit, entry, unit))
        m.d.comb += [self.conflict.eq(conflict), self.idle.eq(idle)]
        return m


def _next(value, depth: int):
    """``value + 1`` modulo ``depth``."""
    return Mux(value == depth - 1, 0, value + 1)
