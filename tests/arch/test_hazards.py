"""``accel.arch.hazards``: the hazard pairs, against the rule written out independently."""

import itertools

import pytest

from accel.arch.hazards import READS, TRACKED, UNITS, WRITES, conflict_pairs
from accel.isa.spec import INSTRUCTIONS, Unit

#: range field -> (space, is_write), spelled out here rather than derived from READS/WRITES
KINDS = {"sp_w": ("sp", True), "sp_r": ("sp", False), "sp_r2": ("sp", False),
         "acc_w": ("acc", True), "acc_r": ("acc", False),
         "mem_w": ("mem", True), "mem_r": ("mem", False)}


def test_the_queued_units_are_the_spec_units_of_loads_computes_and_stores():
    assert UNITS == (Unit.LOAD, Unit.EXECUTE, Unit.STORE)
    queued = {ins.unit for ins in INSTRUCTIONS} - {Unit.CONFIG, Unit.CONTROL}
    assert queued == set(UNITS)
    assert set(TRACKED) == set(UNITS)


def test_every_tracked_range_is_a_read_or_a_write_of_one_space():
    fields = {f for group in (*READS.values(), *WRITES.values()) for f in group}
    assert fields == set(KINDS)
    for space, names in READS.items():
        assert all(KINDS[n] == (space, False) for n in names)
    for space, names in WRITES.items():
        assert all(KINDS[n] == (space, True) for n in names)
    assert all(set(ranges) <= set(KINDS) for ranges in TRACKED.values())


@pytest.mark.parametrize("new_unit, old_unit", list(itertools.product(UNITS, UNITS)))
def test_pairs_are_same_space_accesses_with_a_write_between_different_units(new_unit, old_unit):
    expected = set()
    if new_unit != old_unit:
        for a, b in itertools.product(TRACKED[new_unit], TRACKED[old_unit]):
            (s1, w1), (s2, w2) = KINDS[a], KINDS[b]
            if s1 == s2 and (w1 or w2):
                expected.add((a, b))
    pairs = conflict_pairs(new_unit, old_unit)
    assert len(pairs) == len(set(pairs))
    assert set(pairs) == expected


def test_units_may_be_named_by_their_strings():
    assert conflict_pairs("execute", "load") == conflict_pairs(Unit.EXECUTE, Unit.LOAD)
    assert ("sp_r", "sp_w") in conflict_pairs("execute", "load")     # RAW on the A operand
    assert ("acc_w", "acc_r") in conflict_pairs("execute", "store")  # WAR on C
    with pytest.raises(ValueError):
        conflict_pairs("exec", "load")
