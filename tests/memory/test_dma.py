# amaranth: UnusedElaboratable=no
"""DMA engine against a random-latency pipelined Wishbone memory (Amaranth simulator).

Run with ``python -m pytest tests/memory/test_dma.py`` (the repository root must be importable
for ``tests.support``).
"""

from __future__ import annotations

import random

import pytest
from amaranth.sim import Simulator

from accel.memory import DMA
from sim.wishbone_memory import WishboneMemory
from tests.support.streams import receive, send

ADDR_WIDTH = 32
MEM_SIZE = 2048


def row_bytes_of(payload, max_row_bytes: int) -> bytes:
    return payload.data.as_value().value.to_bytes(max_row_bytes, "little")


def command(addr: int, stride: int, rows: int, row_bytes: int) -> dict:
    return {"addr": addr, "stride": stride, "rows": rows, "row_bytes": row_bytes}


def random_command(rng: random.Random, lo: int, hi: int, max_row_bytes: int,
                   max_rows: int = 5) -> dict:
    """A command whose rows all fall inside [lo, hi)."""
    rows = rng.choice([1, 1, 2, 3, rng.randint(1, max_rows)])
    row_bytes = rng.choice([1, max_row_bytes, rng.randint(1, max_row_bytes)])
    stride = rng.choice([0, rng.randint(1, row_bytes), row_bytes,
                         rng.randint(row_bytes, 3 * max_row_bytes)])
    span = (rows - 1) * stride + row_bytes
    return command(rng.randint(lo, hi - span), stride, rows, row_bytes)


def expected_rows(image: bytes, cmd: dict) -> list[bytes]:
    rows = []
    for r in range(cmd["rows"]):
        start = cmd["addr"] + r * cmd["stride"]
        rows.append(bytes(image[start:start + cmd["row_bytes"]]))
    return rows


def random_rows(rng: random.Random, cmd: dict, max_row_bytes: int) -> list[bytes]:
    # Lanes beyond row_bytes are random too: the DMA must ignore them.
    return [rng.randbytes(max_row_bytes) for _ in range(cmd["rows"])]


def apply_write(image: bytearray, cmd: dict, rows: list[bytes]) -> None:
    for r, row in enumerate(rows):
        start = cmd["addr"] + r * cmd["stride"]
        image[start:start + cmd["row_bytes"]] = row[:cmd["row_bytes"]]


def run(dut, mem: WishboneMemory, benches, max_cycles: int) -> None:
    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_process(mem.process)
    for bench in benches:
        sim.add_testbench(bench)
    while sim.advance():
        if mem.cycles > max_cycles:
            raise AssertionError(f"simulation did not finish within {max_cycles} cycles")


def make_dut(data_width: int, max_row_bytes: int, max_outstanding: int = 4) -> DMA:
    return DMA(addr_width=ADDR_WIDTH, data_width=data_width, max_row_bytes=max_row_bytes,
               max_outstanding=max_outstanding)


def reader_bench(dut, mem, rng, cmds, got, *, stall_prob=0.0):
    """Testbenches that queue read commands (with random gaps) while, concurrently, rows are
    received (with random back-pressure); ``got`` receives per command a list of
    ``(bytes, last, err)``."""
    mrb = dut.max_row_bytes
    cmd_rng = random.Random(rng.random())

    async def commands(ctx):
        await send(ctx, dut.rd_cmd, cmds, rng=cmd_rng, gap_prob=0.3)

    async def rows(ctx):
        beats = await receive(ctx, dut.rd_data, sum(cmd["rows"] for cmd in cmds), rng=rng,
                              stall_prob=stall_prob,
                              value=lambda p: (row_bytes_of(p, mrb), int(p.last), int(p.err)))
        for cmd in cmds:
            got.append(beats[:cmd["rows"]])
            del beats[:cmd["rows"]]
    return [commands, rows]


def writer_bench(dut, rng, cmds, rows_per_cmd, dones, *, gap_prob=0.0):
    """Testbenches that queue write commands, send rows (with random gaps) and collect
    ``wr_done`` errors into ``dones``, all concurrently."""
    cmd_rng = random.Random(rng.random())

    async def commands(ctx):
        await send(ctx, dut.wr_cmd, cmds, rng=cmd_rng, gap_prob=0.3)

    async def rows(ctx):
        await send(ctx, dut.wr_data, [{"data": list(row)} for rows in rows_per_cmd
                                      for row in rows], rng=rng, gap_prob=gap_prob)

    async def done(ctx):
        dones.extend(await receive(ctx, dut.wr_done, len(cmds), rng=cmd_rng, stall_prob=0.3,
                                   value=lambda p: int(p.err)))
    return [commands, rows, done]


def check_reads(cmds, image, got):
    assert len(got) == len(cmds)
    for cmd, beats in zip(cmds, got):
        want = expected_rows(image, cmd)
        assert len(beats) == cmd["rows"], cmd
        for r, (data, last, err) in enumerate(beats):
            assert err == 0, (cmd, r)
            assert last == (r == cmd["rows"] - 1), (cmd, r)
            assert data[:cmd["row_bytes"]] == want[r], (cmd, r, data.hex(), want[r].hex())
            assert not any(data[cmd["row_bytes"]:]), (cmd, r, "lanes above row_bytes not zero")


# (data_width, max_row_bytes, stall_prob, max_latency, seed)
TRAFFIC = [
    (32, 16, 0.0, 1, 1),
    (32, 16, 0.4, 5, 2),
    (64, 24, 0.0, 1, 3),
    (64, 24, 0.3, 6, 4),
    (8, 5, 0.3, 3, 5),
    (32, 1, 0.2, 2, 6),
]


@pytest.mark.slow
@pytest.mark.parametrize("data_width,max_row_bytes,stall_prob,max_latency,seed", TRAFFIC)
def test_read_random(data_width, max_row_bytes, stall_prob, max_latency, seed):
    rng = random.Random(seed)
    dut = make_dut(data_width, max_row_bytes)
    mem = WishboneMemory(dut.bus, size=MEM_SIZE, seed=seed, stall_prob=stall_prob,
                         max_latency=max_latency)
    image = bytes(mem.data)
    cmds = [random_command(rng, 0, MEM_SIZE, max_row_bytes) for _ in range(14)]
    got = []
    run(dut, mem, [*reader_bench(dut, mem, rng, cmds, got, stall_prob=0.3)], 20_000)
    check_reads(cmds, image, got)
    assert not mem.writes
    assert mem.max_outstanding <= 4


@pytest.mark.slow
@pytest.mark.parametrize("data_width,max_row_bytes,stall_prob,max_latency,seed", TRAFFIC)
def test_write_random(data_width, max_row_bytes, stall_prob, max_latency, seed):
    rng = random.Random(seed + 100)
    dut = make_dut(data_width, max_row_bytes)
    mem = WishboneMemory(dut.bus, size=MEM_SIZE, seed=seed, stall_prob=stall_prob,
                         max_latency=max_latency)
    image = bytearray(mem.data)
    cmds = [random_command(rng, 0, MEM_SIZE, max_row_bytes) for _ in range(14)]
    rows = [random_rows(rng, cmd, max_row_bytes) for cmd in cmds]
    dones = []
    run(dut, mem, [*writer_bench(dut, rng, cmds, rows, dones, gap_prob=0.3)], 20_000)
    assert dones == [0] * len(cmds)
    for cmd, cmd_rows in zip(cmds, rows):
        apply_write(image, cmd, cmd_rows)
    assert mem.data == image          # every addressed byte landed, nothing else changed
    assert all(w.sel for w in mem.writes)


@pytest.mark.slow
@pytest.mark.parametrize("data_width,max_row_bytes", [(32, 16), (64, 24), (8, 3)])
def test_read_heavy_backpressure(data_width, max_row_bytes):
    """A consumer that is rarely ready: responses must wait in the DMA, never be dropped."""
    rng = random.Random(data_width)
    dut = make_dut(data_width, max_row_bytes)
    mem = WishboneMemory(dut.bus, size=MEM_SIZE, seed=8)
    image = bytes(mem.data)
    cmds = [command(3, max_row_bytes + 1, 12, max_row_bytes)]
    cmds += [random_command(rng, 0, MEM_SIZE, max_row_bytes, max_rows=8) for _ in range(6)]
    got = []
    commands, rows = reader_bench(dut, mem, rng, cmds, got, stall_prob=0.9)

    async def late_rows(ctx):
        for _ in range(100):                  # far longer than the DMA can buffer
            await ctx.tick()
        await rows(ctx)

    run(dut, mem, [commands, late_rows], 20_000)
    check_reads(cmds, image, got)


@pytest.mark.slow
@pytest.mark.parametrize("data_width,seed", [(32, 11), (64, 12)])
def test_read_and_write_concurrently(data_width, seed):
    """Both channels share the bus; reads and writes target disjoint halves of memory."""
    rng = random.Random(seed)
    mrb = 12
    dut = make_dut(data_width, mrb)
    mem = WishboneMemory(dut.bus, size=MEM_SIZE, seed=seed, stall_prob=0.25, max_latency=4)
    image = bytearray(mem.data)
    half = MEM_SIZE // 2
    rd_cmds = [random_command(rng, 0, half, mrb, max_rows=8) for _ in range(10)]
    wr_cmds = [random_command(rng, half, MEM_SIZE, mrb, max_rows=8) for _ in range(10)]
    wr_rows = [random_rows(rng, cmd, mrb) for cmd in wr_cmds]
    got, dones = [], []
    run(dut, mem, [*reader_bench(dut, mem, rng, rd_cmds, got, stall_prob=0.2),
                   *writer_bench(dut, rng, wr_cmds, wr_rows, dones, gap_prob=0.2)], 20_000)
    check_reads(rd_cmds, image, got)
    assert dones == [0] * len(wr_cmds)
    for cmd, rows in zip(wr_cmds, wr_rows):
        apply_write(image, cmd, rows)
    assert mem.data == image


@pytest.mark.parametrize("data_width", [32, 64])
def test_read_bus_error(data_width):
    """A bus error flags exactly the rows that touch the bad word; the next command is clean."""
    mrb = 16
    nb = data_width // 8
    dut = make_dut(data_width, mrb)
    mem = WishboneMemory(dut.bus, size=MEM_SIZE, seed=21, stall_prob=0.3, max_latency=4)
    image = bytes(mem.data)
    bad_word = 256                                   # byte address of the erroring word
    mem.err_ranges.append((bad_word, bad_word + nb))
    stride = 40
    first = command(bad_word - stride - 3, stride, 4, 10)     # row 1 covers the bad word
    second = command(bad_word + 3 * nb + 1, 24, 3, 13)        # clear of it
    got = []
    run(dut, mem, [*reader_bench(dut, mem, random.Random(1), [first, second], got,
                                stall_prob=0.2)], 5_000)
    for r, (data, last, err) in enumerate(got[0]):
        start = first["addr"] + r * stride
        touches = start // nb <= bad_word // nb <= (start + 9) // nb
        assert err == touches, r
        assert last == (r == 3)
        if not touches:
            assert data[:10] == image[start:start + 10]
    check_reads([second], image, got[1:])


@pytest.mark.parametrize("data_width", [32, 64])
def test_write_bus_error(data_width):
    """An error mid-command: done.err, rows all consumed, no stray bytes, next command clean."""
    rng = random.Random(31)
    mrb = 16
    nb = data_width // 8
    dut = make_dut(data_width, mrb)
    mem = WishboneMemory(dut.bus, size=MEM_SIZE, seed=31, stall_prob=0.3, max_latency=4)
    old = bytes(mem.data)
    bad_word = 512
    mem.err_ranges.append((bad_word, bad_word + nb))
    first = command(bad_word - 2 * 20 - 1, 20, 6, 15)        # row 2 hits the bad word
    second = command(1000, 17, 5, 16)
    cmds = [first, second]
    rows = [random_rows(rng, cmd, mrb) for cmd in cmds]
    dones = []
    run(dut, mem, [*writer_bench(dut, rng, cmds, rows, dones, gap_prob=0.2)], 5_000)
    assert dones == [1, 0]

    new = bytearray(old)
    apply_write(new, first, rows[0])
    in_first = set()
    for r in range(first["rows"]):
        start = first["addr"] + r * first["stride"]
        in_first.update(range(start, start + first["row_bytes"]))
    for addr in range(MEM_SIZE):
        if addr in in_first:
            assert mem.data[addr] in (old[addr], new[addr]), addr
        elif not 1000 <= addr < 1000 + 4 * 17 + 16:
            assert mem.data[addr] == old[addr], addr
    # Rows before the failing one landed; nothing at or after the error was started anew.
    for r in range(2):
        start = first["addr"] + r * first["stride"]
        assert mem.data[start:start + 15] == rows[0][r][:15]
    errors = [i for i, w in enumerate(mem.writes) if w.err]
    first_writes = [w for w in mem.writes if w.addr < 900]
    assert len(errors) == 1
    assert len(first_writes) <= errors[0] + 1 + dut.max_outstanding
    expect = bytearray(mem.data)
    apply_write(expect, second, rows[1])
    assert mem.data == expect


def test_malformed_commands():
    """rows == 0, row_bytes == 0 and row_bytes > max_row_bytes never hang and touch nothing."""
    mrb = 12                                    # row_bytes field is 4 bits: 13..15 are too big
    dut = make_dut(32, mrb)
    mem = WishboneMemory(dut.bus, size=MEM_SIZE, seed=41, stall_prob=0.2, max_latency=3)
    old = bytes(mem.data)
    good = command(101, 13, 3, 12)
    got, dones = [], []

    async def bench(ctx):
        await send(ctx, dut.rd_cmd, [command(8, 4, 0, 4)])          # rows == 0: nothing
        for bad in (command(8, 4, 2, 0), command(8, 4, 3, 15)):
            await send(ctx, dut.rd_cmd, [bad])
            got.append(await receive(ctx, dut.rd_data, bad["rows"], value=lambda p: (
                row_bytes_of(p, mrb), int(p.last), int(p.err))))
        await send(ctx, dut.rd_cmd, [good])
        got.append(await receive(ctx, dut.rd_data, 3, value=lambda p: (
            row_bytes_of(p, mrb), int(p.last), int(p.err))))
        for bad in (command(8, 4, 0, 4), command(8, 4, 2, 0), command(8, 4, 2, 13)):
            await send(ctx, dut.wr_cmd, [bad])
            await send(ctx, dut.wr_data, [{"data": [0xAA] * mrb}] * bad["rows"])
            dones.extend(await receive(ctx, dut.wr_done, 1, value=lambda p: int(p.err)))

    run(dut, mem, [bench], 2_000)
    assert [[(d, last, e) for d, last, e in beats] for beats in got[:2]] == [
        [(bytes(mrb), 0, 1), (bytes(mrb), 1, 1)],
        [(bytes(mrb), 0, 1), (bytes(mrb), 0, 1), (bytes(mrb), 1, 1)]]
    check_reads([good], old, got[2:])
    assert dones == [1, 1, 1]
    assert mem.requests == 3 * 4 and not mem.writes       # only the good read's 4-word rows
    assert mem.data == old


@pytest.mark.slow
@pytest.mark.parametrize("data_width,max_outstanding", [(32, 4), (64, 4), (32, 2)])
def test_zero_wait_throughput(data_width, max_outstanding):
    """Zero wait states: a long aligned transfer moves about one bus word per cycle."""
    mrb = 64
    nb = data_width // 8
    rows = 16
    words = rows * mrb // nb
    dut = make_dut(data_width, mrb, max_outstanding)
    mem = WishboneMemory(dut.bus, size=MEM_SIZE, seed=51)
    image = bytes(mem.data)
    cmd = command(0, mrb, rows, mrb)
    wr_cmd = command(1024, mrb, rows, mrb)
    wr_rows = [bytes(random.Random(r).randbytes(mrb)) for r in range(rows)]
    cycles = {}
    got, dones = [], []

    async def read_bench(ctx):
        ctx.set(dut.rd_data.ready, 1)
        ctx.set(dut.rd_cmd.payload, cmd)
        ctx.set(dut.rd_cmd.valid, 1)
        await ctx.tick().until(dut.rd_cmd.ready)
        ctx.set(dut.rd_cmd.valid, 0)
        start = mem.cycles
        while len(got) < rows:
            _, _, valid, payload = await ctx.tick().sample(dut.rd_data.valid, dut.rd_data.payload)
            if valid:
                got.append((row_bytes_of(payload, mrb), int(payload.last), int(payload.err)))
        cycles["read"] = mem.cycles - start

        await send(ctx, dut.wr_cmd, [wr_cmd])
        start = mem.cycles
        await send(ctx, dut.wr_data, [{"data": list(row)} for row in wr_rows])
        dones.extend(await receive(ctx, dut.wr_done, 1, value=lambda p: int(p.err)))
        cycles["write"] = mem.cycles - start

    run(dut, mem, [read_bench], 5_000)
    check_reads([cmd], image, [got])
    assert dones == [0]
    assert mem.data[1024:1024 + rows * mrb] == b"".join(wr_rows)
    print(f"data_width={data_width} max_outstanding={max_outstanding}: {words} words read in "
          f"{cycles['read']} cycles, written in {cycles['write']} cycles")
    assert cycles["read"] <= words + 8
    assert cycles["write"] <= words + 8


@pytest.mark.slow
def test_channels_share_the_bus_fairly():
    """A short write finishes while a long read is still streaming (row-boundary hand-over)."""
    mrb = 32
    dut = make_dut(32, mrb)
    mem = WishboneMemory(dut.bus, size=MEM_SIZE, seed=61, stall_prob=0.1, max_latency=2)
    image = bytearray(mem.data)
    rd = command(0, mrb, 32, mrb)                           # 256 words
    wr = command(1500, 40, 3, 30)
    wr_rows = [random.Random(r).randbytes(mrb) for r in range(3)]
    events = []
    got, dones = [], []

    async def read_side(ctx):
        await send(ctx, dut.rd_cmd, [rd])
        got.append(await receive(ctx, dut.rd_data, rd["rows"], value=lambda p: (
            row_bytes_of(p, mrb), int(p.last), int(p.err))))
        events.append(("read done", mem.cycles))

    async def write_side(ctx):
        for _ in range(20):
            await ctx.tick()
        await send(ctx, dut.wr_cmd, [wr])
        await send(ctx, dut.wr_data, [{"data": list(row)} for row in wr_rows])
        dones.extend(await receive(ctx, dut.wr_done, 1, value=lambda p: int(p.err)))
        events.append(("write done", mem.cycles))

    run(dut, mem, [read_side, write_side], 5_000)
    check_reads([rd], image, got)
    apply_write(image, wr, wr_rows)
    assert dones == [0] and mem.data == image
    assert [name for name, _ in events] == ["write done", "read done"]
    assert events[0][1] < 100


@pytest.mark.slow
@pytest.mark.parametrize("data_width,max_row_bytes", [(16, 7), (128, 40)])
def test_other_bus_widths_and_one_outstanding(data_width, max_row_bytes):
    """max_outstanding=1 (no pipelining) is slow but exact; 16- and 128-bit buses work."""
    rng = random.Random(data_width)
    dut = make_dut(data_width, max_row_bytes, max_outstanding=1)
    mem = WishboneMemory(dut.bus, size=MEM_SIZE, seed=71, stall_prob=0.3, max_latency=3)
    image = bytearray(mem.data)
    half = MEM_SIZE // 2
    rd_cmds = [random_command(rng, 0, half, max_row_bytes) for _ in range(6)]
    wr_cmds = [random_command(rng, half, MEM_SIZE, max_row_bytes) for _ in range(6)]
    wr_rows = [random_rows(rng, cmd, max_row_bytes) for cmd in wr_cmds]
    got, dones = [], []
    run(dut, mem, [*reader_bench(dut, mem, rng, rd_cmds, got, stall_prob=0.3),
                   *writer_bench(dut, rng, wr_cmds, wr_rows, dones, gap_prob=0.3)], 20_000)
    check_reads(rd_cmds, image, got)
    for cmd, rows in zip(wr_cmds, wr_rows):
        apply_write(image, cmd, rows)
    assert dones == [0] * 6 and mem.data == image
    assert mem.max_outstanding == 1


@pytest.mark.parametrize("kwargs,message", [
    (dict(addr_width=32, data_width=24, max_row_bytes=8, max_outstanding=4), "data_width"),
    (dict(addr_width=2, data_width=64, max_row_bytes=8, max_outstanding=4), "addr_width"),
    (dict(addr_width=32, data_width=32, max_row_bytes=0, max_outstanding=4), "max_row_bytes"),
    (dict(addr_width=32, data_width=32, max_row_bytes=8, max_outstanding=0), "max_outstanding"),
])
def test_parameter_validation(kwargs, message):
    with pytest.raises(ValueError, match=message):
        DMA(**kwargs)


@pytest.mark.slow
def test_emits_verilog():
    from amaranth.back import verilog
    dut = make_dut(64, 24)
    text = verilog.convert(dut, name="dma")
    assert "module dma" in text and "bus__stall" in text
