"""The design space of a sweep: the cartesian product of the swept configuration fields.

`expand` builds one `~accel.config.AccelConfig` per combination, in a fixed order (the axes in
`AXES` order, each axis's values in the order given), and sets aside each combination that
configuration validation rejects, with its one-line reason.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from accel.config import AccelConfig, ConfigError

__all__ = ["AXES", "Rejected", "SweepSpace", "config_label", "expand"]

#: The configuration fields a sweep can vary, outermost first.
AXES = ("rows", "cols", "dataflow", "sp_kib", "acc_kib")


@dataclass(frozen=True)
class SweepSpace:
    """Values per swept field; a field without values keeps the base configuration's.

    Members
    -------
    values : dict of str to tuple
        Field (one of `AXES`) -> its values, in sweep order.
    base : AccelConfig
        Where every other field comes from.
    """

    values: dict[str, tuple] = field(default_factory=dict)
    base: AccelConfig = field(default_factory=AccelConfig)

    def axes(self) -> dict[str, tuple]:
        """Every axis with its values (the base value for an axis not swept)."""
        return {name: tuple(self.values.get(name) or (getattr(self.base, name),))
                for name in AXES}


@dataclass(frozen=True)
class Rejected:
    """A combination that is not a valid configuration, and why."""

    fields: dict[str, object]
    reason: str

    @property
    def label(self) -> str:
        return ", ".join(f"{name}={value}" for name, value in self.fields.items())


def config_label(config: AccelConfig, varied: tuple[str, ...] = ()) -> str:
    """``"4x8/ws"``, plus ``sp=..`` / ``acc=..`` KiB when memory sizes are swept."""
    label = f"{config.rows}x{config.cols}/{config.dataflow}"
    if "sp_kib" in varied:
        label += f" sp{config.sp_kib}K"
    if "acc_kib" in varied:
        label += f" acc{config.acc_kib}K"
    return label


def expand(space: SweepSpace) -> tuple[list[AccelConfig], list[Rejected]]:
    """Every valid configuration of ``space`` in sweep order, and the rejected combinations."""
    axes = space.axes()
    varied = tuple(name for name, values in axes.items() if len(values) > 1)
    configs, rejected = [], []
    for combination in itertools.product(*axes.values()):
        fields_ = dict(zip(axes, combination))
        try:
            config = space.base.replace(**fields_)
        except ConfigError as exc:
            rejected.append(Rejected(fields_, str(exc)))
            continue
        configs.append(config.replace(name=config_label(config, varied)))
    return configs, rejected
