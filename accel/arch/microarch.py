"""Widths, depths, latencies and alignments of the accelerator's microarchitecture.

Each constant is a contract between the gateware that is built from it and the models
(`accel.perf`, the program emitters) that predict or rely on it; tests of the gateware measure
the latencies against these values.
"""

from __future__ import annotations

from accel.config import MAX_BLOCK_ROWS, AccelConfig, Dataflow

__all__ = [
    "ACC_WRITE_LATENCY", "ACTIVATION_LATENCY", "CHANNELS_CYCLES", "COUNT_BITS",
    "DMA_MAX_OUTSTANDING", "MEM_ALIGN", "POOL_CHECK_CYCLES", "POOL_REDUCE_LATENCY",
    "ROW_ADDR_BITS", "ROW_RANGE_BITS", "STRIDE_BITS",
    "UNIT_QUEUE_DEPTH", "align_up", "array_latency", "dma_row_bytes", "row_words",
]

#: Bits of a count field in a unit command: counts 1..`MAX_BLOCK_ROWS`, not counts minus one.
COUNT_BITS = MAX_BLOCK_ROWS.bit_length()
#: Bits of a scratchpad or accumulator row address operand (at most 65536 rows each).
ROW_ADDR_BITS = 16
#: Bits of a half-open row range bound: ``hi`` may be one past the last addressable row.
ROW_RANGE_BITS = ROW_ADDR_BITS + 1
#: Bits of a main-memory row stride (a 32-bit ``rs1`` operand).
STRIDE_BITS = 32

#: Commands each of the load, execute and store units may have in flight (queued or executing):
#: the dispatcher's scoreboard depth per unit.
UNIT_QUEUE_DEPTH = 4
#: Bus requests the DMA keeps in flight per channel.
DMA_MAX_OUTSTANDING = 4

#: Cycles from an accepted accumulator write until reads see it (the accumulator's contract,
#: which the execute unit waits out before reporting a COMPUTE done).
ACC_WRITE_LATENCY = 2
#: Pipeline depth of the activation unit: cycles from a vector accepted to its result valid,
#: without back-pressure (input, product, rounded shift, output registers).
ACTIVATION_LATENCY = 4
#: Cycles the store unit spends on a CONFIG_ACT_CHANNELS after taking it: read the multiplier
#: row, read the shift row, take the shifts, queue the completion (when its queue has room).
CHANNELS_CYCLES = 4
#: Cycles a STORE_POOL waits in the dispatcher for its last accumulator row (the ACC_RANGE
#: check and the scoreboard range): two radix-16 steps of ``(rows - 1) // out_w``, the product.
POOL_CHECK_CYCLES = 3
#: Pipeline depth after the activation unit of a STORE_POOL: the window reduction's output
#: register (max), plus the averaging `ActivationUnit` (average).
POOL_REDUCE_LATENCY = 1

#: Byte alignment of the regions that the host-side program emitters place in main memory:
#: a whole bus word of every supported bus width (up to 256 bits), with room to spare.
MEM_ALIGN = 64


def align_up(value: int, alignment: int = MEM_ALIGN) -> int:
    """``value`` rounded up to a multiple of ``alignment``."""
    return -(-value // alignment) * alignment


def dma_row_bytes(config: AccelConfig) -> int:
    """Widest DMA row the load and store units use: ``max(dim * in_bytes, cols * acc_bytes)``.

    The DMA engine that serves the units is built with this ``max_row_bytes``; a transposed
    load fetches at most ``dma_row_bytes(config) // in_bytes`` elements per row and chunk.
    """
    return max(config.dim * config.in_bytes, config.cols * config.acc_bytes)


def row_words(offset, row_bytes, bus_bytes: int):
    """Bus words that ``row_bytes`` bytes starting ``offset`` bytes into a bus word touch:
    ``ceil((offset + row_bytes) / bus_bytes)`` for a power-of-two ``bus_bytes``.

    The DMA issues one bus request per word; ``offset`` and ``row_bytes`` may be integers (the
    cycle model) or Amaranth values (the DMA), since only ``+`` and ``>>`` are used.
    """
    return (offset + row_bytes + (bus_bytes - 1)) >> (bus_bytes - 1).bit_length()


def array_latency(rows: int, cols: int, dataflow: Dataflow | str) -> int:
    """Cycles the systolic array takes from accepting an A vector (ws) or a ``last`` beat (os)
    to its first output vector, without stalls: ``rows + cols`` in ws, ``cols + 2`` in os."""
    return rows + cols if Dataflow(dataflow) is Dataflow.WS else cols + 2
