"""The steps of a compiled network: accelerator programs and host operations between them.

Both compilers (`accel.nn.compiler` for the native networks, `accel.compiler.lower` for graphs)
produce a sequence of these; every backend runs them in order on one main memory.
"""

from __future__ import annotations

from dataclasses import dataclass

from accel.compiler.hostops import HostOp
from accel.isa.encoding import Command

__all__ = ["AccelStep", "HostStep"]


@dataclass(frozen=True)
class AccelStep:
    """One accelerator program (ending with a fence) computing ``layers`` (indices of the
    network's layers or the graph's nodes)."""

    commands: tuple[Command, ...]
    layers: tuple[int, ...]


@dataclass(frozen=True)
class HostStep:
    """Work for the control core between programs (for layer or node ``layer``)."""

    op: HostOp
    layer: int
