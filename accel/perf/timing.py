"""Pipeline latencies of the accelerator's units, derived from the configuration and the RTL.

Every figure below is a number of clock cycles of the RTL in `accel.accelerator.Accelerator`
with a zero-wait-state memory (the bench's `sim.wishbone_memory.WishboneMemory` answers each
request one cycle after accepting it). Latencies that the RTL states as a contract come from
`accel.arch`, which the gateware is built from too (the activation unit's pipeline depth, the
accumulator's write latency, the array's fill latency per dataflow, the units' queue depth, the
DMA row width); the remaining small offsets
(register stages between dispatcher, unit, DMA and SRAM) were read off the RTL and checked
against single-instruction programs on it (`bench/cycle_model.py` prints the comparison).
"""

from __future__ import annotations

from dataclasses import dataclass

from accel.arch.microarch import ACC_WRITE_LATENCY, ACTIVATION_LATENCY, array_latency
from accel.config import AccelConfig, Dataflow

__all__ = ["Timing"]


@dataclass(frozen=True)
class Timing:
    """Cycle offsets of one configuration.

    Members
    -------
    front_end : int
        From the cycle the last command fires in the dispatcher until the bench has seen its
        response, plus the cycle the driver offers the first command: the response FIFO, the
        command register and the bench's sampling.
    unit_accept : int
        From a command firing in the dispatcher until its unit holds it (one register).
    dma_read_pipeline : int
        From a DMA read's last bus word issued until its last row leaves the DMA (one-cycle
        ``ack``, the response FIFO, the row register).
    load_drain : int
        From the last row of a load leaving the DMA until the scoreboard retires the load (the
        SRAM write, the writer's drain state, the ``done`` register, the scoreboard; the same
        for the accumulator, whose write lands within the drain).
    writer_turnaround : int
        From a load writer's last row until it can write the next command's first row (its
        drain and idle states).
    transpose_drain : int
        From a transposed load's last scratchpad element write until its retirement.
    transpose_chunk_gap : int
        Writer cycles between two DMA chunks of one transposed load (state changes).
    store_start : int
        From a store's DMA write command accepted until its first bus word (the first SRAM
        read and the skid FIFO).
    store_tail : int
        From a store's last bus word until the store retires (the last ``ack``, the DMA's and
        the unit's ``done``, the scoreboard).
    store_acc_extra : int
        Extra cycle of a raw accumulator store (its rows are wider than the bus word).
    activation_latency : int
        Pipeline depth of the activation unit (`accel.arch.ACTIVATION_LATENCY`) that STORE_ACT
        rows pass through.
    store_gap : int
        Cycles from a store's retirement back to its DMA write command's acceptance time of the
        next store (negative: the DMA takes the next command before the dispatcher retires).
    array_latency : int
        The systolic array's latency (`accel.arch.array_latency`): ws ``rows + cols`` from an A
        row to its C row; os ``cols + 2`` from the last beat to C row 0.
    weight_drain : int
        ws: cycles after a weight switch during which the shadow chain may not shift
        (``rows + cols - 3``, the switch travelling through the mesh), plus the cycle the
        weight sequencer needs to see it.
    exec_issue : int
        From a COMPUTE firing until its first A row (ws) or beat (os) can enter the array.
    exec_release : int
        Extra cycles before a COMPUTE that waited for another unit's command can start, once
        that command has retired (measured; weight-stationary only).
    exec_tail : int
        From the array's last output row until the COMPUTE retires: the accumulator write
        latency (`accel.arch.ACC_WRITE_LATENCY`), the done delay line, the scoreboard.
    bus_switch : float
        Cycles lost per change of bus owner when the DMA's read and write channels alternate
        (a channel drains its outstanding requests, drops ``cyc``, the arbiter moves the grant).
    """

    front_end: int
    unit_accept: int
    dma_read_pipeline: int
    load_drain: int
    writer_turnaround: int
    transpose_drain: int
    transpose_chunk_gap: int
    store_start: int
    store_tail: int
    store_acc_extra: int
    activation_latency: int
    store_gap: int
    array_latency: int
    weight_drain: int
    exec_issue: int
    exec_release: int
    exec_tail: int
    bus_switch: float

    @classmethod
    def from_config(cls, config: AccelConfig) -> "Timing":
        rows, cols = config.rows, config.cols
        ws = config.dataflow is Dataflow.WS
        exec_tail = ACC_WRITE_LATENCY - 1 if ws else ACC_WRITE_LATENCY + 3
        return cls(
            front_end=5,
            unit_accept=1,
            dma_read_pipeline=2,
            load_drain=5,
            writer_turnaround=2,
            transpose_drain=4,
            transpose_chunk_gap=2,
            store_start=2,
            store_tail=5,
            store_acc_extra=1,
            activation_latency=ACTIVATION_LATENCY,
            store_gap=-2,
            array_latency=array_latency(rows, cols, config.dataflow),
            weight_drain=max(0, rows + cols - 3) + 1,
            exec_issue=2,
            exec_release=1 if ws else 0,
            exec_tail=exec_tail,
            bus_switch=1.5,
        )
