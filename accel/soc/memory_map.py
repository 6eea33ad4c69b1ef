"""The SoC memory map, defined once: the SoC's address decoder, the manifest, the firmware C
header and linker script all read it from here."""

from __future__ import annotations

from dataclasses import dataclass

from accel.config import AccelConfig

__all__ = ["Region", "memory_map", "region"]


@dataclass(frozen=True)
class Region:
    """One decoded address range of the SoC bus.

    Members
    -------
    name : str
        Lower-case identifier (``sram``, ``uart``, ...); C macros are ``SOC_<NAME>_BASE`` and
        ``SOC_<NAME>_SIZE``.
    base, size : int
        Byte address and size; ``size`` is a power of two and ``base`` a multiple of it.
    doc : str
        One line.
    """

    name: str
    base: int
    size: int
    doc: str

    @property
    def end(self) -> int:
        return self.base + self.size


#: Peripherals live in 4 KiB pages from this address.
PERIPHERAL_BASE = 0x1000_0000


def memory_map(config: AccelConfig) -> tuple[Region, ...]:
    """Every region of the SoC for ``config``, in address order."""
    regions = (
        Region("sram", 0x0000_0000, config.soc_sram_kib * 1024,
               "on-chip SRAM: firmware, stack and data; the accelerator's DMA reaches it too"),
        Region("uart", PERIPHERAL_BASE + 0x0000, 0x1000, "UART (8N1)"),
        Region("timer", PERIPHERAL_BASE + 0x1000, 0x1000, "64-bit cycle counter"),
        Region("leds", PERIPHERAL_BASE + 0x2000, 0x1000, "LED output register"),
        Region("accel", PERIPHERAL_BASE + 0x3000, 0x1000,
               "memory-mapped accelerator command port"),
    )
    for r in regions:
        assert r.size & (r.size - 1) == 0 and r.base % r.size == 0, r
    return regions


def region(config: AccelConfig, name: str) -> Region:
    """The region called ``name``."""
    for r in memory_map(config):
        if r.name == name:
            return r
    raise KeyError(f"no region {name!r}")
