"""Which ranges each unit's commands touch, and which pairs of them are hazards.

A command touches half-open ranges of scratchpad rows (``sp_*``), accumulator rows (``acc_*``)
and main-memory bytes (``mem_*``). A new command of one unit waits while an in-flight command of
another unit writes a range it reads or writes, or reads a range it writes. The dispatcher's
`accel.control.scoreboard.Scoreboard` compares exactly the pairs `conflict_pairs` lists, and so
does the cycle model (`accel.perf.hazards`).
"""

from __future__ import annotations

from accel.isa.spec import Unit

__all__ = ["UNITS", "TRACKED", "READS", "WRITES", "conflict_pairs"]

#: The units with command queues, in the order of the scoreboard's per-unit ports.
UNITS: tuple[Unit, ...] = (Unit.LOAD, Unit.EXECUTE, Unit.STORE)

#: Which ranges each unit's commands carry (only these are stored and compared).
TRACKED: dict[Unit, tuple[str, ...]] = {
    Unit.LOAD: ("sp_w", "acc_w", "mem_r"),
    Unit.EXECUTE: ("sp_r", "sp_r2", "acc_w"),
    Unit.STORE: ("sp_r", "acc_r", "mem_w"),
}

#: Read ranges of each space.
READS: dict[str, tuple[str, ...]] = {"sp": ("sp_r", "sp_r2"), "acc": ("acc_r",), "mem": ("mem_r",)}
#: Write ranges of each space.
WRITES: dict[str, tuple[str, ...]] = {"sp": ("sp_w",), "acc": ("acc_w",), "mem": ("mem_w",)}


def conflict_pairs(new_unit: Unit | str, old_unit: Unit | str) -> tuple[tuple[str, str], ...]:
    """(new range, old range) pairs that make a new command of ``new_unit`` wait for an
    in-flight one of ``old_unit`` when they overlap; none within one unit (it runs in order)."""
    new_unit, old_unit = Unit(new_unit), Unit(old_unit)
    if new_unit is old_unit:
        return ()
    pairs: list[tuple[str, str]] = []
    new_has, old_has = TRACKED[new_unit], TRACKED[old_unit]
    for space in READS:
        for w in WRITES[space]:
            if w in new_has:  # a new write waits for every old access
                pairs += [(w, o) for o in READS[space] + WRITES[space] if o in old_has]
        for r in READS[space]:
            if r in new_has:  # a new read waits for old writes
                pairs += [(r, o) for o in WRITES[space] if o in old_has]
    return tuple(pairs)
