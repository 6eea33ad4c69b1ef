"""Memories and data movers: the DMA engine (scratchpad and accumulator live here too)."""

from accel.memory.dma import DMA, DMAReader, DMAWriter

__all__ = ["DMA", "DMAReader", "DMAWriter"]
