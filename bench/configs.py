"""The configurations the benches measure, built as the CLI builds them."""

from __future__ import annotations

from accel.config import AccelConfig, preset

__all__ = ["cli_config"]


def cli_config(rows: int, cols: int | None = None, dataflow: str = "ws") -> AccelConfig:
    """What ``accelgen ... --rows ROWS --cols COLS --dataflow DATAFLOW`` runs on: the default
    preset with those fields. Being equal to the CLI's, it measures the same thing and shares
    the CLI's Verilator build."""
    return preset("default").replace(rows=rows, cols=rows if cols is None else cols,
                                     dataflow=dataflow)

