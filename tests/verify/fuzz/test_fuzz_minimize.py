"""Delta debugging and count shrinking, with pure predicates (no simulator)."""

import random

import pytest

from accel.verify.fuzz.minimize import ddmin, shrink_counts
from accel.isa import decode, encode


class Recorder:
    """A batch test from a pure predicate, counting calls and candidates."""

    def __init__(self, fails):
        self.fails = fails
        self.calls = 0
        self.candidates = 0

    def __call__(self, candidates):
        self.calls += 1
        self.candidates += len(candidates)
        return [self.fails(c) for c in candidates]


def x_after_y(items):
    """Fails iff some "x" comes after some "y"."""
    seen_y = False
    for item in items:
        if item == "y":
            seen_y = True
        elif item == "x" and seen_y:
            return True
    return False


def _noise(rng, size):
    return [rng.choice(["a", "b", "c", "x", "d"]) for _ in range(size)]


@pytest.mark.parametrize("seed", range(8))
def test_ddmin_finds_the_two_element_program(seed):
    rng = random.Random(seed)
    items = _noise(rng, rng.randint(20, 300))
    items.insert(rng.randrange(len(items) // 2), "y")  # an "x" after it is likely; force one
    items.append("x")
    test = Recorder(x_after_y)
    assert ddmin(items, test) == ["y", "x"]
    # Batching: far fewer calls than candidates.
    assert test.calls * 3 < test.candidates


def test_ddmin_result_is_one_minimal_for_an_unordered_predicate():
    rng = random.Random(11)
    items = list(range(200))
    rng.shuffle(items)
    needed = {7, 99, 150}

    def fails(candidate):
        return needed <= set(candidate)

    test = Recorder(fails)
    result = ddmin(items, test)
    assert sorted(result) == sorted(needed)
    assert [i for i in items if i in needed] == result  # order preserved
    assert test.calls <= 12  # removing every removable chunk at once converges fast


def test_ddmin_keeps_interacting_elements_in_order():
    items = list("qwertyuiopasdfghjklzxcvbnm") + list("mez")

    def fails(candidate):  # "a", then "e", then "z" (as a subsequence)
        rest = iter(candidate)
        return all(letter in rest for letter in "aez")

    assert fails(items) and not fails(items[:-1])
    assert ddmin(items, Recorder(fails)) == ["a", "e", "z"]


def test_ddmin_of_a_single_element_is_that_element():
    assert ddmin(["x"], Recorder(lambda c: True)) == ["x"]


def test_ddmin_without_a_smaller_failure_returns_the_input():
    items = ["p", "q", "r"]
    test = Recorder(lambda c: len(c) == 3)
    assert ddmin(items, test) == items


def test_shrink_counts_lowers_each_count_to_the_smallest_failing_value():
    program = [encode("config_load", stride=8),
               encode("load_sp", mem_addr=0x40, sp_addr=3, rows=200, cols=4),
               encode("preload", b_addr=0, k=4, n=4)]

    def fails(candidate):  # the "bug": at least 37 rows and any columns; preload irrelevant
        return decode(candidate[1])[1]["rows"] >= 37

    result = shrink_counts(program, Recorder(fails))
    _, load = decode(result[1])
    assert load == {"mem_addr": 0x40, "sp_addr": 3, "rows": 37, "cols": 1}
    assert decode(result[2])[1] == {"b_addr": 0, "k": 1, "n": 1}
    assert result[0] == program[0]  # no count field: unchanged


def test_shrink_counts_keeps_a_program_whose_counts_matter():
    program = [encode("load_sp", mem_addr=0, sp_addr=0, rows=2, cols=3)]
    test = Recorder(lambda c: c == program)
    assert shrink_counts(program, test) == program
