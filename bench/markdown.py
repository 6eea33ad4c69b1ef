"""How the benches print figures: Markdown tables, and a model's figure beside a measured one."""

from __future__ import annotations

__all__ = ["table", "versus"]


def table(head: list[str], rows: list[list[str]]) -> str:
    """A Markdown table: the ``head`` cells, the separator, one line per row of cells."""
    lines = ["| " + " | ".join(head) + " |", "|---" * len(head) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def versus(predicted: int, measured: float) -> str:
    """A model's figure beside the measured one: ``"16294 (-2.0%)"``."""
    return f"{predicted} ({predicted / measured - 1:+.1%})"
