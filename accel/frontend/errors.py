"""The one error of the ONNX front end: a `ValueError` whose message is a single line."""

from __future__ import annotations

__all__ = ["FrontendError", "node_error", "node_label"]


class FrontendError(ValueError):
    """A model the front end cannot import. The message is one line; for a node it names the
    node and its op type (and, for an unsupported op, the supported set)."""

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(str(message).split()))


def node_label(node) -> str:
    """``node 'name' (OpType)`` for messages (the first output names an unnamed node)."""
    name = node.name or (node.output[0] if node.output else "?")
    domain = f"{node.domain}." if node.domain not in ("", "ai.onnx") else ""
    return f"node {name!r} ({domain}{node.op_type})"


def node_error(node, message: str) -> FrontendError:
    """`FrontendError` ``"<node label>: <message>"``."""
    return FrontendError(f"{node_label(node)}: {message}")
