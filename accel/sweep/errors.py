"""The error a sweep reports for bad input: one line, naming the option and the value."""

from __future__ import annotations

__all__ = ["SweepError"]


class SweepError(ValueError):
    """A sweep parameter is malformed (a bad list, workload, metric or axis). One-line message."""
