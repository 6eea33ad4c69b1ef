"""Test-case minimization: delta debugging over a sequence, and shrinking of count operands.

Both algorithms are generic and pure: they see the failure only through ``test``, a function
that takes a list of candidates and returns, for each, whether it still fails. Asking for many
candidates at once lets the caller try them all in one simulator run (the expensive part of a
hardware test is starting the simulator, not the cycles of a short program).

`ddmin` returns a 1-minimal failing subsequence: removing any single element makes the failure
disappear. `shrink_counts` then lowers the count fields (rows, cols, k, n, m: the fields that
`accel.isa.spec` stores minus one) of the remaining commands while the failure persists.
"""

from __future__ import annotations

from typing import Callable, Sequence, TypeVar

from accel.isa.encoding import Command, IllegalInstruction, decode, encode

__all__ = ["BatchTest", "ddmin", "shrink_counts"]

T = TypeVar("T")

#: ``test(candidates) -> [fails, ...]``, one verdict per candidate, in order.
BatchTest = Callable[[list[list[T]]], list[bool]]


def _chunks(items: list[T], count: int) -> list[tuple[int, int]]:
    """``count`` contiguous (start, stop) ranges of nearly equal length covering ``items``."""
    size = len(items)
    bounds = [size * i // count for i in range(count + 1)]
    return [(bounds[i], bounds[i + 1]) for i in range(count) if bounds[i] < bounds[i + 1]]


def ddmin(items: Sequence[T], test: BatchTest, *, max_batch: int = 32) -> list[T]:
    """A 1-minimal subsequence of ``items`` that still fails.

    Zeller's delta debugging, evaluated in batches. Each round queues, at the current
    granularity ``n`` and at finer ones (doubling) until ``max_batch`` candidates are queued,
    every chunk on its own (while ``n <= 4``) and every complement of one chunk. When several
    chunks of the finest level can each be removed, removing all of them at once is tried too
    (failures usually hang on a few elements, so this often removes most of the input in one
    step). The shortest failing candidate is kept. It stops when no complement of a single
    element fails.

    Parameters
    ----------
    items : sequence
        A failing input (it is not tested again).
    test : BatchTest
        Tells which candidates fail.
    max_batch : int
        Candidates queued per round (at least one granularity level is always tried whole).

    Returns
    -------
    list
        The reduced failing subsequence (order preserved).
    """
    current = list(items)
    granularity = 2
    while len(current) >= 2:
        granularity = min(granularity, len(current))
        candidates: list[list[T]] = []
        made_by: list[int] = []  # granularity to continue with after each candidate
        level = granularity
        while True:
            ranges = _chunks(current, level)
            if level <= 4:
                candidates += [current[a:b] for a, b in ranges]
                made_by += [2] * len(ranges)
            first = len(candidates)
            candidates += [current[:a] + current[b:] for a, b in ranges]
            made_by += [max(2, level - 1)] * len(ranges)
            finest = (first, ranges)
            if level >= len(current) or len(candidates) >= max_batch:
                break
            level = min(2 * level, len(current))
        verdicts = test(candidates)
        first, ranges = finest
        removable = [r for r, bad in zip(ranges, verdicts[first:]) if bad]
        failing = [(c, g) for c, g, bad in zip(candidates, made_by, verdicts) if bad and c]
        if len(removable) > 1:
            drop = {i for a, b in removable for i in range(a, b)}
            union = [item for i, item in enumerate(current) if i not in drop]
            if union and test([union]) == [True]:
                failing.append((union, 2))
        if failing:
            current, granularity = min(failing, key=lambda pair: len(pair[0]))
        elif level >= len(current):
            break  # every single-element complement passes: 1-minimal
        else:
            granularity = min(2 * level, len(current))
    return current


def _count_fields(cmd: Command) -> list[tuple[str, int]]:
    """(name, value) of the count operands (stored minus one) of a decodable command."""
    try:
        ins, ops = decode(cmd)
    except IllegalInstruction:
        return []
    return [(f.name, ops[f.name]) for f in ins.fields if f.offset == 1 and ops[f.name] > 1]


def _with(cmd: Command, name: str, value: int) -> Command:
    ins, ops = decode(cmd)
    return encode(ins.name, **{**ops, name: value})


def _lower_values(value: int) -> list[int]:
    """Values below ``value`` worth trying: all of them when few, else a ladder."""
    if value <= 17:
        return list(range(1, value))
    ladder = {1, 2, 4, 8, 16, value // 4, value // 2, 3 * value // 4, value - 1}
    return sorted(v for v in ladder if 1 <= v < value)


def shrink_counts(commands: Sequence[Command], test: BatchTest, *,
                  max_rounds: int = 3) -> list[Command]:
    """Lower count operands of ``commands`` (a failing program) while it keeps failing.

    Each round tries, for every count field, each lower value (all of them up to 16, a ladder
    above) as its own candidate, and keeps the lowest failing value per field; then it tries
    all those lowerings together, keeping them all if the combination still fails, else only
    the one that lowers most. Rounds repeat until nothing changes.

    Returns
    -------
    list of Command
        The program with lowered counts (same length, same instructions).
    """
    current = list(commands)
    for _ in range(max_rounds):
        trials = [(index, name, lower) for index, cmd in enumerate(current)
                  for name, value in _count_fields(cmd) for lower in _lower_values(value)]
        if not trials:
            break
        candidates = []
        for index, name, value in trials:
            changed = list(current)
            changed[index] = _with(changed[index], name, value)
            candidates.append(changed)
        best: dict[tuple[int, str], int] = {}
        for (index, name, value), bad in zip(trials, test(candidates)):
            if bad and value < best.get((index, name), value + 1):
                best[(index, name)] = value
        if not best:
            break
        combined = list(current)
        for (index, name), value in best.items():
            combined[index] = _with(combined[index], name, value)
        if len(best) == 1 or test([combined]) == [True]:
            current = combined
        else:
            (index, name), value = max(best.items(), key=lambda item: decode(
                current[item[0][0]])[1][item[0][1]] - item[1])
            current[index] = _with(current[index], name, value)
    return current
