"""cocotb bench for the whole accelerator: runs a job of programs, checks against the golden model.

The job file (``$ACCELGEN_JOB``, written by `accel.runtime.rtl.write_job`) holds the configuration,
the initial main memory, a list of programs, each with byte "pokes" applied to main memory before it
runs, and bus-model settings. Programs run back to back on one accelerator (its scratchpad and
accumulator carry over, as they do in the golden model, which is one instance for the whole job).
With ``isolate`` set, every program instead starts as if on a fresh accelerator: reset, zeroed
scratchpad and accumulator, the initial main memory, a new golden model and the same random bus,
command-gap and back-pressure sequences, so programs of one job are independent experiments. The
golden model is `accel.golden.GoldenModel`, or the job's ``reference`` class (``module:name``,
constructed with the bus error windows, e.g. `accel.verify.fuzz.reference.BusFaultModel`).

For each program the bench sends every command (driver), collects one response per command
(monitor), counts cycles from the first command offered to the last response, and waits until
the accelerator is idle (its ``busy`` output low). With checking on, it then compares every
response (the busy bit of STATUS and the CYCLES / BUSY_CYCLES counters are
implementation-defined and masked) and the whole main memory with the golden model. Results
(cycles, responses, mismatches, and the final memory when asked) go to ``$ACCELGEN_RESULT``.
"""

import importlib
import json
import os
import random

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.triggers import RisingEdge

from accel.config import AccelConfig
from accel.golden import GoldenModel
from accel.compiler.hostops import host_op_from_dict
from accel.isa.encoding import Command, IllegalInstruction, decode
from accel.isa.spec import Counter
from accel.verify.randprog import zero_state_commands
from sim.accel_driver import CommandDriver, ResponseMonitor
from sim.busy_monitor import BusyMonitor
from sim.wishbone_memory import WishboneMemory

_TIMED_COUNTERS = (int(Counter.CYCLES), int(Counter.BUSY_CYCLES))


def _comparable(cmd: Command, rd: int) -> int | None:
    """The part of a response the golden model defines (None: nothing)."""
    try:
        ins, ops = decode(cmd)
    except IllegalInstruction:
        return rd
    if ins.name == "status":
        return rd & ~1
    if ins.name in ("read_counter", "read_counter_hi") and ops["counter"] in _TIMED_COUNTERS:
        return None
    return rd


def _reference(meta, config, memory):
    """The model the job compares with: the golden model, or the job's ``reference`` class
    (``module:name``, constructed with the bus error windows), holding a copy of ``memory``."""
    if meta.get("reference"):
        module, _, name = meta["reference"].partition(":")
        model = getattr(importlib.import_module(module), name)(
            config, mem_size=memory.size,
            error_windows=[tuple(w) for w in meta.get("error_windows", [])])
    else:
        model = GoldenModel(config, mem_size=memory.size)
    model.mem[:] = memory
    return model


async def _reset(dut):
    dut.rst.value = 1
    for _ in range(3):
        await RisingEdge(dut.clk)
    dut.rst.value = 0


async def _wait_idle(dut, timeout_cycles):
    """Wait until the accelerator is not busy (as FENCE does); False on timeout."""
    for _ in range(timeout_cycles):
        if not int(dut.busy.value):
            return True
        await RisingEdge(dut.clk)
    return False


async def _fresh_accelerator(dut, config, memory, monitor, timeout_cycles):
    """Reset the accelerator with zeroed scratchpad and accumulator, as after power-up.

    A reset clears registers, not SRAM, so between two resets the accelerator loads zeros into
    every row (from a zeroed row of ``memory``, which the caller then restores).
    """
    await _reset(dut)
    zeros = zero_state_commands(config)
    memory[:zeros.row_bytes] = 0
    first = len(monitor.values)
    cocotb.start_soon(CommandDriver(dut).send(zeros.commands))
    if not await monitor.wait_for(first + len(zeros.commands), timeout_cycles):
        raise AssertionError("the accelerator did not answer the commands that zero its state")
    await _reset(dut)


@cocotb.test()
async def run_job(dut):
    """Run every program of the job; record results and golden-model mismatches."""
    job = np.load(os.environ["ACCELGEN_JOB"], allow_pickle=False)
    meta = json.loads(str(job["meta"]))
    config = AccelConfig.from_dict(meta["config"])
    memory = job["memory"].copy()
    cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
    dut.rst.value = 1
    dut.cmd__valid.value = 0
    dut.resp__ready.value = 0
    for _ in range(3):
        await RisingEdge(dut.clk)
    dut.rst.value = 0

    bus = WishboneMemory.cocotb(dut, "bus", memory, data_width=config.bus_width,
                                stall_prob=meta["stall_prob"], max_latency=1 + meta["max_wait"],
                                err_ranges=meta.get("error_windows", []), past_end="err",
                                seed=meta["seed"], record=meta.get("record_bus", False))
    monitor = ResponseMonitor(dut, stall_prob=meta["resp_stall_prob"], seed=meta["seed"] + 1)
    cocotb.start_soon(bus.run())
    cocotb.start_soon(monitor.run())
    busy = None
    if meta.get("timeline"):
        busy = BusyMonitor(10)
        missing = busy.watch_accelerator(dut, [dut.cmd__valid, dut.cmd__ready])
        assert not missing, f"the accelerator lacks the signals of lanes {missing}"
    initial = memory.copy()
    golden = _reference(meta, config, memory) if meta["check"] else None

    results = {"cycles": [], "mismatches": [], "responses": []}
    reads: dict[str, np.ndarray] = {}
    bus_logs: dict[str, np.ndarray] = {}     # per program: the bus requests made while it ran
    timelines: dict[str, np.ndarray] = {}    # per program: its busy intervals
    for index in range(meta["programs"]):
        words = job[f"program{index}"]
        program = [Command(int(f7), int(f3), int(r1), int(r2)) for f7, f3, r1, r2 in words]
        if meta.get("isolate"):
            await _fresh_accelerator(dut, config, memory, monitor, meta["timeout_cycles"])
            memory[:] = initial
            bus.rng, monitor.rng = random.Random(meta["seed"]), random.Random(meta["seed"] + 1)
            golden = _reference(meta, config, memory) if meta["check"] else None
        if f"hostops{index}" in job:
            for op in json.loads(str(job[f"hostops{index}"])):
                host_op_from_dict(op).apply(memory)
                if golden is not None:
                    host_op_from_dict(op).apply(golden.mem)
        pokes = job[f"pokes{index}"]
        for row in pokes.reshape(-1, 2):
            memory[row[0]] = row[1]
            if golden is not None:
                golden.mem[row[0]] = row[1]
        driver = CommandDriver(dut, gap_prob=meta["cmd_gap_prob"],
                               seed=meta["seed"] + (0 if meta.get("isolate") else index))
        first = len(monitor.values)
        first_request = len(bus.requests_log)
        start = cocotb.utils.get_sim_time(unit="ns")
        cocotb.start_soon(driver.send(program))
        finished = await monitor.wait_for(first + len(program), meta["timeout_cycles"])
        cycles = int((cocotb.utils.get_sim_time(unit="ns") - start) // 10)
        # Compare at rest: a store may still be writing after the last response.
        idle = finished and await _wait_idle(dut, meta["timeout_cycles"])
        responses = monitor.values[first:first + len(program)]
        if bus.record:
            bus_logs[f"bus{index}"] = np.array(bus.requests_log[first_request:],
                                               dtype=np.int64).reshape(-1, 3)
        results["cycles"].append(cycles)
        results["responses"].append(responses)
        if busy is not None:
            first_cycle = int(round(start / 10))
            timelines[f"timeline{index}"] = busy.rows(first_cycle, first_cycle + cycles)
        if not finished:
            results["mismatches"].append(
                f"program {index}: timeout after {meta['timeout_cycles']} cycles with "
                f"{len(responses)} of {len(program)} responses")
            break
        if not idle:
            results["mismatches"].append(
                f"program {index}: still busy {meta['timeout_cycles']} cycles after its last "
                f"response")
            break
        if f"reads{index}" in job:
            for number, (addr, length) in enumerate(job[f"reads{index}"]):
                reads[f"read{index}_{number}"] = memory[addr:addr + length].copy()
        if golden is None:
            continue
        expected = golden.responses(program)
        for position, (cmd, got, want) in enumerate(zip(program, responses, expected)):
            if _comparable(cmd, got) != _comparable(cmd, want):
                results["mismatches"].append(
                    f"program {index} instruction {position} ({cmd}): response {got:#x}, "
                    f"golden {want:#x}")
        differ = np.flatnonzero(memory != golden.mem)
        if differ.size:
            results["mismatches"].append(
                f"program {index}: {differ.size} main-memory bytes differ, first at "
                f"{int(differ[0]):#x} (rtl {int(memory[differ[0]])}, golden "
                f"{int(golden.mem[differ[0]])})")
            memory[:] = golden.mem  # resynchronise so later programs are checked on their own
    out = {"meta": json.dumps(results), **reads, **bus_logs, **timelines}
    if meta.get("return_memory"):
        out["memory"] = memory
    np.savez(os.environ["ACCELGEN_RESULT"], **out)
    assert not results["mismatches"], "\n".join(results["mismatches"][:10])
