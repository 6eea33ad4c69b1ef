"""The Pareto front of points that minimize two costs (e.g. LUTs and cycles per inference)."""

from __future__ import annotations

from typing import Sequence

__all__ = ["pareto_front"]


def pareto_front(points: Sequence[tuple[float, float] | None]) -> list[int]:
    """Indices of the points no other point dominates, by increasing first cost.

    Point ``p`` dominates ``q`` when it is no worse in both costs and better in at least one.
    Equal points do not dominate each other, so all of them are on the front or none is.
    ``None`` entries (a configuration whose metric failed) are never on the front.

    Examples
    --------
    >>> pareto_front([(1, 9), (2, 5), (3, 6), (4, 1), None, (2, 5)])
    [0, 1, 5, 3]

    Points with equal first cost are ordered by second cost, then by index.
    """
    present = sorted((p[0], p[1], i) for i, p in enumerate(points) if p is not None)
    front: list[int] = []
    best_y = float("inf")
    group_x, group_y = None, None
    for x, y, index in present:
        if x == group_x and y == group_y:
            front.append(index)  # a duplicate of a front point is on the front too
            continue
        if y < best_y:
            front.append(index)
            best_y = y
            group_x, group_y = x, y
    return front
