"""Parsing of the sweep's comma-separated parameter lists (``2,4,8``, ``ws,os``, ``cycles,...``).

Each parser returns a tuple in the order given, so the order of the cartesian product (and of
the result rows) is the order the user wrote. Repeated values are an error rather than silently
duplicated rows.
"""

from __future__ import annotations

from typing import Sequence

from accel.sweep.errors import SweepError

__all__ = ["parse_int_list", "parse_choice_list"]


def _items(text: str, option: str) -> list[str]:
    if not isinstance(text, str) or not text.strip():
        raise SweepError(f"{option} must be a non-empty comma-separated list, not {text!r}")
    items = [item.strip() for item in text.split(",")]
    if any(not item for item in items):
        raise SweepError(f"{option} has an empty item in {text!r}")
    seen: set[str] = set()
    for item in items:
        if item in seen:
            raise SweepError(f"{option} lists {item!r} twice in {text!r}")
        seen.add(item)
    return items


def parse_int_list(text: str, option: str) -> tuple[int, ...]:
    """The integers of ``text`` (e.g. ``"2,4,8"``), in order.

    Range checks are left to `~accel.config.AccelConfig` validation, which rejects (and the
    sweep lists) each configuration a value makes invalid.

    Raises
    ------
    SweepError
        When ``text`` is empty, has an empty or non-integer item, or repeats a value; the
        message names ``option``.
    """
    values = []
    for item in _items(text, option):
        try:
            values.append(int(item, 10))
        except ValueError:
            raise SweepError(f"{option} must be a comma-separated list of integers "
                             f"(e.g. 2,4,8), not {text!r}") from None
    if len(set(values)) != len(values):
        raise SweepError(f"{option} repeats a value in {text!r}")
    return tuple(values)


def parse_choice_list(text: str, option: str, choices: Sequence[str]) -> tuple[str, ...]:
    """The items of ``text``, each one of ``choices``, in order.

    Raises
    ------
    SweepError
        When ``text`` is empty, repeats an item or has one outside ``choices``.
    """
    items = _items(text, option)
    for item in items:
        if item not in choices:
            raise SweepError(f"{option} items must be among {', '.join(choices)}, "
                             f"not {item!r}")
    return tuple(items)
