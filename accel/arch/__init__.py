"""The microarchitecture, as plain data: what the gateware builds and the models assume.

Constants and small rules that both the Amaranth gateware (`accel.control`, `accel.memory`,
`accel.systolic`, `accel.accelerator`) and the pure-Python models (`accel.perf`, `accel.nn`,
`accel.compiler.tiler`) depend on are defined here, once. Nothing in this package imports Amaranth
or a gateware module, so the models run where Amaranth is not installed.
"""

from accel.arch.hazards import READS, TRACKED, UNITS, WRITES, conflict_pairs
from accel.arch.microarch import (
    ACC_WRITE_LATENCY, ACTIVATION_LATENCY, COUNT_BITS, DMA_MAX_OUTSTANDING, MEM_ALIGN,
    ROW_ADDR_BITS, ROW_RANGE_BITS, STRIDE_BITS, UNIT_QUEUE_DEPTH, align_up, array_latency,
    dma_row_bytes, row_words,
)

__all__ = [
    "ACC_WRITE_LATENCY", "ACTIVATION_LATENCY", "COUNT_BITS", "DMA_MAX_OUTSTANDING", "MEM_ALIGN",
    "READS", "ROW_ADDR_BITS", "ROW_RANGE_BITS", "STRIDE_BITS", "TRACKED", "UNITS",
    "UNIT_QUEUE_DEPTH", "WRITES", "align_up", "array_latency", "conflict_pairs", "dma_row_bytes",
    "row_words",
]
