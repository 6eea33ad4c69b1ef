# amaranth: UnusedElaboratable=no
"""Unit tests of the hazard `Scoreboard`, against a conflict table written out independently."""

import itertools
import random

import pytest
from amaranth.sim import Simulator

from accel.config import AccelConfig
from accel.control.scoreboard import TRACKED, UNITS, Scoreboard

CFG = AccelConfig(rows=4, cols=4, sp_kib=4, acc_kib=4, sp_banks=1, acc_banks=1,
                  mem_addr_width=12)

#: range field -> (space, is_write)
KINDS = {"sp_w": ("sp", True), "sp_r": ("sp", False), "sp_r2": ("sp", False),
         "acc_w": ("acc", True), "acc_r": ("acc", False),
         "mem_w": ("mem", True), "mem_r": ("mem", False)}


def expected_conflict(new_unit, new_field, old_unit, old_field):
    """A new command waits when another unit's in-flight command writes what it accesses, or
    accesses what it writes."""
    if new_unit == old_unit:
        return False
    if new_field not in TRACKED[new_unit] or old_field not in TRACKED[old_unit]:
        return False
    (s1, w1), (s2, w2) = KINDS[new_field], KINDS[old_field]
    return s1 == s2 and (w1 or w2)


def _run(depth, bench):
    dut = Scoreboard(CFG, depth)
    sim = Simulator(dut)
    sim.add_clock(1e-6)
    async def testbench(ctx):
        await bench(ctx, dut)

    sim.add_testbench(testbench)
    sim.run()


async def _alloc(ctx, dut, unit, ranges, retire=0):
    """Record a command of ``unit`` touching ``ranges`` (field names to ``(lo, hi)``)."""
    ctx.set(dut.new_unit, UNITS.index(unit))
    for name, (lo, hi) in ranges.items():
        ctx.set(getattr(dut.new, name), {"lo": lo, "hi": hi})
    ctx.set(dut.alloc, 1)
    ctx.set(dut.retire, retire)
    await ctx.tick()
    ctx.set(dut.alloc, 0)
    ctx.set(dut.retire, 0)
    for name in ranges:
        ctx.set(getattr(dut.new, name), {"lo": 0, "hi": 0})


async def _retire(ctx, dut, mask):
    ctx.set(dut.alloc, 0)
    ctx.set(dut.retire, mask)
    await ctx.tick()
    ctx.set(dut.retire, 0)


def _conflict(ctx, dut, unit, ranges):
    """The scoreboard's answer for a candidate of ``unit`` touching ``ranges`` (field names to
    ``(lo, hi)``; the other fields are empty)."""
    ctx.set(dut.new_unit, UNITS.index(unit))
    for name, (lo, hi) in ranges.items():
        ctx.set(getattr(dut.new, name), {"lo": lo, "hi": hi})
    conflict = ctx.get(dut.conflict)
    for name in ranges:
        ctx.set(getattr(dut.new, name), {"lo": 0, "hi": 0})
    return conflict


@pytest.mark.slow
def test_conflict_table_every_unit_and_range_kind():
    """Every (old unit, old range kind) x (new unit, new range kind), overlapping by one row."""
    seen = {True: 0, False: 0}
    pairs = sum(expected_conflict(nu, nf, ou, of) for ou, nu in itertools.product(UNITS, UNITS)
                for of, nf in itertools.product(KINDS, KINDS))

    async def bench(ctx, dut):
        for old_unit, new_unit in itertools.product(UNITS, UNITS):
            for old_field, new_field in itertools.product(KINDS, KINDS):
                await _alloc(ctx, dut, old_unit, {old_field: (10, 20)})
                want = expected_conflict(new_unit, new_field, old_unit, old_field)
                probes = ((19, 30, True), (0, 11, True), (20, 30, False), (0, 10, False),
                          (15, 15, False))
                for lo, hi, overlap in probes if want else probes[:2]:
                    got = _conflict(ctx, dut, new_unit, {new_field: (lo, hi)})
                    assert got == (want and overlap), \
                        (old_unit, old_field, new_unit, new_field, lo, hi)
                    seen[bool(got)] += 1
                await _retire(ctx, dut, 1 << UNITS.index(old_unit))
                assert ctx.get(dut.idle)
                # The retired entry conflicts with nothing any more.
                assert not _conflict(ctx, dut, new_unit, {new_field: (0, 100)})

    _run(2, bench)
    assert pairs >= 14 and seen[True] == 2 * pairs and seen[False] > 800


@pytest.mark.slow
def test_pairs_by_unit():
    """Spot checks, in words: which unit pairs interact through which memory."""
    cases = [
        # (old unit, old ranges, new unit, new ranges, conflict)
        ("load", dict(sp_w=(0, 8)), "execute", dict(sp_r=(4, 5)), True),       # RAW on A
        ("load", dict(sp_w=(0, 8)), "execute", dict(sp_r2=(7, 9)), True),      # RAW on B
        ("execute", dict(sp_r2=(0, 8)), "load", dict(sp_w=(7, 8)), True),      # WAR on B
        ("execute", dict(acc_w=(0, 4)), "store", dict(acc_r=(3, 4)), True),    # RAW on C
        ("store", dict(acc_r=(0, 4)), "execute", dict(acc_w=(0, 1)), True),    # WAR on C
        ("load", dict(acc_w=(0, 4)), "execute", dict(acc_w=(2, 3)), True),     # WAW on acc
        ("store", dict(mem_w=(100, 200)), "load", dict(mem_r=(199, 300)), True),
        ("load", dict(mem_r=(100, 200)), "store", dict(mem_w=(0, 101)), True),
        ("store", dict(sp_r=(0, 8)), "load", dict(sp_w=(0, 1)), True),
        ("load", dict(sp_w=(0, 8)), "store", dict(sp_r=(7, 8)), True),
        ("execute", dict(sp_r=(0, 8)), "store", dict(sp_r=(0, 8)), False),    # read/read
        ("load", dict(mem_r=(0, 8)), "load", dict(mem_r=(0, 8)), False),
        ("load", dict(sp_w=(0, 8)), "load", dict(sp_w=(0, 8)), False),      # same unit
        ("store", dict(mem_w=(0, 8)), "execute", dict(sp_r=(0, 8)), False),    # other space
        ("load", dict(sp_w=(0, 8), mem_r=(0, 8)), "execute", dict(acc_w=(0, 8)), False),
        ("load", dict(sp_w=(0, 0)), "execute", dict(sp_r=(0, 8)), False),      # empty old
        ("load", dict(sp_w=(8, 4)), "execute", dict(sp_r=(0, 10)), False),     # lo > hi: empty
    ]

    async def bench(ctx, dut):
        for old_unit, old, new_unit, new, want in cases:
            await _alloc(ctx, dut, old_unit, old)
            assert _conflict(ctx, dut, new_unit, new) == want, (old, new)
            await _retire(ctx, dut, 1 << UNITS.index(old_unit))

    _run(4, bench)


@pytest.mark.slow
@pytest.mark.parametrize("depth", [1, 3])
def test_full_idle_and_in_order_retire(depth):
    """Entries retire oldest first, through several wrap-arounds of each unit's ring."""
    rng = random.Random(depth)

    async def bench(ctx, dut):
        flight = {u: [] for u in UNITS}     # model: in-flight sp/acc rows per unit, oldest first
        fields = {"load": "sp_w", "execute": "acc_w", "store": "sp_r"}
        probe = {"load": ("execute", "sp_r"), "execute": ("store", "acc_r"),
                 "store": ("load", "sp_w")}
        assert ctx.get(dut.idle) and ctx.get(dut.full) == 0
        for step in range(80):
            unit = rng.choice(UNITS)
            retire_mask = 0
            for u in UNITS:
                if flight[u] and rng.random() < 0.35:
                    retire_mask |= 1 << UNITS.index(u)
            alloc = len(flight[unit]) < depth and rng.random() < 0.6
            if alloc or retire_mask:
                row = rng.randrange(0, 12)
                if alloc:
                    await _alloc(ctx, dut, unit, {fields[unit]: (row, row + 1)}, retire_mask)
                    flight[unit].append(row)
                else:
                    await _retire(ctx, dut, retire_mask)
                for u in UNITS:
                    if retire_mask >> UNITS.index(u) & 1:
                        flight[u].pop(0)
            # Flags.
            assert ctx.get(dut.idle) == (not any(flight.values())), step
            for u in UNITS:
                assert (ctx.get(dut.full) >> UNITS.index(u)) & 1 == \
                    (len(flight[u]) == depth), (step, u)
            # Exactly the rows of the commands still in flight conflict.
            for u in UNITS:
                other, field = probe[u]
                for row in range(12):
                    got = _conflict(ctx, dut, other, {field: (row, row + 1)})
                    assert got == (row in flight[u]), (step, u, row, flight[u])

    _run(depth, bench)


def test_depth_is_validated():
    with pytest.raises(ValueError, match="depth must be between 1 and 16, not 0"):
        Scoreboard(CFG, 0)
    with pytest.raises(ValueError, match="depth must be between 1 and 16, not 17"):
        Scoreboard(CFG, 17)
