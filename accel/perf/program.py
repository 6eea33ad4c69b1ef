"""Predict the cycles of one accelerator program without simulating it.

The model follows the dispatcher (`accel.control.dispatcher.Dispatcher`): commands fire in
order, at most one per cycle; a load, compute or store fires once its unit takes commands, its
unit has fewer than `accel.arch.UNIT_QUEUE_DEPTH` in flight, and no in-flight command of
another unit conflicts with it (`hazards.conflicts`); FENCE and CONFIG_WINDOW wait until every
unit is idle; every other instruction completes in the dispatcher. Each unit model
(`LoadModel`, `ExecModel`, `StoreModel`) turns a fired command into the cycle it retires, with
the DMA's two channels sharing the bus (`SharedBus`). A program run from a command buffer is
one EXEC_BUFFER whose records reach the dispatcher as the `FetchModel` reads them. The cost is
a few microseconds per command.
"""

from __future__ import annotations

from collections import deque
from typing import Sequence

from accel.arch.hazards import UNITS
from accel.arch.microarch import UNIT_QUEUE_DEPTH
from accel.config import AccelConfig, Dataflow
from accel.isa.encoding import Command, IllegalInstruction
from accel.isa.spec import ALWAYS_EXECUTED, Unit
from accel.perf.bus import SharedBus
from accel.perf.decode import fast_decode
from accel.perf.estimate import CycleEstimate
from accel.perf.exec_model import ExecModel
from accel.perf.fetch_model import FetchModel
from accel.perf.hazards import command_ranges, conflicts
from accel.perf.load_model import LoadModel
from accel.perf.store_model import StoreModel
from accel.perf.timing import Timing

__all__ = ["predict_program"]

_WAIT_ALL = ("fence", "config_window")


class _Busy:
    """Cycles covered by a unit's in-flight intervals (they start in order)."""

    def __init__(self) -> None:
        self.total = 0.0
        self.until = 0.0

    def add(self, start: float, end: float) -> None:
        start = max(start, self.until)
        if end > start:
            self.total += end - start
            self.until = end


def predict_program(config: AccelConfig, commands: Sequence[Command], *,
                    from_buffer: bool = False, buffer_addr: int = 0) -> CycleEstimate:
    """Predict the cycles `accel.runtime.rtl.run_programs` measures for ``commands`` on ``config``.

    With ``from_buffer`` the core issues one EXEC_BUFFER of ``commands`` (records at
    ``buffer_addr``) instead: the records' bus words count as bus traffic (breakdown ``fetch``)
    and the cycles the dispatcher waits for a record as ``feed``.

    The count runs from the first command offered to the last response; programs that end
    with a fence (as every planned program does) are thereby timed until the accelerator is
    idle. The main memory answers every bus request one cycle later, as in the bench.

    Illegal commands (and those discarded after a sticky error) cost one cycle each, like
    instructions that complete in the dispatcher; a legal program is assumed for everything
    else (range checks are the golden model's business).

    Returns
    -------
    CycleEstimate
    """
    timing = Timing.from_config(config)
    bus = SharedBus(timing.bus_switch)
    loads = LoadModel(config, timing, bus)
    execute = ExecModel(config, timing)
    stores = StoreModel(config, timing, bus)
    models = {Unit.LOAD: loads, Unit.EXECUTE: execute, Unit.STORE: stores}
    # In-flight commands per unit, oldest first; a unit retires in order.
    inflight: dict[Unit, deque] = {unit: deque() for unit in UNITS}
    in_bytes, acc_bytes = config.in_bytes, config.acc_bytes
    ws = config.dataflow is Dataflow.WS
    busy = {unit: _Busy() for unit in models}
    load_stride = store_stride = 0
    weights = None                       # (b_addr, k, n) of the last PRELOAD
    dirty = True
    error = False
    now = 0.0                            # the cycle the next command is held
    fire = -1.0
    waited = 0.0
    macs = load_bytes = store_bytes = 0
    fetch, feed = None, 0.0
    if from_buffer and commands:
        fetch = FetchModel(config, bus, start=0.0, addr=buffer_addr)
        fire, now = 0.0, 1.0             # EXEC_BUFFER itself
    for index, cmd in enumerate(commands):
        if fetch is not None:
            if index:
                fetch.fired(fire)
            ready = fetch.available(index)
            if ready > now:
                feed, now = feed + ready - now, ready
        try:
            ins, ops = fast_decode(cmd)
        except IllegalInstruction:
            error = True
            fire, now = now, now + 1
            continue
        name = ins.name
        # PRELOAD only records the B operand, in the dispatcher.
        unit = ins.unit if ins.unit in UNITS and name != "preload" else None
        if error and name not in ALWAYS_EXECUTED:
            fire, now = now, now + 1
            continue
        fire = now
        if unit is Unit.EXECUTE and weights is None:     # NO_WEIGHTS: the sticky error is set
            error = True
            now += 1
            continue
        if unit is not None:
            if unit is Unit.EXECUTE:
                elem, stride = 0, 0
                a_rows = ops["m"] if ws else weights[1]
            else:
                elem = acc_bytes if name in ("load_acc", "store_acc") else in_bytes
                stride = load_stride if unit is Unit.LOAD else store_stride
                a_rows = 0
            ranges = command_ranges(name, ops, stride=stride, elem_bytes=elem,
                                    weights=(weights or (0, 0, 0))[:2], a_rows=a_rows)
            fire = max(fire, models[unit].ready())
            release = timing.exec_release if unit is Unit.EXECUTE else 0
            for other, entries in inflight.items():
                while entries and entries[0][0] <= now:
                    entries.popleft()
                if other is unit:
                    if len(entries) >= UNIT_QUEUE_DEPTH:
                        fire = max(fire, entries[len(entries) - UNIT_QUEUE_DEPTH][0])
                    continue
                for retire, old in entries:
                    if retire + release > fire and conflicts(ranges, unit, old, other):
                        fire = retire + release
            if unit is Unit.LOAD:
                retire = loads.schedule(name, ops, fire, load_stride)
                load_bytes += ops["rows"] * ops["cols"] * elem
                if name != "load_acc" and weights is not None and \
                        ranges["sp_w"][0] < weights[0] + weights[1] and \
                        weights[0] < ranges["sp_w"][1]:
                    dirty = True
            elif unit is Unit.STORE:
                retire = stores.schedule(name, ops, fire, store_stride)
                if name != "config_act_channels":
                    store_bytes += ops["rows"] * ops["cols"] * elem
            else:
                retire = execute.schedule(ops["m"], weights[1], dirty, fire)
                macs += ops["m"] * weights[1] * weights[2]
                dirty = False
            inflight[unit].append((retire, ranges))
            busy[unit].add(fire, retire)
        elif name in _WAIT_ALL:
            fire = max([fire] + [e[0] for entries in inflight.values() for e in entries])
        elif name == "config_load":
            load_stride = ops["stride"]
        elif name == "config_store":
            store_stride = ops["stride"]
        elif name == "preload":
            new = (ops["b_addr"], ops["k"], ops["n"])
            dirty = dirty or new != weights
            weights = new
        waited += fire - now
        now = fire + 1
    count = len(commands) + (fetch is not None)
    cycles = int(round(fire + timing.front_end)) if count else 0
    pes = config.rows * config.cols
    fetch_words = fetch.words if fetch is not None else 0
    bound = max(-(-macs // pes), bus.words, count)
    breakdown = {
        "load": int(round(busy[Unit.LOAD].total)),
        "compute": int(round(busy[Unit.EXECUTE].total)),
        "store": int(round(busy[Unit.STORE].total)),
        "bus": bus.words,
        "issue": count,
        "hazard": int(round(waited)),
        "front_end": timing.front_end if count else 0,
    }
    if fetch is not None:
        breakdown.update(fetch=fetch_words, feed=int(round(feed)))
    return CycleEstimate(cycles, breakdown, bound, count, macs, load_bytes, store_bytes)
