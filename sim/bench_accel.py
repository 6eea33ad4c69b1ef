"""cocotb bench for the whole accelerator: runs a job of programs, checks against the golden model.

The job file (``$ACCELGEN_JOB``, written by `accel.rtl.write_job`) holds the configuration, the
initial main memory, a list of programs, each with byte "pokes" applied to main memory before it
runs, and bus-model settings. Programs run back to back on one accelerator (its scratchpad and
accumulator carry over, as they do in the golden model, which is one instance for the whole job).

For each program the bench sends every command (driver), collects one response per command
(monitor), and counts cycles from the first command offered to the last response. With checking
on, it then compares every response (the busy bit of STATUS and the CYCLES / BUSY_CYCLES counters
are implementation-defined and masked) and the whole main memory with the golden model. Results
(cycles, responses, mismatches, and the final memory when asked) go to ``$ACCELGEN_RESULT``.
"""

import json
import os

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.triggers import RisingEdge

from accel.config import AccelConfig
from accel.golden import GoldenModel
from accel.isa.encoding import Command, IllegalInstruction, decode
from accel.isa.spec import Counter
from sim.accel_driver import CommandDriver, ResponseMonitor
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

    bus = WishboneMemory(dut, "bus", memory, data_width=config.bus_width,
                         stall_prob=meta["stall_prob"], max_wait=meta["max_wait"],
                         error_windows=[tuple(w) for w in meta.get("error_windows", [])],
                         seed=meta["seed"])
    monitor = ResponseMonitor(dut, stall_prob=meta["resp_stall_prob"], seed=meta["seed"] + 1)
    cocotb.start_soon(bus.run())
    cocotb.start_soon(monitor.run())
    golden = GoldenModel(config, mem_size=memory.size) if meta["check"] else None
    if golden is not None:
        golden.mem[:] = memory

    results = {"cycles": [], "mismatches": [], "responses": []}
    for index in range(meta["programs"]):
        words = job[f"program{index}"]
        program = [Command(int(f7), int(f3), int(r1), int(r2)) for f7, f3, r1, r2 in words]
        pokes = job[f"pokes{index}"]
        for row in pokes.reshape(-1, 2):
            memory[row[0]] = row[1]
            if golden is not None:
                golden.mem[row[0]] = row[1]
        driver = CommandDriver(dut, gap_prob=meta["cmd_gap_prob"], seed=meta["seed"] + index)
        first = len(monitor.values)
        start = cocotb.utils.get_sim_time(unit="ns")
        cocotb.start_soon(driver.send(program))
        finished = await monitor.wait_for(first + len(program), meta["timeout_cycles"])
        cycles = int((cocotb.utils.get_sim_time(unit="ns") - start) // 10)
        responses = monitor.values[first:first + len(program)]
        results["cycles"].append(cycles)
        results["responses"].append(responses)
        if not finished:
            results["mismatches"].append(
                f"program {index}: timeout after {meta['timeout_cycles']} cycles with "
                f"{len(responses)} of {len(program)} responses")
            break
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
    out = {"meta": json.dumps(results)}
    if meta.get("return_memory"):
        out["memory"] = memory
    np.savez(os.environ["ACCELGEN_RESULT"], **out)
    assert not results["mismatches"], "\n".join(results["mismatches"][:10])
