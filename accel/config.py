"""The one accelerator configuration object.

`AccelConfig` is built once (from CLI flags, a JSON file or Python), validated once, and passed
down to every composite module. Derived values (memory depths, address widths, byte sizes) are
properties here and are never recomputed elsewhere.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import json
import math
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Mapping

__all__ = ["AccelConfig", "BUS_WIDTHS", "ConfigError", "DATAFLOWS", "Dataflow", "INT_RANGES",
           "MAX_BLOCK_ROWS", "PRESETS", "preset"]


class ConfigError(ValueError):
    """A configuration value is out of its allowed range. The message is one line."""


#: Inclusive ranges of the integer fields, used by validation and by the CLI help.
INT_RANGES: dict[str, tuple[int, int]] = {
    "rows": (1, 128),
    "cols": (1, 128),
    "input_width": (2, 16),
    "acc_width": (4, 64),
    "sp_kib": (1, 16384),
    "acc_kib": (1, 16384),
    "sp_banks": (1, 16),
    "acc_banks": (1, 16),
    "bus_width": (8, 256),
    "mem_addr_width": (12, 32),
    "soc_sram_kib": (4, 1024),
}

#: Main-memory (Wishbone) data widths in bits that the bus and the DMA support.
BUS_WIDTHS = (8, 16, 32, 64, 128, 256)


class Dataflow(str, enum.Enum):
    """How the systolic array maps a matrix product; members compare equal to, print and
    serialise as their strings (`enum.StrEnum` behaviour, which needs Python 3.11)."""

    __str__ = str.__str__
    __format__ = str.__format__

    #: Weight-stationary: a B tile is held in the array, A rows stream through.
    WS = "ws"
    #: Output-stationary: each PE keeps one output element, A and B stream through.
    OS = "os"


#: The dataflows' names, for option choices and messages.
DATAFLOWS: tuple[str, ...] = tuple(d.value for d in Dataflow)

#: Largest number of rows any one DMA transfer or compute stream may cover (an 8-bit count field).
MAX_BLOCK_ROWS = 256


def _elem_bytes(width: int) -> int:
    """Bytes one element of ``width`` bits takes in main memory (1, 2, 4 or 8)."""
    return 1 << max(0, math.ceil(math.log2(math.ceil(width / 8))))


@dataclass(frozen=True)
class AccelConfig:
    """Every parameter of one generated accelerator.

    Parameters
    ----------
    rows, cols : int
        Processing elements down and across the systolic array (1..128 each; non-square allowed).
        In the weight-stationary dataflow ``rows`` is the reduction (K) tile and ``cols`` the
        output (N) tile; in the output-stationary dataflow ``rows`` x ``cols`` is the output tile.
    dataflow : Dataflow or {"ws", "os"}
        Weight-stationary or output-stationary; a string is stored as its `Dataflow` member.
    input_width : int
        Bits of a signed input element (activations, weights and activated outputs).
    acc_width : int
        Bits of a signed accumulator element; at least ``2 * input_width``. Accumulation wraps
        modulo ``2**acc_width``.
    sp_kib, acc_kib : int
        Scratchpad and accumulator capacity in KiB. Depths are derived (rounded down to a multiple
        of the bank count).
    sp_banks, acc_banks : int
        Number of banks (powers of two).
    bus_width : int
        Main-memory (Wishbone) data width in bits: 8, 16, 32, 64, 128 or 256.
    mem_addr_width : int
        Bits of a main-memory byte address.
    soc_sram_kib : int
        On-chip SRAM of the SoC (firmware and data), in KiB; a power of two.
    name : str
        Free-form name recorded in the manifest.

    Raises
    ------
    ConfigError
        On construction, when any field is out of range; the message names field, value and range.
    """

    rows: int = 16
    cols: int = 16
    dataflow: Dataflow = Dataflow.WS
    input_width: int = 8
    acc_width: int = 32
    sp_kib: int = 64
    acc_kib: int = 64
    sp_banks: int = 4
    acc_banks: int = 2
    bus_width: int = 32
    mem_addr_width: int = 32
    soc_sram_kib: int = 64
    name: str = field(default="custom", compare=False)

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in INT_RANGES:
                lo, hi = INT_RANGES[f.name]
                if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi:
                    raise ConfigError(f"{f.name} must be an integer between {lo} and {hi}, "
                                      f"not {value!r}")
        if not isinstance(self.dataflow, str) or self.dataflow not in DATAFLOWS:
            raise ConfigError(f"dataflow must be one of {', '.join(DATAFLOWS)}, "
                              f"not {self.dataflow!r}")
        object.__setattr__(self, "dataflow", Dataflow(self.dataflow))
        if not isinstance(self.name, str):
            raise ConfigError(f"name must be a string, not {self.name!r}")
        if self.acc_width < 2 * self.input_width:
            raise ConfigError(f"acc_width must be at least 2 * input_width = "
                              f"{2 * self.input_width}, not {self.acc_width!r}")
        for name in ("sp_banks", "acc_banks", "soc_sram_kib"):
            value = getattr(self, name)
            if value & (value - 1):
                lo, hi = INT_RANGES[name]
                raise ConfigError(f"{name} must be a power of two between {lo} and {hi}, "
                                  f"not {value!r}")
        if self.bus_width not in BUS_WIDTHS:
            raise ConfigError(f"bus_width must be one of {', '.join(map(str, BUS_WIDTHS))}, "
                              f"not {self.bus_width!r}")
        if self.sp_rows < max(2 * self.dim, self.sp_banks):
            raise ConfigError(f"sp_kib={self.sp_kib} holds only {self.sp_rows} scratchpad rows; "
                              f"need at least {max(2 * self.dim, self.sp_banks)} "
                              f"(2 * dim) for this array")
        if self.acc_rows < max(2 * self.rows, self.acc_banks):
            raise ConfigError(f"acc_kib={self.acc_kib} holds only {self.acc_rows} accumulator "
                              f"rows; need at least {max(2 * self.rows, self.acc_banks)} "
                              f"(2 * rows) for this array")
        if self.sp_rows > 65536 or self.acc_rows > 65536:
            raise ConfigError(f"scratchpad and accumulator may hold at most 65536 rows each "
                              f"(16-bit row addresses), not {self.sp_rows} and {self.acc_rows}")

    # -- derived geometry ---------------------------------------------------------------------

    @property
    def dim(self) -> int:
        """Elements in one scratchpad row: ``max(rows, cols)``."""
        return max(self.rows, self.cols)

    @property
    def pe_count(self) -> int:
        return self.rows * self.cols

    @property
    def in_bytes(self) -> int:
        """Bytes of one input (or activated output) element in main memory."""
        return _elem_bytes(self.input_width)

    @property
    def acc_bytes(self) -> int:
        """Bytes of one accumulator element in main memory (raw loads and stores)."""
        return _elem_bytes(self.acc_width)

    @property
    def sp_row_bits(self) -> int:
        return self.dim * self.input_width

    @property
    def acc_row_bits(self) -> int:
        return self.cols * self.acc_width

    @property
    def sp_rows(self) -> int:
        """Scratchpad depth in rows (of ``dim`` elements), a multiple of ``sp_banks``."""
        rows = (self.sp_kib * 1024 * 8) // (self.dim * 8 * self.in_bytes)
        return rows - rows % self.sp_banks

    @property
    def acc_rows(self) -> int:
        """Accumulator depth in rows (of ``cols`` elements), a multiple of ``acc_banks``."""
        rows = (self.acc_kib * 1024) // (self.cols * self.acc_bytes)
        return rows - rows % self.acc_banks

    @property
    def sp_bank_rows(self) -> int:
        return self.sp_rows // self.sp_banks

    @property
    def acc_bank_rows(self) -> int:
        return self.acc_rows // self.acc_banks

    @property
    def sp_addr_width(self) -> int:
        return max(1, (self.sp_rows - 1).bit_length())

    @property
    def acc_addr_width(self) -> int:
        return max(1, (self.acc_rows - 1).bit_length())

    @property
    def bus_bytes(self) -> int:
        return self.bus_width // 8

    @property
    def mem_size_limit(self) -> int:
        """Bytes addressable on the main-memory bus."""
        return 1 << self.mem_addr_width

    @property
    def tile_limits(self) -> tuple[int, int, int]:
        """Largest (m, k, n) one PRELOAD + COMPUTE pair may cover in this dataflow.

        Weight-stationary: k <= rows and n <= cols are held in the array, m streams.
        Output-stationary: m <= rows and n <= cols are held in the array, k streams.
        """
        if self.dataflow is Dataflow.WS:
            return (MAX_BLOCK_ROWS, self.rows, self.cols)
        return (self.rows, MAX_BLOCK_ROWS, self.cols)

    @property
    def peak_macs_per_cycle(self) -> int:
        return self.pe_count

    # -- serialisation ------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """Every field, in declaration order, as plain JSON values (the dataflow as its name)."""
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out["dataflow"] = self.dataflow.value
        return out

    def hardware_digest(self) -> str:
        """12 hex digits of a hash of every field but ``name`` (which shapes no hardware and, like
        in ``==``, is ignored): the key under which emitted Verilog, simulator builds and
        firmware are cached."""
        fields_ = {k: v for k, v in self.to_dict().items() if k != "name"}
        return hashlib.sha256(json.dumps(fields_, sort_keys=True).encode()).hexdigest()[:12]

    def derived(self) -> dict[str, Any]:
        """The derived values recorded in manifests."""
        names = ("dim", "pe_count", "in_bytes", "acc_bytes", "sp_rows", "acc_rows",
                 "sp_bank_rows", "acc_bank_rows", "sp_addr_width", "acc_addr_width", "bus_bytes")
        out: dict[str, Any] = {n: getattr(self, n) for n in names}
        out["tile_limits"] = list(self.tile_limits)
        return out

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=False) + "\n"

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "AccelConfig":
        """Build from a mapping; unknown keys are an error.

        Raises
        ------
        ConfigError
            On an unknown key or an out-of-range value.
        """
        if not isinstance(data, Mapping):
            raise ConfigError(f"configuration must be a JSON object, not {type(data).__name__}")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(f"unknown configuration field {unknown[0]!r}; "
                              f"known fields: {', '.join(sorted(known))}")
        return cls(**dict(data))

    @classmethod
    def from_json(cls, text: str) -> "AccelConfig":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"configuration is not valid JSON: {exc.msg} at line {exc.lineno}")
        return cls.from_dict(data)

    @classmethod
    def from_file(cls, path: str | Path) -> "AccelConfig":
        """Read a JSON configuration file (or a manifest, whose ``config`` key is used).

        Raises
        ------
        ConfigError
            The file cannot be read, is not UTF-8 JSON, or holds an invalid configuration; the
            message names the file.
        """
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"cannot read configuration file {str(path)!r}: {exc.strerror}")
        except UnicodeDecodeError as exc:
            raise ConfigError(f"configuration file {str(path)!r} is not UTF-8 text (byte "
                              f"{exc.object[exc.start]:#04x} at offset {exc.start})") from None
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"configuration file {str(path)!r} is not valid JSON: "
                              f"{exc.msg} at line {exc.lineno}")
        if isinstance(data, dict) and "config" in data and isinstance(data["config"], dict):
            data = data["config"]
        try:
            return cls.from_dict(data)
        except ConfigError as exc:
            raise ConfigError(f"{path}: {exc}") from None

    def replace(self, **changes: Any) -> "AccelConfig":
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)


PRESETS: dict[str, AccelConfig] = {
    "tiny": AccelConfig(rows=4, cols=4, sp_kib=4, acc_kib=4, sp_banks=2, acc_banks=1,
                        name="tiny"),
    "small": AccelConfig(rows=8, cols=8, sp_kib=16, acc_kib=16, sp_banks=2, acc_banks=2,
                         name="small"),
    "default": AccelConfig(name="default"),
    "large": AccelConfig(rows=32, cols=32, sp_kib=256, acc_kib=256, name="large"),
}


def preset(name: str) -> AccelConfig:
    """The named preset.

    Raises
    ------
    ConfigError
        When no preset has that name.
    """
    try:
        return PRESETS[name]
    except KeyError:
        raise ConfigError(f"unknown preset {name!r}; presets: {', '.join(PRESETS)}") from None
