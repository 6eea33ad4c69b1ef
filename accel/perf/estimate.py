"""What the cycle model returns: one program's estimate and a network's per-step estimates."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["CycleEstimate", "LayerEstimate", "NetworkEstimate"]


@dataclass(frozen=True)
class CycleEstimate:
    """Predicted cycles of one accelerator program.

    Members
    -------
    cycles : int
        Clock cycles from the first command offered to the last response, as
        `accel.runtime.rtl.run_programs` counts them (programs end with a fence, so that is until
        the accelerator is idle).
    breakdown : dict of str to int
        Where the time goes: ``load``, ``compute`` and ``store`` are the cycles in which that
        unit had a command in flight (they overlap); ``bus`` the cycles the Wishbone bus moved a
        word; ``issue`` one cycle per command through the dispatcher; ``hazard`` the cycles
        commands waited in the dispatcher on the scoreboard, a full unit or a fence; ``front_end``
        the command and response path around the program. ``issue + hazard + front_end`` is
        ``cycles`` (up to rounding): the dispatcher's time, split into moving and waiting. A
        program run from a command buffer adds ``fetch`` (the bus words its records took,
        included in ``bus``) and ``feed`` (cycles the dispatcher waited for a record, part of
        ``cycles`` too).
    bound : int
        A lower bound: ``max(MACs / PEs, bus words moved, commands)``.
    commands : int
    macs : int
        Useful multiply-accumulates (m * k * n per COMPUTE).
    load_bytes, store_bytes : int
        Main-memory bytes moved (useful bytes, as the performance counters count them).
    """

    cycles: int
    breakdown: dict[str, int] = field(default_factory=dict)
    bound: int = 0
    commands: int = 0
    macs: int = 0
    load_bytes: int = 0
    store_bytes: int = 0

    @property
    def utilization(self) -> float:
        """Fraction of the bound achieved: ``bound / cycles`` (1.0 for an empty program)."""
        return self.bound / self.cycles if self.cycles else 1.0

    def to_dict(self) -> dict:
        return {"cycles": self.cycles, "bound": self.bound, "commands": self.commands,
                "macs": self.macs, "load_bytes": self.load_bytes,
                "store_bytes": self.store_bytes, "breakdown": dict(self.breakdown)}


@dataclass(frozen=True)
class LayerEstimate:
    """One step of a compiled network.

    Members
    -------
    name : str
        E.g. ``"conv2d[0]"``, ``"dense[0]+dense[1]"`` (several layers share one program) or
        ``"maxpool2d[1] (host)"``.
    layers : tuple of int
        Indices of the network layers the step computes.
    commands : int
        Accelerator commands (0 for a host step).
    estimate : CycleEstimate or None
        None for a host step, which costs 0 accelerator cycles (as on the RTL backend).
    """

    name: str
    layers: tuple[int, ...]
    commands: int
    estimate: CycleEstimate | None

    @property
    def cycles(self) -> int:
        return self.estimate.cycles if self.estimate is not None else 0

    @property
    def host(self) -> bool:
        return self.estimate is None


@dataclass(frozen=True)
class NetworkEstimate:
    """Predicted cycles of one inference of a compiled network, step by step."""

    layers: tuple[LayerEstimate, ...]

    @property
    def cycles(self) -> int:
        return sum(layer.cycles for layer in self.layers)

    @property
    def bound(self) -> int:
        return sum(layer.estimate.bound for layer in self.layers if layer.estimate is not None)

    @property
    def commands(self) -> int:
        return sum(layer.commands for layer in self.layers)

    def to_dict(self) -> dict:
        return {"cycles": self.cycles, "bound": self.bound, "commands": self.commands,
                "layers": [{"name": layer.name, "layers": list(layer.layers),
                            "commands": layer.commands, "cycles": layer.cycles,
                            **({"bound": layer.estimate.bound,
                                "breakdown": dict(layer.estimate.breakdown)}
                               if layer.estimate is not None else {})}
                           for layer in self.layers]}
