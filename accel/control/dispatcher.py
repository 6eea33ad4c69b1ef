"""The dispatcher: decodes commands, checks them, and hands them to the units in order.

One command per cycle in steady state. Each command is, in program order:

- discarded (no effect, response 0) while the sticky error is set, unless it is one of
  `accel.isa.spec.ALWAYS_EXECUTED`;
- failed (no effect, response 0, sticky error set with its cause) when it is illegal or out of
  range — the checks and their order are those of the golden model;
- executed here (configuration registers, PRELOAD, STATUS, counters, FENCE once every unit is
  idle); or
- dispatched to the load, execute or store unit once the `Scoreboard` shows no conflict with an
  in-flight command of another unit.

Every command gets exactly one response, in order. Bus errors reported by a unit set the sticky
error (cause BUS_ERROR) when it is clear; commands already dispatched still complete (bus errors
are imprecise).

The DMA window (CONFIG_WINDOW, LOCK_WINDOW) lives here: every load and store is checked against
it before dispatch (precise MEM_WINDOW, after MEM_RANGE, as in the golden model), and it drives
the DMA's own guard through ``window_base``/``window_last``. CONFIG_WINDOW waits, like FENCE,
until every unit is idle, so the window never changes under a transfer in flight and a transfer
that passed the check here never trips the DMA's guard.
"""

from amaranth import Cat, Const, Module, Mux, Signal
from amaranth.lib import data, fifo, stream, wiring
from amaranth.lib.wiring import In, Out

from accel.control.activation import ActivationParams
from accel.config import AccelConfig
from accel.isa.decoder import COMMAND_LAYOUT, RESPONSE_LAYOUT, Decoder, Op
from accel.isa.spec import ALWAYS_EXECUTED, BY_NAME, Counter, ErrorCause
from accel.control.layouts import (DONE_LAYOUT, LoadKind, StoreKind, exec_command_layout,
                      load_command_layout, store_command_layout)
from accel.control.scoreboard import UNITS, Scoreboard, ranges_layout

__all__ = ["Dispatcher"]

_LOADS = {Op.LOAD_SP: LoadKind.SP, Op.LOAD_SP_T: LoadKind.SP_T, Op.LOAD_ACC: LoadKind.ACC}
_STORES = {Op.STORE_SP: StoreKind.SP, Op.STORE_ACC: StoreKind.ACC, Op.STORE_ACT: StoreKind.ACT}
_COMPUTES = (Op.COMPUTE, Op.COMPUTE_ACC)


class Dispatcher(wiring.Component):
    """Front end of the accelerator: command port in, unit command streams out.

    Parameters
    ----------
    config : AccelConfig
    depth : int
        Commands each unit may have in flight.

    Members
    -------
    cmd : In(stream.Signature(COMMAND_LAYOUT))
    resp : Out(stream.Signature(RESPONSE_LAYOUT))
        One response per command, in order (``rd`` = 0 for instructions without a result).
    load, execute, store : Out(stream.Signature(...))
        Unit commands (`accel.control.layouts`).
    load_done, execute_done, store_done : In(stream.Signature(DONE_LAYOUT))
        One completion per unit command, in order; always accepted.
    busy, error : Out(1)
    cause : Out(8)
        Current sticky error cause.
    window_base, window_last : Out(mem_addr_width)
        The DMA window (byte addresses, inclusive), for the DMA's guard.
    """

    def __init__(self, config: AccelConfig, depth: int = 4):
        self._config = config
        self._depth = depth
        super().__init__({
            "cmd": In(stream.Signature(COMMAND_LAYOUT)),
            "resp": Out(stream.Signature(RESPONSE_LAYOUT)),
            "load": Out(stream.Signature(load_command_layout(config))),
            "execute": Out(stream.Signature(exec_command_layout(config))),
            "store": Out(stream.Signature(store_command_layout(config))),
            "load_done": In(stream.Signature(DONE_LAYOUT)),
            "execute_done": In(stream.Signature(DONE_LAYOUT)),
            "store_done": In(stream.Signature(DONE_LAYOUT)),
            "busy": Out(1),
            "error": Out(1),
            "cause": Out(8),
            "window_base": Out(config.mem_addr_width),
            "window_last": Out(config.mem_addr_width, init=config.mem_size_limit - 1),
        })

    def elaborate(self, platform):
        cfg = self._config
        m = Module()
        m.submodules.decoder = decoder = Decoder()
        m.submodules.scoreboard = board = Scoreboard(cfg, self._depth)
        # depth 3: a SyncFIFOBuffered of depth 2 (one inner entry) accepts only every other cycle.
        m.submodules.responses = responses = fifo.SyncFIFOBuffered(width=32, depth=3)

        # -- the held command -------------------------------------------------------------
        held = Signal(COMMAND_LAYOUT)
        held_valid = Signal()
        fire = Signal()
        m.d.comb += self.cmd.ready.eq(~held_valid | fire)
        with m.If(self.cmd.valid & self.cmd.ready):
            m.d.sync += [held.eq(self.cmd.payload), held_valid.eq(1)]
        with m.Elif(fire):
            m.d.sync += held_valid.eq(0)
        m.d.comb += decoder.command.eq(held)
        op, ops = decoder.op, decoder.operands

        # -- architectural registers ------------------------------------------------------
        load_stride = Signal(32)
        store_stride = Signal(32)
        act = Signal(ActivationParams, init={"multiplier": 1})
        w_valid = Signal()
        w_b, w_k, w_n = Signal(16), Signal(9), Signal(9)
        w_dirty = Signal(init=1)
        error = Signal(ErrorCause)
        err_funct7 = Signal(7)
        err_funct3 = Signal(3)
        counters = Signal(data.ArrayLayout(64, len(Counter)))
        win_base = Signal(cfg.mem_addr_width)
        win_last = Signal(cfg.mem_addr_width, init=cfg.mem_size_limit - 1)
        win_locked = Signal()

        # -- checks, in the golden model's order ------------------------------------------
        in_bytes, acc_bytes = cfg.in_bytes, cfg.acc_bytes
        rows, cols = ops.rows, ops.cols
        mem_end = Signal(max(cfg.mem_addr_width, 32) + 10)
        elem_bytes = Mux(_is(op, Op.LOAD_ACC, Op.STORE_ACC), acc_bytes, in_bytes)
        m.d.comb += mem_end.eq(ops.mem_addr + (rows - 1) * load_or_store(op, load_stride,
                                                                          store_stride)
                               + cols * elem_bytes)
        mem_bad = mem_end > (1 << cfg.mem_addr_width)
        window_bad = (ops.mem_addr < win_base) | (mem_end > win_last + 1)
        granule_bits = (cfg.bus_bytes - 1).bit_length()    # a window holds whole bus words
        window_invalid = (ops.base > ops.last) | (ops.last >= cfg.mem_size_limit)
        if granule_bits:
            window_invalid |= (ops.base[:granule_bits] != 0) | ~ops.last[:granule_bits].all()
        a_rows = ops.m if cfg.dataflow == "ws" else w_k
        k_max = cfg.tile_limits[1]
        checks = {  # op -> [(failure condition, cause)] in priority order
            Op.LOAD_SP: [(cols > cfg.dim, ErrorCause.SHAPE),
                         (ops.sp_addr + rows > cfg.sp_rows, ErrorCause.SP_RANGE)],
            Op.LOAD_SP_T: [(rows > cfg.dim, ErrorCause.SHAPE),
                           (ops.sp_addr + cols > cfg.sp_rows, ErrorCause.SP_RANGE)],
            Op.LOAD_ACC: [(cols > cfg.cols, ErrorCause.SHAPE),
                          (ops.acc_addr + rows > cfg.acc_rows, ErrorCause.ACC_RANGE)],
            Op.STORE_SP: [(cols > cfg.dim, ErrorCause.SHAPE),
                          (ops.sp_addr + rows > cfg.sp_rows, ErrorCause.SP_RANGE)],
            Op.STORE_ACC: [(cols > cfg.cols, ErrorCause.SHAPE),
                           (ops.acc_addr + rows > cfg.acc_rows, ErrorCause.ACC_RANGE)],
            Op.STORE_ACT: [(cols > cfg.cols, ErrorCause.SHAPE),
                           (ops.acc_addr + rows > cfg.acc_rows, ErrorCause.ACC_RANGE)],
            Op.PRELOAD: [(ops.k > k_max, ErrorCause.SHAPE), (ops.n > cfg.cols, ErrorCause.SHAPE),
                         (ops.b_addr + ops.k > cfg.sp_rows, ErrorCause.SP_RANGE)],
            Op.CONFIG_WINDOW: [(win_locked, ErrorCause.WINDOW_LOCKED),
                               (window_invalid, ErrorCause.WINDOW_INVALID)],
            Op.READ_COUNTER: [(ops.counter >= len(Counter), ErrorCause.ILLEGAL_INSTRUCTION)],
            Op.READ_COUNTER_HI: [(ops.counter >= len(Counter), ErrorCause.ILLEGAL_INSTRUCTION)],
        }
        for transfer in list(_LOADS) + list(_STORES):
            checks[transfer] += [(mem_bad, ErrorCause.MEM_RANGE),
                                 (window_bad, ErrorCause.MEM_WINDOW)]
        for compute in _COMPUTES:
            checks[compute] = [(~w_valid, ErrorCause.NO_WEIGHTS),
                               (ops.m > cfg.tile_limits[0], ErrorCause.SHAPE),
                               (ops.a_addr + a_rows > cfg.sp_rows, ErrorCause.SP_RANGE),
                               (ops.c_addr + ops.m > cfg.acc_rows, ErrorCause.ACC_RANGE)]
        fail = Signal()
        fail_cause = Signal(ErrorCause)
        with m.Switch(op):
            with m.Case(Op.ILLEGAL):
                m.d.comb += [fail.eq(1), fail_cause.eq(ErrorCause.ILLEGAL_INSTRUCTION)]
            for checked, rules in checks.items():
                with m.Case(checked):
                    for index, (bad, cause) in enumerate(rules):
                        with (m.If if index == 0 else m.Elif)(bad):
                            m.d.comb += [fail.eq(1), fail_cause.eq(cause)]

        always = _is(op, *(Op[name.upper()] for name in sorted(ALWAYS_EXECUTED)))
        discard = (error != ErrorCause.NONE) & ~always
        executes = ~discard & ~fail

        # -- ranges and unit commands -----------------------------------------------------
        new = Signal(ranges_layout(cfg))
        mem_lo = ops.mem_addr
        with m.Switch(op):
            with m.Case(Op.LOAD_SP):
                m.d.comb += [new.sp_w.lo.eq(ops.sp_addr), new.sp_w.hi.eq(ops.sp_addr + rows)]
            with m.Case(Op.LOAD_SP_T):
                m.d.comb += [new.sp_w.lo.eq(ops.sp_addr), new.sp_w.hi.eq(ops.sp_addr + cols)]
            with m.Case(Op.LOAD_ACC):
                m.d.comb += [new.acc_w.lo.eq(ops.acc_addr), new.acc_w.hi.eq(ops.acc_addr + rows)]
            with m.Case(Op.STORE_SP):
                m.d.comb += [new.sp_r.lo.eq(ops.sp_addr), new.sp_r.hi.eq(ops.sp_addr + rows)]
            with m.Case(Op.STORE_ACC, Op.STORE_ACT):
                m.d.comb += [new.acc_r.lo.eq(ops.acc_addr), new.acc_r.hi.eq(ops.acc_addr + rows)]
            with m.Case(*_COMPUTES):
                m.d.comb += [new.sp_r.lo.eq(ops.a_addr), new.sp_r.hi.eq(ops.a_addr + a_rows),
                             new.sp_r2.lo.eq(w_b), new.sp_r2.hi.eq(w_b + w_k),
                             new.acc_w.lo.eq(ops.c_addr), new.acc_w.hi.eq(ops.c_addr + ops.m)]
        with m.If(_is(op, *_LOADS)):
            m.d.comb += [new.mem_r.lo.eq(mem_lo), new.mem_r.hi.eq(mem_end)]
        with m.If(_is(op, *_STORES)):
            m.d.comb += [new.mem_w.lo.eq(mem_lo), new.mem_w.hi.eq(mem_end)]

        is_load, is_store = _is(op, *_LOADS), _is(op, *_STORES)
        is_compute = _is(op, *_COMPUTES)
        unit_index = Mux(is_load, UNITS.index("load"),
                         Mux(is_compute, UNITS.index("exec"), UNITS.index("store")))
        needs_unit = executes & (is_load | is_store | is_compute)
        m.d.comb += [board.new.eq(new), board.new_unit.eq(unit_index)]

        load_kind = Signal(LoadKind)
        store_kind = Signal(StoreKind)
        for code, kind in _LOADS.items():
            with m.If(op == code):
                m.d.comb += load_kind.eq(kind)
        for code, kind in _STORES.items():
            with m.If(op == code):
                m.d.comb += store_kind.eq(kind)
        row_addr = Mux(_is(op, Op.LOAD_ACC, Op.STORE_ACC, Op.STORE_ACT), ops.acc_addr,
                       ops.sp_addr)
        m.d.comb += [
            self.load.payload.kind.eq(load_kind),
            self.load.payload.mem_addr.eq(ops.mem_addr),
            self.load.payload.stride.eq(load_stride),
            self.load.payload.rows.eq(rows), self.load.payload.cols.eq(cols),
            self.load.payload.addr.eq(row_addr),
            self.store.payload.kind.eq(store_kind),
            self.store.payload.mem_addr.eq(ops.mem_addr),
            self.store.payload.stride.eq(store_stride),
            self.store.payload.rows.eq(rows), self.store.payload.cols.eq(cols),
            self.store.payload.addr.eq(row_addr),
            self.store.payload.act.eq(act),
            self.execute.payload.a_addr.eq(ops.a_addr), self.execute.payload.m.eq(ops.m),
            self.execute.payload.c_addr.eq(ops.c_addr),
            self.execute.payload.accumulate.eq(op == Op.COMPUTE_ACC),
            self.execute.payload.b_addr.eq(w_b), self.execute.payload.k.eq(w_k),
            self.execute.payload.n.eq(w_n), self.execute.payload.reload.eq(w_dirty),
        ]

        # -- when may the held command go? ------------------------------------------------
        unit_full = Mux(is_load, board.full[0], Mux(is_compute, board.full[1], board.full[2]))
        resp_space = responses.w_rdy
        go_unit = held_valid & needs_unit & ~board.conflict & ~unit_full & resp_space
        unit_ready = Mux(is_load, self.load.ready, Mux(is_compute, self.execute.ready,
                                                       self.store.ready))
        m.d.comb += [
            self.load.valid.eq(go_unit & is_load),
            self.execute.valid.eq(go_unit & is_compute),
            self.store.valid.eq(go_unit & is_store),
        ]
        fence_wait = executes & _is(op, Op.FENCE, Op.CONFIG_WINDOW) & ~board.idle
        local_go = held_valid & ~needs_unit & ~fence_wait & resp_space
        m.d.comb += fire.eq((go_unit & unit_ready) | local_go)
        m.d.comb += board.alloc.eq(go_unit & unit_ready)

        # -- results ----------------------------------------------------------------------
        # `error` is only as wide as ErrorCause needs (3 bits): pad it to the 8-bit cause field.
        status = Cat(~board.idle, error != ErrorCause.NONE, Const(0, 6),
                     error, Const(0, 8 - len(error)), err_funct7, err_funct3)
        counter_value = counters[ops.counter[:3]]
        rd = Signal(32)
        with m.If(executes):
            with m.Switch(op):
                with m.Case(Op.STATUS):
                    m.d.comb += rd.eq(status)
                with m.Case(Op.READ_COUNTER):
                    m.d.comb += rd.eq(counter_value[:32])
                with m.Case(Op.READ_COUNTER_HI):
                    m.d.comb += rd.eq(counter_value[32:])
        m.d.comb += [responses.w_data.eq(rd), responses.w_en.eq(fire),
                     self.resp.valid.eq(responses.r_rdy),
                     self.resp.payload.rd.eq(responses.r_data),
                     responses.r_en.eq(self.resp.ready)]

        # -- state updates on fire --------------------------------------------------------
        with m.If(fire & executes):
            with m.Switch(op):
                with m.Case(Op.CONFIG_LOAD):
                    m.d.sync += load_stride.eq(ops.stride)
                with m.Case(Op.CONFIG_STORE):
                    m.d.sync += store_stride.eq(ops.stride)
                with m.Case(Op.CONFIG_WINDOW):
                    m.d.sync += [win_base.eq(ops.base), win_last.eq(ops.last)]
                with m.Case(Op.LOCK_WINDOW):
                    m.d.sync += win_locked.eq(1)
                with m.Case(Op.CONFIG_ACT):
                    m.d.sync += [act.multiplier.eq(ops.multiplier), act.shift.eq(ops.shift),
                                 act.relu.eq(ops.act == 1), act.zero_point.eq(ops.zero_point)]
                with m.Case(Op.PRELOAD):
                    m.d.sync += [w_valid.eq(1), w_b.eq(ops.b_addr), w_k.eq(ops.k),
                                 w_n.eq(ops.n)]
                    with m.If(~w_valid | (w_b != ops.b_addr) | (w_k != ops.k) | (w_n != ops.n)):
                        m.d.sync += w_dirty.eq(1)
                with m.Case(*_COMPUTES):
                    m.d.sync += w_dirty.eq(0)
                with m.Case(Op.CLEAR_ERROR):
                    m.d.sync += [error.eq(ErrorCause.NONE), err_funct7.eq(0), err_funct3.eq(0)]
            # A load writing rows of the selected B operand forces the next COMPUTE to re-read it.
            with m.If((op == Op.LOAD_SP) | (op == Op.LOAD_SP_T)):
                with m.If((new.sp_w.lo < w_b + w_k) & (w_b < new.sp_w.hi)):
                    m.d.sync += w_dirty.eq(1)

        # -- errors -----------------------------------------------------------------------
        done_streams = (self.load_done, self.execute_done, self.store_done)
        unit_funct7 = (BY_NAME["load_sp"].funct7, BY_NAME["compute"].funct7,
                       BY_NAME["store_sp"].funct7)
        bus_error = Signal()
        bus_funct7 = Signal(7)
        bus_funct3 = Signal(3)
        for done, funct7 in zip(reversed(done_streams), reversed(unit_funct7)):
            m.d.comb += done.ready.eq(1)
            with m.If(done.valid & done.payload.err):
                m.d.comb += [bus_error.eq(1), bus_funct7.eq(funct7),
                             bus_funct3.eq(done.payload.funct3)]
        m.d.comb += board.retire.eq(Cat(*(d.valid for d in done_streams)))
        with m.If(error == ErrorCause.NONE):
            with m.If(fire & ~discard & fail):
                m.d.sync += [error.eq(fail_cause), err_funct7.eq(held.funct7),
                             err_funct3.eq(held.funct3)]
            with m.Elif(bus_error):
                m.d.sync += [error.eq(ErrorCause.BUS_ERROR), err_funct7.eq(bus_funct7),
                             err_funct3.eq(bus_funct3)]

        # -- counters ---------------------------------------------------------------------
        dispatched = fire & executes
        increments = {
            Counter.CYCLES: 1,
            Counter.BUSY_CYCLES: ~board.idle,
            Counter.MACS: Mux(dispatched & is_compute, ops.m * w_k * w_n, 0),
            Counter.INSTRUCTIONS: dispatched,
            Counter.LOAD_BYTES: Mux(dispatched & is_load, rows * cols * elem_bytes, 0),
            Counter.STORE_BYTES: Mux(dispatched & is_store, rows * cols * elem_bytes, 0),
        }
        with m.If(dispatched & (op == Op.RESET_COUNTERS)):
            m.d.sync += counters.eq(0)
        with m.Else():
            for counter, inc in increments.items():
                m.d.sync += counters[counter].eq(counters[counter] + inc)

        m.d.comb += [self.busy.eq(~board.idle), self.error.eq(error != ErrorCause.NONE),
                     self.cause.eq(error), self.window_base.eq(win_base),
                     self.window_last.eq(win_last)]
        return m


def _is(op, *codes):
    """Whether the decoded ``op`` is any of ``codes``."""
    hit = 0
    for code in codes:
        hit = hit | (op == code)
    return hit


def load_or_store(op, load_stride, store_stride):
    """The stride register a transfer instruction uses."""
    return Mux(_is(op, *_STORES), store_stride, load_stride)

