"""The dispatcher against the golden model, with fake load/execute/store units in Python.

Every test runs a program through `Dispatcher` in the Amaranth simulator. One testbench drives the
command port, takes responses and plays three fake units: each accepts commands with a random
``ready``, keeps each one in flight for a random number of cycles and completes them in order on
its done stream (``valid`` for one cycle). The same program runs on the golden model; from that
run the tests derive the responses and the exact command sequence each unit must receive, and
then check hazards (conflicting commands of different units never overlap in time), overlap of
independent commands, FENCE, errors and throughput.
"""

from __future__ import annotations

import random
from collections import deque
from dataclasses import dataclass, field

import pytest
from amaranth.sim import Simulator

from accel.arch.hazards import UNITS as ARCH_UNITS
from accel.config import AccelConfig
from accel.control.dispatcher import Dispatcher
from accel.golden.arith import pool_last_row
from accel.golden.model import AccelError, GoldenModel
from accel.isa import Command, IllegalInstruction, decode, encode
from accel.isa.spec import ALWAYS_EXECUTED, Activation, Counter, ErrorCause

CFG_SQ = AccelConfig(rows=4, cols=4, sp_kib=4, acc_kib=4, sp_banks=1, acc_banks=1)
CFG_NS = AccelConfig(rows=2, cols=3, sp_kib=1, acc_kib=1, sp_banks=1, acc_banks=1,
                     mem_addr_width=12)
CONFIGS = [CFG_SQ, CFG_SQ.replace(dataflow="os"), CFG_NS, CFG_NS.replace(dataflow="os")]
CONFIG_IDS = ["4x4-ws", "4x4-os", "2x3-ws", "2x3-os"]

UNITS = tuple(str(unit) for unit in ARCH_UNITS)     # the dispatcher's unit ports, in order


def mem_size(cfg: AccelConfig) -> int:
    """Main memory the golden model models; equal to the hardware's when that is small."""
    return min(cfg.mem_size_limit, 1 << 16)


# -- the reference: what the golden model says each unit and each response must be -----------

@dataclass
class Expected:
    responses: list = field(default_factory=list)   # (index, name, rd, executed)
    units: dict = field(default_factory=lambda: {u: [] for u in UNITS})  # u -> [(index, dict)]
    fences: list = field(default_factory=list)      # program indices of executed fences


def reference(cfg: AccelConfig, program) -> Expected:
    g = GoldenModel(cfg, mem_size(cfg))
    exp = Expected()
    dirty = True
    for index, cmd in enumerate(program):
        try:
            ins, ops = decode(cmd)
        except IllegalInstruction:
            ins, ops = None, {}
        discarded = g.error != ErrorCause.NONE and (ins is None
                                                    or ins.name not in ALWAYS_EXECUTED)
        pre = dict(load_stride=g.load_stride, store_stride=g.store_stride,
                   act=(g.act_multiplier, g.act_shift, int(g.act_function == Activation.RELU),
                        g.act_zero_point, int(g.act_per_channel)),
                   weights=g.weights, pool=_golden_pool(g))
        try:
            rd = g.execute(cmd)
            ok = True
        except AccelError:
            rd, ok = None, False
        executed = ok and not discarded
        name = ins.name if ins is not None else None
        exp.responses.append((index, name, rd or 0, executed))
        if not executed:
            continue
        if ins.unit == "load":
            addr = ops["acc_addr"] if name == "load_acc" else ops["sp_addr"]
            exp.units["load"].append((index, dict(
                kind=ins.funct3, mem_addr=ops["mem_addr"], stride=pre["load_stride"],
                rows=ops["rows"], cols=ops["cols"], addr=addr)))
            w = pre["weights"]
            if name != "load_acc" and w is not None:
                lo = ops["sp_addr"]
                hi = lo + (ops["rows"] if name == "load_sp" else ops["cols"])
                if lo < w[0] + w[1] and w[0] < hi:
                    dirty = True
        elif name in ("config_pool", "config_pool_avg"):    # registers of the dispatcher
            continue
        elif name == "config_act_channels":     # the store unit loads the registers
            exp.units["store"].append((index, dict(kind=ins.funct3, addr=ops["acc_addr"])))
        elif ins.unit == "store":
            addr = ops["sp_addr"] if name == "store_sp" else ops["acc_addr"]
            exp.units["store"].append((index, dict(
                kind=ins.funct3, mem_addr=ops["mem_addr"], stride=pre["store_stride"],
                rows=ops["rows"], cols=ops["cols"], addr=addr, act=pre["act"])))
            if name == "store_pool":
                exp.units["store"][-1][1]["pool"] = pre["pool"]
        elif name == "preload":
            if pre["weights"] != (ops["b_addr"], ops["k"], ops["n"]):
                dirty = True
        elif ins.unit == "execute":
            b, k, n = pre["weights"]
            exp.units["execute"].append((index, dict(
                a_addr=ops["a_addr"], m=ops["m"], c_addr=ops["c_addr"],
                accumulate=int(name == "compute_acc"), b_addr=b, k=k, n=n, reload=int(dirty))))
            dirty = False
        elif name in ("fence", "config_window"):    # config_window waits like a fence
            exp.fences.append(index)
    return exp


_POOL_FIELDS = ("kh", "kw", "sh", "sw", "in_pitch", "out_w", "avg", "multiplier", "shift",
                "zero_point")


def _golden_pool(g) -> tuple:
    return (g.pool_kh, g.pool_kw, g.pool_sh, g.pool_sw, g.pool_in_pitch, g.pool_out_w,
            int(g.pool_mode == 1), g.pool_multiplier, g.pool_shift, g.pool_zero_point)


def ranges(cfg: AccelConfig, unit: str, c: dict) -> dict:
    """{(space, "r"|"w"): [(lo, hi), ...]} touched by a unit command."""
    out = {}

    def mem(elem):
        lo = c["mem_addr"]
        return [(lo, lo + (c["rows"] - 1) * c["stride"] + c["cols"] * elem)]

    if unit == "load":
        if c["kind"] == 2:
            out[("acc", "w")] = [(c["addr"], c["addr"] + c["rows"])]
            out[("mem", "r")] = mem(cfg.acc_bytes)
        else:
            n = c["rows"] if c["kind"] == 0 else c["cols"]
            out[("sp", "w")] = [(c["addr"], c["addr"] + n)]
            out[("mem", "r")] = mem(cfg.in_bytes)
    elif unit == "store" and c["kind"] == 3:     # CHANNELS: two accumulator rows
        out[("acc", "r")] = [(c["addr"], c["addr"] + 2)]
    elif unit == "store":
        if c["kind"] == 0:
            out[("sp", "r")] = [(c["addr"], c["addr"] + c["rows"])]
        elif c["kind"] == 6:    # POOL: up to the last window's last row
            geometry = dict(zip(_POOL_FIELDS[:6], c["pool"][:6]))
            out[("acc", "r")] = [(c["addr"], c["addr"] + 1 + pool_last_row(c["rows"],
                                                                           **geometry))]
        else:
            out[("acc", "r")] = [(c["addr"], c["addr"] + c["rows"])]
        out[("mem", "w")] = mem(cfg.acc_bytes if c["kind"] == 1 else cfg.in_bytes)
    else:
        a_rows = c["m"] if cfg.dataflow == "ws" else c["k"]
        out[("sp", "r")] = [(c["a_addr"], c["a_addr"] + a_rows),
                            (c["b_addr"], c["b_addr"] + c["k"])]
        out[("acc", "w")] = [(c["c_addr"], c["c_addr"] + c["m"])]
    return out


def conflict(ra: dict, rb: dict) -> bool:
    def hit(xs, ys):
        return any(lo1 < hi2 and lo2 < hi1 and lo1 < hi1 and lo2 < hi2
                   for lo1, hi1 in xs for lo2, hi2 in ys)
    for space in ("sp", "acc", "mem"):
        wa, wb = ra.get((space, "w"), []), rb.get((space, "w"), [])
        aa = wa + ra.get((space, "r"), [])
        ab = wb + rb.get((space, "r"), [])
        if hit(wa, ab) or hit(wb, aa):
            return True
    return False


# -- the simulation harness -------------------------------------------------------------------

@dataclass
class UnitCommand:
    payload: dict
    issue: int
    finish: int
    done: int | None = None
    err: bool = False


@dataclass
class Run:
    units: dict            # unit -> [UnitCommand]
    responses: list        # (cycle, rd)
    accepts: list          # cycle each command was accepted
    cycles: int = 0


def _payload(unit: str, p) -> dict:
    if unit == "execute":
        return {k: int(getattr(p, k)) for k in
                ("a_addr", "m", "c_addr", "accumulate", "b_addr", "k", "n", "reload")}
    out = {k: int(getattr(p, k)) for k in ("mem_addr", "stride", "rows", "cols", "addr")}
    out["kind"] = int(p.kind.value if hasattr(p.kind, "value") else p.kind)
    if unit == "store" and out["kind"] == 3:    # CHANNELS: only the rows matter
        return {"kind": 3, "addr": out["addr"]}
    if unit == "store":
        out["act"] = (int(p.act.multiplier), int(p.act.shift), int(p.act.relu),
                      int(p.act.zero_point), int(p.act.per_channel))
    if unit == "store" and out["kind"] == 6:
        out["pool"] = tuple(int(getattr(p.pool, k)) for k in _POOL_FIELDS)
    return out


def simulate(cfg, program, *, seed=0, depth=4, ready_prob=0.7, latency=(1, 8),
             cmd_gap=0.2, resp_stall=0.2, latency_of=None, bus_errors=(), max_cycles=20000,
             vcd=None, on_cycle=None) -> Run:
    """Run ``program`` (Commands, or ``("wait", n)`` for n idle command cycles) on a Dispatcher.

    ``latency_of(unit, nth)`` may override the random in-flight time of a unit's nth command;
    ``bus_errors`` holds (unit, nth) pairs whose done beat carries ``err``; ``on_cycle(ctx, dut,
    cycle)``, when given, is called every cycle after the handshakes (to sample outputs).
    """
    rng = random.Random(seed)
    dut = Dispatcher(cfg, depth=depth)
    ports = {"load": (dut.load, dut.load_done), "execute": (dut.execute, dut.execute_done),
             "store": (dut.store, dut.store_done)}
    n_cmds = sum(1 for p in program if isinstance(p, Command))
    run = Run(units={u: [] for u in UNITS}, responses=[], accepts=[])
    bus_errors = set(bus_errors)

    async def bench(ctx):
        queues = {u: deque() for u in UNITS}
        last_finish = {u: -1 for u in UNITS}
        stalled = {u: None for u in UNITS}
        pc = 0
        shown = None
        wait = 0
        cycle = 0
        while len(run.responses) < n_cmds or any(queues.values()):
            assert cycle < max_cycles, f"timeout: {len(run.responses)}/{n_cmds} responses"
            # Inputs for this cycle.
            readies = {}
            for u, (cmd_port, done_port) in ports.items():
                readies[u] = rng.random() < ready_prob
                ctx.set(cmd_port.ready, readies[u])
                q = queues[u]
                if q and q[0].finish <= cycle:
                    ctx.set(done_port.valid, 1)
                    ctx.set(done_port.payload.err, int(q[0].err))
                    ctx.set(done_port.payload.funct3, q[0].payload.get("kind", 0))
                else:
                    ctx.set(done_port.valid, 0)
            while pc < len(program) and not isinstance(program[pc], Command) and wait == 0:
                wait = program[pc][1]
                pc += 1
            offer = pc < len(program) and wait == 0 and rng.random() >= cmd_gap
            if wait:
                wait -= 1
            ctx.set(dut.cmd.valid, offer)
            if offer and shown != pc:
                c, shown = program[pc], pc
                ctx.set(dut.cmd.payload, {"funct7": c.funct7, "funct3": c.funct3,
                                          "rs1": c.rs1, "rs2": c.rs2})
            resp_ready = rng.random() >= resp_stall
            ctx.set(dut.resp.ready, resp_ready)
            # Outputs (settled) and handshakes.
            if offer and ctx.get(dut.cmd.ready):
                run.accepts.append(cycle)
                pc += 1
            if resp_ready and ctx.get(dut.resp.valid):
                run.responses.append((cycle, ctx.get(dut.resp.payload.rd)))
            for u, (cmd_port, done_port) in ports.items():
                q = queues[u]
                if q and q[0].finish <= cycle:
                    q.popleft().done = cycle
                valid = ctx.get(cmd_port.valid)
                if stalled[u] is not None:  # stream rule: held valid and stable until taken
                    assert valid and _payload(u, ctx.get(cmd_port.payload)) == stalled[u], \
                        f"{u}: command withdrawn or changed while stalled at cycle {cycle}"
                stalled[u] = None
                if valid and not readies[u]:
                    stalled[u] = _payload(u, ctx.get(cmd_port.payload))
                if readies[u] and valid:
                    nth = len(run.units[u])
                    lat = latency_of(u, nth) if latency_of else None
                    if lat is None:
                        lat = rng.randint(*latency)
                    finish = max(cycle + lat, last_finish[u] + 1)
                    last_finish[u] = finish
                    uc = UnitCommand(_payload(u, ctx.get(cmd_port.payload)), cycle, finish,
                                     err=(u, nth) in bus_errors)
                    run.units[u].append(uc)
                    q.append(uc)
            if on_cycle is not None:
                on_cycle(ctx, dut, cycle)
            await ctx.tick()
            cycle += 1
        run.cycles = cycle

    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    if vcd:
        with sim.write_vcd(vcd):
            sim.run()
    else:
        sim.run()
    return run


# -- checks -----------------------------------------------------------------------------------

def check_against_golden(cfg, program, run: Run, depth: int = 4) -> Expected:
    cmds = [p for p in program if isinstance(p, Command)]
    exp = reference(cfg, cmds)
    # 1. Responses: one per command, in order, matching the golden model.
    assert len(run.responses) == len(cmds)
    last = {}
    for (index, name, rd, executed), (cycle, got) in zip(exp.responses, run.responses):
        where = f"command {index} ({cmds[index]})"
        if name == "status":
            assert got & ~1 == rd, f"{where}: status {got:#x}, golden {rd:#x}"
        elif name in ("read_counter", "read_counter_hi") and executed \
                and decode(cmds[index])[1]["counter"] in (Counter.CYCLES, Counter.BUSY_CYCLES):
            counter = decode(cmds[index])[1]["counter"]
            if name == "read_counter":
                if counter == Counter.CYCLES:
                    assert got > 0, f"{where}: CYCLES is 0"
                    assert got > last.get(counter, 0), f"{where}: CYCLES not increasing"
                else:
                    assert got >= last.get(counter, 0), f"{where}: BUSY_CYCLES decreased"
                last[counter] = got
        else:
            assert got == rd, f"{where}: rd {got:#x}, golden {rd:#x}"
        if name == "reset_counters" and executed:
            last = {}
    # 2. Unit commands: exactly the golden sequence, in order.
    for u in UNITS:
        got = [c.payload for c in run.units[u]]
        want = [p for _, p in exp.units[u]]
        for i, (g, w) in enumerate(zip(got, want)):
            assert g == w, f"{u} command {i} (program index {exp.units[u][i][0]}): " \
                           f"got {g}, want {w}"
        assert len(got) == len(want), f"{u}: {len(got)} commands, golden {len(want)}"
    # 3. Hazards: a command conflicting with an earlier one of another unit waits for it.
    issued = []
    for u in UNITS:
        for (index, _), c in zip(exp.units[u], run.units[u]):
            issued.append((index, u, c, ranges(cfg, u, c.payload)))
    issued.sort(key=lambda t: t[0])
    for i, (ia, ua, ca, ra) in enumerate(issued):
        assert ca.done is not None
        for ib, ub, cb, rb in issued[i + 1:]:
            assert cb.issue > ca.issue, "unit commands issued out of program order"
            if ua != ub and conflict(ra, rb):
                assert cb.issue > ca.done, \
                    f"hazard: {ub} command (index {ib}) issued at {cb.issue} while {ua} " \
                    f"command (index {ia}) was in flight until {ca.done}"
    # A unit never holds more than ``depth`` commands.
    for u in UNITS:
        cs = run.units[u]
        for j in range(depth, len(cs)):
            assert cs[j].issue > cs[j - depth].done, f"{u}: more than {depth} in flight"
    # 5. FENCE: answered only after every earlier unit command completed.
    resp_cycle = [cycle for cycle, _ in run.responses]
    for f in exp.fences:
        for index, _, c, _ in issued:
            if index < f:
                assert c.done < resp_cycle[f], f"fence {f} answered while {index} in flight"
    return exp


# -- random programs --------------------------------------------------------------------------

class ProgramGen:
    """Random programs with small, often overlapping address ranges."""

    def __init__(self, cfg: AccelConfig, rng: random.Random):
        self.cfg, self.rng = cfg, rng
        self.sp_win = min(40, cfg.sp_rows)
        self.acc_win = min(24, cfg.acc_rows)
        self.k = None

    def _addr(self, win, count):
        return self.rng.randint(0, win - count)

    def mem(self):
        return self.rng.randint(0, 300)

    def legal(self, name=None):
        r, cfg = self.rng, self.cfg
        if name is None:
            names = ["load_sp", "load_sp_t", "load_acc", "store_sp", "store_acc", "store_act",
                     "compute", "compute_acc", "preload", "config_load", "config_store",
                     "config_act", "status", "read_counter", "read_counter_hi", "fence",
                     "reset_counters", "config_act_channels", "config_pool", "config_pool_avg",
                     "store_pool"]
            weights = [6, 3, 3, 3, 3, 3, 6, 4, 3, 2, 2, 1, 2, 2, 1, 1, 0.3, 1, 1, 0.5, 3]
            name = r.choices(names, weights)[0]
        if name in ("load_sp", "store_sp"):
            rows = r.randint(1, 8)
            return encode(name, mem_addr=self.mem(), sp_addr=self._addr(self.sp_win, rows),
                          rows=rows, cols=r.randint(1, cfg.dim))
        if name == "load_sp_t":
            cols = r.randint(1, 8)
            return encode(name, mem_addr=self.mem(), sp_addr=self._addr(self.sp_win, cols),
                          rows=r.randint(1, cfg.dim), cols=cols)
        if name in ("load_acc", "store_acc", "store_act"):
            rows = r.randint(1, 8)
            return encode(name, mem_addr=self.mem(), acc_addr=self._addr(self.acc_win, rows),
                          rows=rows, cols=r.randint(1, cfg.cols))
        if name == "preload":
            k = r.randint(1, cfg.rows if cfg.dataflow == "ws" else 8)
            self.k = k
            return encode(name, b_addr=self._addr(self.sp_win, k), k=k,
                          n=r.randint(1, cfg.cols))
        if name in ("compute", "compute_acc"):
            if self.k is None:
                return self.legal("preload")
            m = r.randint(1, 8 if cfg.dataflow == "ws" else cfg.rows)
            a_rows = m if cfg.dataflow == "ws" else self.k
            return encode(name, a_addr=self._addr(self.sp_win, a_rows), m=m,
                          c_addr=self._addr(self.acc_win, m))
        if name in ("config_load", "config_store"):
            return encode(name, stride=r.choice([0, 1, 4, 8, 16, 32]))
        if name == "config_act":
            return encode(name, multiplier=r.randint(0, (1 << 31) - 1), shift=r.randint(0, 63),
                          act=r.randint(0, 1), zero_point=r.randint(-32768, 32767))
        if name == "config_act_channels":
            return encode(name, acc_addr=self._addr(self.acc_win, 2), act=r.randint(0, 1),
                          zero_point=r.randint(-32768, 32767))
        if name == "config_pool":
            self.pool = dict(kh=r.randint(1, 3), kw=r.randint(1, 3), sh=r.randint(1, 3),
                             sw=r.randint(1, 3), in_pitch=r.randint(0, 5), out_w=r.randint(1, 4))
            return encode(name, mode=r.randint(0, 1), **self.pool)
        if name == "config_pool_avg":
            return encode(name, multiplier=r.randint(0, (1 << 31) - 1), shift=r.randint(0, 63),
                          zero_point=r.randint(-32768, 32767))
        if name == "store_pool":
            pool = getattr(self, "pool", dict(kh=1, kw=1, sh=1, sw=1, in_pitch=1, out_w=1))
            rows = r.randint(1, 6)
            last = pool_last_row(rows, **pool)
            if last >= self.acc_win:
                return self.legal("store_act")
            return encode(name, mem_addr=self.mem(), acc_addr=self._addr(self.acc_win, last + 1),
                          rows=rows, cols=r.randint(1, cfg.cols))
        if name in ("read_counter", "read_counter_hi"):
            return encode(name, counter=r.randint(0, len(Counter) - 1))
        return encode(name)

    def program(self, n, *, error_rate=0.0):
        prog = [self.legal("preload")]
        for _ in range(n):
            if self.rng.random() < error_rate:
                prog += self.bad() + [self.legal(), encode("status"), self.legal(),
                                      encode("clear_error"), encode("config_load", stride=4),
                                      encode("config_store", stride=8)]
            else:
                prog.append(self.legal())
        return prog + [encode("status"), encode("fence"), encode("status")]

    def bad(self):
        _, preamble, cmd = self.rng.choice(error_commands(self.cfg))
        return preamble + [cmd]


def error_commands(cfg: AccelConfig):
    """(cause, preamble, command): ``command`` fails with ``cause`` on ``cfg`` after ``preamble``
    (and after any legal preload: every case also fails with a preload in force)."""
    sp, acc, dim = cfg.sp_rows, cfg.acc_rows, cfg.dim
    out = [
        (ErrorCause.ILLEGAL_INSTRUCTION, [], Command(0x20, 0)),
        (ErrorCause.ILLEGAL_INSTRUCTION, [], Command(0x16, 5)),
        (ErrorCause.ILLEGAL_INSTRUCTION, [], Command(0x15, 0, rs1=1)),          # fence operand
        (ErrorCause.ILLEGAL_INSTRUCTION, [], Command(0x13, 0, rs2=1 << 7)),     # preload rs2
        (ErrorCause.ILLEGAL_INSTRUCTION, [], Command(0x14, 0, rs2=1 << 16)),    # compute rs2
        (ErrorCause.ILLEGAL_INSTRUCTION, [], Command(0x10, 2, rs1=1, rs2=2 << 6)),  # act 2
        (ErrorCause.ILLEGAL_INSTRUCTION, [], Command(0x10, 0, rs2=1)),          # config rs2
        (ErrorCause.ILLEGAL_INSTRUCTION, [], Command(0x17, 0, rs1=1 << 8)),     # counter rs1
        (ErrorCause.ILLEGAL_INSTRUCTION, [], encode("read_counter", counter=len(Counter))),
        (ErrorCause.ILLEGAL_INSTRUCTION, [], encode("read_counter_hi", counter=255)),
        (ErrorCause.SP_RANGE, [], encode("load_sp", mem_addr=0, sp_addr=sp - 1, rows=2, cols=1)),
        (ErrorCause.SP_RANGE, [], encode("load_sp_t", mem_addr=0, sp_addr=sp - 2, rows=1,
                                         cols=3)),
        (ErrorCause.SP_RANGE, [], encode("store_sp", mem_addr=0xFFFF_FFFF, sp_addr=0xFFFF,
                                         rows=1, cols=1)),   # SP_RANGE is checked before MEM
        (ErrorCause.SP_RANGE, [], encode("preload", b_addr=sp, k=1, n=1)),
        (ErrorCause.SP_RANGE, [], encode("compute", a_addr=sp, m=1, c_addr=acc)),
        (ErrorCause.ACC_RANGE, [], encode("load_acc", mem_addr=0, acc_addr=acc - 3, rows=4,
                                          cols=1)),
        (ErrorCause.ACC_RANGE, [], encode("store_acc", mem_addr=0, acc_addr=acc, rows=1,
                                          cols=1)),
        (ErrorCause.ACC_RANGE, [], encode("store_act", mem_addr=0, acc_addr=0xFFFF, rows=256,
                                          cols=1)),
        (ErrorCause.ACC_RANGE, [], encode("compute_acc", a_addr=0, m=1, c_addr=acc)),
        (ErrorCause.ACC_RANGE, [], encode("config_act_channels", acc_addr=acc - 1, act=1,
                                          zero_point=0)),
        (ErrorCause.ILLEGAL_INSTRUCTION, [], Command(0x12, 3, rs1=3 << 6)),     # act 3
        (ErrorCause.ILLEGAL_INSTRUCTION, [], Command(0x12, 4, rs1=2 << 16)),    # pool mode 2
        (ErrorCause.ACC_RANGE, [encode("config_pool", kh=2, kw=3, sh=2, sw=1, mode=0,
                                       in_pitch=5, out_w=2)],
         encode("store_pool", mem_addr=0, acc_addr=acc - ((2 + 1) * 5 + 1 + 2), rows=3,
                cols=1)),
        (ErrorCause.SHAPE, [], encode("store_pool", mem_addr=0, acc_addr=acc, rows=1,
                                      cols=cfg.cols + 1)),    # SHAPE before ACC_RANGE
        (ErrorCause.SHAPE, [], encode("load_sp", mem_addr=0, sp_addr=sp, rows=1,
                                      cols=dim + 1)),    # SHAPE is checked before SP_RANGE
        (ErrorCause.SHAPE, [], encode("load_sp_t", mem_addr=0, sp_addr=0, rows=dim + 1,
                                      cols=1)),
        (ErrorCause.SHAPE, [], encode("load_acc", mem_addr=0, acc_addr=0, rows=1,
                                      cols=cfg.cols + 1)),
        (ErrorCause.SHAPE, [], encode("store_sp", mem_addr=0, sp_addr=0, rows=1, cols=dim + 1)),
        (ErrorCause.SHAPE, [], encode("store_act", mem_addr=0, acc_addr=0, rows=1,
                                      cols=cfg.cols + 1)),
        (ErrorCause.SHAPE, [], encode("preload", b_addr=sp, k=1, n=cfg.cols + 1)),
    ]
    m_max, k_max, _ = cfg.tile_limits
    if k_max < 256:
        out.append((ErrorCause.SHAPE, [], encode("preload", b_addr=0, k=k_max + 1, n=1)))
    if m_max < 256:
        out.append((ErrorCause.SHAPE, [], encode("compute", a_addr=sp, m=m_max + 1, c_addr=0)))
    if cfg.mem_size_limit <= mem_size(cfg):  # the golden model models the whole memory
        top = cfg.mem_size_limit
        out += [
            (ErrorCause.MEM_RANGE, [], encode("load_sp", mem_addr=top - 1, sp_addr=0, rows=1,
                                              cols=2)),
            (ErrorCause.MEM_RANGE, [], encode("load_acc", mem_addr=top - cfg.acc_bytes + 1,
                                              acc_addr=0, rows=1, cols=1)),
            (ErrorCause.MEM_RANGE, [], encode("store_sp", mem_addr=0xFFFF_FFFF, sp_addr=0,
                                              rows=1, cols=1)),
            (ErrorCause.MEM_RANGE, [encode("config_store", stride=top // 2)],
             encode("store_act", mem_addr=0, acc_addr=0, rows=3, cols=1)),
            (ErrorCause.MEM_RANGE, [encode("config_load", stride=0xFFFF_FFFF)],
             encode("load_sp_t", mem_addr=0, sp_addr=0, rows=2, cols=1)),
        ]
    return out


# -- tests ------------------------------------------------------------------------------------

def _status(word: int) -> dict:
    return {"busy": word & 1, "error": (word >> 1) & 1, "cause": (word >> 8) & 0xFF,
            "funct7": (word >> 16) & 0x7F, "funct3": (word >> 23) & 7}


@pytest.mark.slow
@pytest.mark.parametrize("index", range(len(CONFIGS)), ids=CONFIG_IDS)
def test_random_programs_match_golden(index):
    """Random programs (a few failing commands, each followed by CLEAR_ERROR) vs golden."""
    cfg = CONFIGS[index]
    rng = random.Random(100 + index)
    program = ProgramGen(cfg, rng).program(220, error_rate=0.04)
    depth = (2, 4, 3, 1)[index]
    run = simulate(cfg, program, seed=index, depth=depth)
    exp = check_against_golden(cfg, program, run, depth)
    assert all(len(exp.units[u]) > 20 for u in UNITS)
    assert any(c["reload"] for _, c in exp.units["execute"])
    assert not all(c["reload"] for _, c in exp.units["execute"])


@pytest.mark.slow
@pytest.mark.parametrize("index", range(len(CONFIGS)), ids=CONFIG_IDS)
def test_every_error_cause(index):
    """Each failing command reaches no unit, sets the status like the golden model, and every
    later non-control command is discarded until CLEAR_ERROR."""
    cfg = CONFIGS[index]
    gen = ProgramGen(cfg, random.Random(200 + index))
    program = [encode("compute", a_addr=0, m=1, c_addr=0)]   # NO_WEIGHTS
    expect = [(ErrorCause.NO_WEIGHTS, program[0])]
    status_at = {1: 0}            # program index of a STATUS -> the failure it must report
    windows = []                  # (failing command, its CLEAR_ERROR): nothing reaches a unit
    program += [encode("status"), gen.legal("load_sp"), gen.legal("store_act"),
                encode("config_load", stride=3), encode("preload", b_addr=1, k=1, n=1),
                encode("fence"), encode("read_counter", counter=Counter.INSTRUCTIONS),
                encode("status")]
    windows.append((0, len(program)))
    program += [encode("clear_error"), encode("status"), gen.legal("preload")]
    cases = error_commands(cfg)
    causes = {c for c, _, _ in cases}
    assert causes >= {ErrorCause.ILLEGAL_INSTRUCTION, ErrorCause.SP_RANGE, ErrorCause.ACC_RANGE,
                      ErrorCause.SHAPE}
    assert (ErrorCause.MEM_RANGE in causes) == (cfg.mem_addr_width == 12)
    for cause, preamble, bad in cases:
        program += [gen.legal("load_sp")] + preamble + [bad]
        bad_at = len(program) - 1
        status_at[len(program)] = len(expect)
        expect.append((cause, bad))
        program += [encode("status"), gen.legal("load_sp_t"), gen.legal("compute_acc"),
                    gen.legal("store_sp"), bad, encode("config_store", stride=5),
                    encode("reset_counters"), encode("read_counter", counter=Counter.MACS),
                    encode("status")]
        windows.append((bad_at, len(program)))
        program += [encode("clear_error"), encode("status"),
                    encode("config_load", stride=0), encode("config_store", stride=0),
                    gen.legal("store_acc"), gen.legal("load_acc"), gen.legal("compute")]
    run = simulate(cfg, program, seed=index, depth=2)
    exp = check_against_golden(cfg, program, run, 2)
    # The status right after each failing command names it, explicitly (not just "as golden").
    for at, n in status_at.items():
        cause, bad = expect[n]
        word = run.responses[at][1]
        assert _status(word) == {"busy": word & 1, "error": 1, "cause": int(cause),
                                 "funct7": bad.funct7, "funct3": bad.funct3}, (bad, hex(word))
        assert run.responses[at + 1][1] == 0 or program[at + 1].funct7 == 0x16
    # From a failing command to its CLEAR_ERROR nothing reached a unit; after it, work resumes.
    for u in UNITS:
        for index, _ in exp.units[u]:
            assert not any(lo <= index <= hi for lo, hi in windows), (u, index)
    for _, clear in windows:
        assert program[clear] == encode("clear_error")
        assert run.responses[clear + 1][1] & ~1 == 0          # status clean again
    assert all(len(exp.units[u]) >= len(cases) for u in UNITS)


@pytest.mark.slow
def test_bus_errors():
    """A done beat with err sets BUS_ERROR (unit's funct7, done's funct3) when no error is set;
    later unit commands are discarded until CLEAR_ERROR."""
    cfg = CFG_NS
    lat = {("load", 0): 25, ("load", 1): 1, ("execute", 0): 25, ("store", 0): 25,
           ("load", 2): 40}

    def latency_of(unit, nth):
        return lat.get((unit, nth))

    load_t = encode("load_sp_t", mem_addr=0, sp_addr=0, rows=1, cols=2)
    program = [
        # load unit: bus error on load_sp_t (funct3 1)
        encode("preload", b_addr=20, k=1, n=1), load_t,
        encode("compute", a_addr=10, m=1, c_addr=0), ("wait", 40),
        encode("status"),                                                        # 3
        encode("load_sp", mem_addr=0, sp_addr=0, rows=1, cols=1),               # discarded
        encode("compute", a_addr=10, m=1, c_addr=0),                            # discarded
        encode("store_act", mem_addr=64, acc_addr=8, rows=1, cols=1),           # discarded
        encode("status"), encode("clear_error"), encode("status"),              # 7..9
        # exec unit: bus error on compute_acc
        encode("compute_acc", a_addr=10, m=1, c_addr=0), ("wait", 40),
        encode("status"), encode("clear_error"),                                 # 11, 12
        # store unit: bus error on store_act (funct3 2)
        encode("store_act", mem_addr=64, acc_addr=8, rows=1, cols=1), ("wait", 40),
        encode("status"), encode("clear_error"),                                 # 14, 15
        # a bus error while another error is set does not replace it
        encode("load_acc", mem_addr=0, acc_addr=30, rows=1, cols=1),            # load #1
        encode("load_sp", mem_addr=0, sp_addr=0, rows=1, cols=1),               # load #2 (err)
        encode("store_sp", mem_addr=0, sp_addr=cfg.sp_rows, rows=1, cols=1),    # SP_RANGE
        ("wait", 60), encode("status"), encode("clear_error"), encode("fence"),  # 19..21
        encode("status"),                                                        # 22
    ]
    run = simulate(cfg, program, seed=5, latency_of=latency_of, ready_prob=1.0,
                   bus_errors={("load", 0), ("execute", 1), ("store", 0), ("load", 2)})
    st = [_status(rd) for _, rd in run.responses]
    assert st[3] == {"busy": 0, "error": 1, "cause": ErrorCause.BUS_ERROR, "funct7": 0x11,
                     "funct3": 1}
    assert run.responses[4][1] == run.responses[5][1] == run.responses[6][1] == 0
    assert st[7] == st[3] and run.responses[9][1] == 0
    assert st[11] == {"busy": 0, "error": 1, "cause": ErrorCause.BUS_ERROR, "funct7": 0x14,
                      "funct3": 0}
    assert st[14] == {"busy": 0, "error": 1, "cause": ErrorCause.BUS_ERROR, "funct7": 0x12,
                      "funct3": 2}
    assert st[19] == {"busy": 0, "error": 1, "cause": ErrorCause.SP_RANGE, "funct7": 0x12,
                      "funct3": 0}
    assert run.responses[22][1] == 0
    assert len(run.responses) == 23
    # The discarded commands reached no unit; the others did.
    assert [c.payload["kind"] for c in run.units["load"]] == [1, 2, 0]
    assert [c.payload["accumulate"] for c in run.units["execute"]] == [0, 1]
    assert [c.payload["kind"] for c in run.units["store"]] == [2]


@pytest.mark.slow
@pytest.mark.parametrize("cfg", [CFG_SQ, CFG_NS.replace(dataflow="os")], ids=["4x4-ws", "2x3-os"])
def test_independent_commands_overlap_and_fence_waits(cfg):
    """A long load does not hold back a compute and a store on other ranges; a conflicting
    compute waits; FENCE answers only once everything completed; STATUS shows busy."""
    k = 2
    a_rows = 1 if cfg.dataflow == "ws" else k
    program = [
        encode("config_load", stride=4), encode("preload", b_addr=40, k=k, n=1),
        encode("load_sp", mem_addr=0, sp_addr=0, rows=8, cols=1),        # long (60 cycles)
        encode("compute", a_addr=16, m=1, c_addr=0),                      # independent
        encode("store_acc", mem_addr=512, acc_addr=8, rows=2, cols=1),    # independent
        encode("load_acc", mem_addr=256, acc_addr=16, rows=1, cols=1),    # same unit: queued
        encode("status"),                                                 # busy
        encode("compute", a_addr=8 - a_rows, m=1, c_addr=4),              # conflicts with load
        encode("fence"), encode("status"),
    ]
    run = simulate(cfg, program, seed=9, ready_prob=1.0, cmd_gap=0.0, resp_stall=0.0,
                   latency_of=lambda u, n: 60 if (u, n) == ("load", 0) else 2)
    check_against_golden(cfg, program, run)
    load, compute1, compute2 = run.units["load"][0], *run.units["execute"]
    store = run.units["store"][0]
    assert compute1.issue < load.done and store.issue < load.done
    assert compute2.issue > load.done
    assert run.responses[6][1] & 1 == 1
    assert run.responses[9][1] == 0
    assert run.responses[8][0] > max(c.done for u in UNITS for c in run.units[u])


@pytest.mark.slow
def test_reload_flag():
    cfg = CFG_SQ
    c = encode("compute", a_addr=0, m=1, c_addr=0)
    program = [
        encode("preload", b_addr=20, k=4, n=4), c,            # first compute: reload
        c,                                                    # nothing changed
        encode("preload", b_addr=20, k=4, n=4), c,            # same operand: no reload
        encode("load_sp", mem_addr=0, sp_addr=10, rows=10, cols=1), c,    # rows 10..19: no
        encode("load_sp", mem_addr=0, sp_addr=23, rows=1, cols=1), c,     # row 23: reload
        encode("load_sp_t", mem_addr=0, sp_addr=18, rows=1, cols=3), c,   # rows 18..20: reload
        encode("load_acc", mem_addr=0, acc_addr=20, rows=4, cols=1), c,   # acc: no
        encode("preload", b_addr=20, k=4, n=3), c,            # n changed: reload
        encode("preload", b_addr=21, k=4, n=3), c,            # b changed: reload
        encode("preload", b_addr=21, k=3, n=3), c,            # k changed: reload
        Command(0x20, 0), encode("load_sp", mem_addr=0, sp_addr=21, rows=1, cols=1),
        encode("clear_error"), c,                             # discarded load: no reload
        encode("load_sp", mem_addr=0, sp_addr=24, rows=1, cols=1), c,     # 24 = b + k: no
    ]
    run = simulate(cfg, program, seed=3)
    check_against_golden(cfg, program, run)
    assert [u.payload["reload"] for u in run.units["execute"]] == \
        [1, 0, 0, 0, 1, 1, 0, 1, 1, 1, 0, 0]


@pytest.mark.slow
def test_counters_and_reset():
    cfg = CFG_NS
    rc = [encode(name, counter=int(c)) for c in Counter
          for name in ("read_counter", "read_counter_hi")]
    program = [encode("preload", b_addr=8, k=2, n=3),
               encode("load_sp", mem_addr=0, sp_addr=0, rows=3, cols=3),
               encode("load_acc", mem_addr=64, acc_addr=0, rows=2, cols=2),
               encode("compute_acc", a_addr=0, m=5, c_addr=0),
               encode("store_acc", mem_addr=128, acc_addr=0, rows=2, cols=3),
               encode("store_act", mem_addr=256, acc_addr=0, rows=3, cols=2), *rc,
               encode("read_counter", counter=Counter.CYCLES),
               encode("reset_counters"),
               encode("read_counter", counter=Counter.CYCLES), *rc,
               encode("compute", a_addr=0, m=1, c_addr=0), Command(0x20, 0),
               encode("reset_counters"),                        # executes although error set
               encode("load_sp", mem_addr=0, sp_addr=0, rows=1, cols=1),  # discarded
               encode("clear_error"), *rc]
    run = simulate(cfg, program, seed=4)
    exp = check_against_golden(cfg, program, run)
    rds = [rd for _, rd in run.responses]
    first = 6
    assert rds[first + 2 * Counter.MACS] == 5 * 2 * 3
    assert rds[first + 2 * Counter.LOAD_BYTES] == 9 + 2 * 2 * 4
    assert rds[first + 2 * Counter.STORE_BYTES] == 2 * 3 * 4 + 3 * 2
    assert rds[first + 2 * Counter.INSTRUCTIONS] == 6 + 2 * Counter.INSTRUCTIONS
    before, after = rds[first + len(rc)], rds[first + len(rc) + 2]
    assert 0 < after < before
    # After the reset: the CYCLES read and the reads before it in rc.
    assert rds[first + len(rc) + 3 + 2 * Counter.INSTRUCTIONS] == 1 + 2 * Counter.INSTRUCTIONS
    # After the reset while the error was set: clear_error (the discarded load does not count).
    assert rds[-len(rc) + 2 * Counter.INSTRUCTIONS] == 1 + 2 * Counter.INSTRUCTIONS
    assert rds[-len(rc) + 2 * Counter.LOAD_BYTES] == 0
    assert exp.responses[-1][3]


@pytest.mark.slow
def test_throughput_one_command_per_cycle():
    """With always-ready units that complete quickly, N independent commands are accepted in
    N cycles plus a small constant."""
    cfg = CFG_SQ
    body = [encode("load_sp", mem_addr=0, sp_addr=0, rows=4, cols=4),
            encode("compute", a_addr=16, m=4, c_addr=0),
            encode("store_acc", mem_addr=1024, acc_addr=16, rows=4, cols=4),
            encode("config_act", multiplier=3, shift=1, act=1, zero_point=-2)]
    n = 64
    program = [encode("config_load", stride=4), encode("preload", b_addr=40, k=4, n=4)]
    program += (body * (n // len(body)))
    run = simulate(cfg, program, seed=6, ready_prob=1.0, latency=(1, 2), cmd_gap=0.0,
                   resp_stall=0.0)
    check_against_golden(cfg, program, run)
    accepts = run.accepts
    assert accepts[-1] - accepts[0] <= len(program) + 4, accepts
