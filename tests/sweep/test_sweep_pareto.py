"""The Pareto front: non-dominated points when minimizing both costs."""

import itertools

import numpy as np
import pytest

from accel.sweep.pareto import pareto_front


def _dominated(p, q) -> bool:
    """Does ``q`` dominate ``p``?"""
    return q[0] <= p[0] and q[1] <= p[1] and (q[0] < p[0] or q[1] < p[1])


def test_staircase_and_order():
    points = [(10, 100), (20, 50), (15, 120), (30, 10), (40, 10), (5, 500)]
    assert pareto_front(points) == [5, 0, 1, 3]


def test_missing_points_are_never_on_the_front():
    assert pareto_front([None, (3, 3), None]) == [1]
    assert pareto_front([None, None]) == []
    assert pareto_front([]) == []


def test_equal_points_share_the_front():
    assert pareto_front([(2, 2), (1, 5), (2, 2), (3, 3)]) == [1, 0, 2]


def test_equal_first_cost_keeps_only_the_lower_second():
    assert pareto_front([(2, 7), (2, 3), (2, 5)]) == [1]


def test_equal_second_cost_keeps_only_the_lower_first():
    assert pareto_front([(4, 3), (2, 3), (3, 3)]) == [1]


@pytest.mark.parametrize("seed", range(5))
def test_matches_the_definition_on_random_points(seed):
    rng = np.random.default_rng(seed)
    points = [tuple(int(v) for v in rng.integers(0, 8, size=2)) for _ in range(40)]
    expected = {i for i, p in enumerate(points)
                if not any(_dominated(p, q) for q in points)}
    front = pareto_front(points)
    assert set(front) == expected
    assert [points[i][0] for i in front] == sorted(points[i][0] for i in front)
    for a, b in itertools.combinations(front, 2):
        assert not _dominated(points[a], points[b]) and not _dominated(points[b], points[a])
