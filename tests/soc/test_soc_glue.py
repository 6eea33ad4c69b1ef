"""The SoC's glue without the core (no Instance): CoreBusAdapter and CommandMux, in the Amaranth
simulator."""

import random

import pytest
from amaranth.hdl import Module
from amaranth.sim import Simulator

from accel.config import AccelConfig
from accel.soc.soc import CommandMux, CoreBusAdapter, SoC
from sim.wishbone_memory import WishboneMemory
from tests.soc import assert_rejected


@pytest.mark.slow
def test_core_bus_adapter_against_memory_model():
    """PicoRV32-style accesses (valid held until ready, a new one only after ready) through the
    adapter into a stalling, slow memory: reads see earlier writes, byte strobes apply, an
    error response completes the access with bus_error set."""
    dut = CoreBusAdapter()
    rng = random.Random(3)
    mem = WishboneMemory(dut.bus, size=1024, seed=2, stall_prob=0.3, max_latency=4,
                         init=rng.randbytes(1024))
    mem.err_ranges.append((512, 516))
    shadow = bytearray(mem.data)
    checks = []

    async def core(ctx):
        for _ in range(200):
            addr = 4 * rng.randrange(256)
            wstrb = rng.choice([0, 0, 0b1111, 0b0001, 0b1100, 0b0110])
            wdata = rng.getrandbits(32)
            ctx.set(dut.mem_valid, 1)
            ctx.set(dut.mem_addr, addr)
            ctx.set(dut.mem_wdata, wdata)
            ctx.set(dut.mem_wstrb, wstrb)
            for _ in range(50):
                _, _, ready, rdata = await ctx.tick().sample(dut.mem_ready, dut.mem_rdata)
                if ready:
                    break
            else:
                raise AssertionError("no mem_ready")
            ctx.set(dut.mem_valid, 0)
            if addr == 512:
                assert ctx.get(dut.bus_error)
                continue
            if wstrb:
                for lane in range(4):
                    if wstrb >> lane & 1:
                        shadow[addr + lane] = wdata >> (8 * lane) & 0xFF
            else:
                checks.append((rdata, int.from_bytes(shadow[addr:addr + 4], "little")))
            if rng.random() < 0.5:
                await ctx.tick()

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_process(mem.process)
    sim.add_testbench(core)
    sim.run()
    assert checks and all(got == want for got, want in checks)
    assert bytes(mem.data[:512]) == bytes(shadow[:512])


@pytest.mark.slow
def test_command_mux_routes_responses_to_their_source():
    dut = CommandMux(depth=4)
    rng = random.Random(9)
    issued = []                 # (source, rs1) in acceptance order
    answers = {0: [], 1: []}
    top = Module()
    top.submodules.dut = dut

    def source(index, count):
        async def bench(ctx):
            cmd, resp = (dut.cmd0, dut.resp0) if index == 0 else (dut.cmd1, dut.resp1)
            ctx.set(resp.ready, 1)
            for n in range(count):
                ctx.set(cmd.valid, 1)
                ctx.set(cmd.payload.rs1, index << 16 | n)
                ctx.set(cmd.payload.funct7, index)
                await ctx.tick().until(cmd.ready)
                ctx.set(cmd.valid, 0)
                # like the bridges: wait for this command's response before the next one
                payload, = await ctx.tick().sample(resp.payload).until(resp.valid)
                answers[index].append(payload.rd)
                await ctx.tick().repeat(1 + rng.randrange(3))
        return bench

    async def accelerator(ctx):
        queue = []
        ctx.set(dut.cmd.ready, 1)
        for _ in range(2000):
            if queue and rng.random() < 0.5:
                ctx.set(dut.resp.valid, 1)
                ctx.set(dut.resp.payload.rd, queue[0] ^ 0xFFFF_FFFF)
            else:
                ctx.set(dut.resp.valid, 0)
            ctx.set(dut.cmd.ready, rng.random() < 0.7)
            _, _, c_valid, c_ready, rs1, r_valid, r_ready = await ctx.tick().sample(
                dut.cmd.valid, dut.cmd.ready, dut.cmd.payload.rs1, dut.resp.valid,
                dut.resp.ready)
            if r_valid and r_ready:
                queue.pop(0)
            if c_valid and c_ready:
                queue.append(rs1)
                issued.append(rs1)

    sim = Simulator(top)
    sim.add_clock(1e-8)
    sim.add_testbench(source(0, 30))
    sim.add_testbench(source(1, 30))
    sim.add_testbench(accelerator, background=True)
    sim.run_until(3e-5)
    for index in (0, 1):
        assert answers[index] == [(index << 16 | n) ^ 0xFFFF_FFFF for n in range(30)]
    assert len(issued) == 60


def test_soc_needs_a_bus_of_at_least_32_bits():
    assert_rejected(lambda: SoC(AccelConfig(rows=2, cols=2, bus_width=16)),
                    match="bus_width of at least 32, not 16")
