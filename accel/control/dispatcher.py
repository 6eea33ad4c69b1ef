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

Command buffers: commands arrive from the `CommandFetch` with their ``position`` (0 from the
core, 1 + index for an EXEC_BUFFER record). A record answers nothing (its ``rd`` is discarded)
except the last, whose response answers the core's EXEC_BUFFER; a record with a malformed
word, a nested EXEC_BUFFER, or one whose read ended in a bus error fails (ILLEGAL_INSTRUCTION,
BUS_ERROR). A failing record sets ERROR_INDEX to its position. EXEC_BUFFER itself is checked
here (alignment, memory range, window), waits for in-flight stores into its bytes, and tells
the fetcher on ``buffer_start`` whether to run.

The DMA window (CONFIG_WINDOW, LOCK_WINDOW) lives here: every load and store is checked against
it before dispatch (precise MEM_WINDOW, after MEM_RANGE, as in the golden model), and it drives
the DMA's own guard through ``window_base``/``window_last``. CONFIG_WINDOW waits, like FENCE,
until every unit is idle, so the window never changes under a transfer in flight and a transfer
that passed the check here never trips the DMA's guard.
"""

from amaranth import Cat, Module, Mux, Signal
from amaranth.lib import data, fifo, stream, wiring
from amaranth.lib.wiring import In, Out

from accel.arch.microarch import UNIT_QUEUE_DEPTH
from accel.config import AccelConfig
from accel.control.dispatch_checks import check_table, first_failure
from accel.control.dispatch_ops import (COMPUTES, LOADS, STORE_UNIT, STORES, elem_bytes, is_op,
                                        transfer_end)
from accel.control.dispatch_ranges import command_ranges
from accel.control.dispatch_registers import (ERROR_LAYOUT, registers_init, registers_layout,
                                              update_registers)
from accel.control.layouts import (BUFFER_START_LAYOUT, DISPATCH_COMMAND_LAYOUT, DONE_LAYOUT,
                                   LoadKind, StoreKind, exec_command_layout,
                                   load_command_layout, store_command_layout)
from accel.control.scoreboard import UNITS, Scoreboard
from accel.control.status import STATUS_LAYOUT
from accel.isa.decoder import RESPONSE_LAYOUT, Decoder, Op
from accel.isa.spec import ALWAYS_EXECUTED, BY_NAME, Counter, ErrorCause, Unit

__all__ = ["Dispatcher"]


class Dispatcher(wiring.Component):
    """Front end of the accelerator: command port in, unit command streams out.

    Parameters
    ----------
    config : AccelConfig
    depth : int
        Commands each unit may have in flight.

    Members
    -------
    cmd : In(stream.Signature(DISPATCH_COMMAND_LAYOUT))
        Commands from the core (``position`` 0) and EXEC_BUFFER records (`CommandFetch`).
    resp : Out(stream.Signature(RESPONSE_LAYOUT))
        One response per core command, in order (``rd`` = 0 for instructions without a
        result); an executing EXEC_BUFFER is answered when its last record is dispatched.
    buffer_start : Out(stream.Signature(BUFFER_START_LAYOUT))
        Once per core command with EXEC_BUFFER's codes, when it is dispatched: ``run`` (with
        the buffer) when it executes. The receiver is always ready.
    load, execute, store : Out(stream.Signature(...))
        Unit commands (`accel.control.layouts`).
    load_done, execute_done, store_done : In(stream.Signature(DONE_LAYOUT))
        One completion per unit command, in order; always accepted.
    busy, error : Out(1)
    cause : Out(8)
        Current sticky error cause (as wide as the STATUS word's ``cause`` field).
    window_base, window_last : Out(mem_addr_width)
        The DMA window (byte addresses, inclusive), for the DMA's guard.
    """

    def __init__(self, config: AccelConfig, depth: int = UNIT_QUEUE_DEPTH):
        self._config = config
        self._depth = depth
        super().__init__({
            "cmd": In(stream.Signature(DISPATCH_COMMAND_LAYOUT)),
            "resp": Out(stream.Signature(RESPONSE_LAYOUT)),
            "buffer_start": Out(stream.Signature(BUFFER_START_LAYOUT)),
            "load": Out(stream.Signature(load_command_layout(config))),
            "execute": Out(stream.Signature(exec_command_layout(config))),
            "store": Out(stream.Signature(store_command_layout(config))),
            "load_done": In(stream.Signature(DONE_LAYOUT)),
            "execute_done": In(stream.Signature(DONE_LAYOUT)),
            "store_done": In(stream.Signature(DONE_LAYOUT)),
            "busy": Out(1),
            "error": Out(1),
            "cause": Out(STATUS_LAYOUT["cause"].shape),
            "window_base": Out(config.mem_addr_width),
            "window_last": Out(config.mem_addr_width, init=config.mem_size_limit - 1),
        })

    def elaborate(self, platform):
        cfg = self._config
        m = Module()
        m.submodules.decoder = decoder = Decoder()
        m.submodules.scoreboard = board = Scoreboard(cfg, self._depth)
        # depth 3: a SyncFIFOBuffered of depth 2 (one inner entry) accepts only every other cycle.
        m.submodules.responses = responses = fifo.SyncFIFOBuffered(width=RESPONSE_LAYOUT.size,
                                                                   depth=3)

        fire = Signal()
        held, held_valid = self._hold(m, fire)
        m.d.comb += [decoder.command.funct7.eq(held.funct7),
                     decoder.command.funct3.eq(held.funct3),
                     decoder.command.rs1.eq(held.rs1), decoder.command.rs2.eq(held.rs2)]
        op, ops = self._op(m, decoder, held), decoder.operands

        regs = Signal(registers_layout(cfg), init=registers_init(cfg))
        error = Signal(ERROR_LAYOUT)
        counters = Signal(data.ArrayLayout(64, len(Counter)))

        mem_end = transfer_end(m, cfg, op, ops, regs)
        fail, first_cause = first_failure(m, op, check_table(cfg, ops, regs, mem_end))
        fail_cause = Mux(held.bus_err, ErrorCause.BUS_ERROR, first_cause)
        always = is_op(op, *(Op[name.upper()] for name in sorted(ALWAYS_EXECUTED)))
        discard = (error.cause != ErrorCause.NONE) & ~always
        executes = ~discard & ~fail

        new = command_ranges(m, cfg, op, ops, regs, mem_end)
        m.d.comb += board.new.eq(new)
        self._unit_commands(m, op, ops, regs)
        starts_buffer = executes & (op == Op.EXEC_BUFFER)
        self._issue(m, board, responses, op, held_valid, executes, starts_buffer, fire)
        self._start_buffer(m, held, ops, starts_buffer, fire)
        answers = Mux(held.position != 0, held.last, ~starts_buffer)

        m.d.comb += [responses.w_data.eq(self._result(m, board, op, ops, error, counters,
                                                      executes)),
                     responses.w_en.eq(fire & answers),
                     self.resp.valid.eq(responses.r_rdy),
                     self.resp.payload.rd.eq(responses.r_data),
                     responses.r_en.eq(self.resp.ready)]

        with m.If(fire & executes):
            update_registers(m, regs, op, ops, new.sp_w)
        self._errors(m, board, op, error, fire & executes, fire & ~discard & fail, fail_cause,
                     held)
        self._counters(m, board, op, ops, regs, counters, fire & executes)

        m.d.comb += [self.busy.eq(~board.idle), self.error.eq(error.cause != ErrorCause.NONE),
                     self.cause.eq(error.cause), self.window_base.eq(regs.window.base),
                     self.window_last.eq(regs.window.last)]
        return m

    def _hold(self, m, fire):
        """The command being dispatched: taken from ``cmd``, held until it ``fire``s."""
        held = Signal(DISPATCH_COMMAND_LAYOUT)
        held_valid = Signal()
        m.d.comb += self.cmd.ready.eq(~held_valid | fire)
        with m.If(self.cmd.valid & self.cmd.ready):
            m.d.sync += [held.eq(self.cmd.payload), held_valid.eq(1)]
        with m.Elif(fire):
            m.d.sync += held_valid.eq(0)
        return held, held_valid

    @staticmethod
    def _op(m, decoder, held):
        """The decoded instruction, ``Op.ILLEGAL`` for a record that may not run: a malformed
        word, a fetch bus error, or a nested EXEC_BUFFER."""
        op = Signal(Op)
        nested = (held.position != 0) & (decoder.op == Op.EXEC_BUFFER)
        m.d.comb += op.eq(Mux(held.bad | held.bus_err | nested, Op.ILLEGAL, decoder.op))
        return op

    def _start_buffer(self, m, held, ops, starts_buffer, fire):
        """Tell the `CommandFetch` what became of a core command with EXEC_BUFFER's codes."""
        exec_buffer = BY_NAME["exec_buffer"]
        codes = (held.funct7 == exec_buffer.funct7) & (held.funct3 == exec_buffer.funct3)
        start = self.buffer_start
        m.d.comb += [start.valid.eq(fire & (held.position == 0) & codes),
                     start.payload.run.eq(starts_buffer),
                     start.payload.addr.eq(ops.mem_addr), start.payload.count.eq(ops.count)]

    def _unit_commands(self, m, op, ops, regs):
        """Unit command payloads, with the registers resolved (valid is `_issue`'s)."""
        load_kind = Signal(LoadKind)
        store_kind = Signal(StoreKind)
        for code, kind in LOADS.items():
            with m.If(op == code):
                m.d.comb += load_kind.eq(kind)
        for code, kind in STORE_UNIT.items():
            with m.If(op == code):
                m.d.comb += store_kind.eq(kind)
        row_addr = Mux(is_op(op, Op.LOAD_ACC, Op.STORE_ACC, Op.STORE_ACT,
                             Op.CONFIG_ACT_CHANNELS), ops.acc_addr, ops.sp_addr)
        load, store, execute = self.load.payload, self.store.payload, self.execute.payload
        weights = regs.weights
        m.d.comb += [
            load.kind.eq(load_kind), load.mem_addr.eq(ops.mem_addr),
            load.stride.eq(regs.load_stride), load.rows.eq(ops.rows), load.cols.eq(ops.cols),
            load.addr.eq(row_addr),
            store.kind.eq(store_kind), store.mem_addr.eq(ops.mem_addr),
            store.stride.eq(regs.store_stride), store.rows.eq(ops.rows),
            store.cols.eq(ops.cols), store.addr.eq(row_addr), store.act.eq(regs.act),
            execute.a_addr.eq(ops.a_addr), execute.m.eq(ops.m), execute.c_addr.eq(ops.c_addr),
            execute.accumulate.eq(op == Op.COMPUTE_ACC),
            execute.b_addr.eq(weights.b_addr), execute.k.eq(weights.k),
            execute.n.eq(weights.n), execute.reload.eq(weights.dirty),
        ]

    def _issue(self, m, board, responses, op, held_valid, executes, starts_buffer, fire):
        """When the held command goes: to its unit once the scoreboard allows, or answered
        here (FENCE and CONFIG_WINDOW once every unit is idle, EXEC_BUFFER once no in-flight
        store writes its bytes: it reads main memory like a load); never without response
        space."""
        is_load, is_store = is_op(op, *LOADS), is_op(op, *STORE_UNIT)
        is_compute = is_op(op, *COMPUTES)
        needs_unit = executes & (is_load | is_store | is_compute)
        load, execute, store = (UNITS.index(u) for u in (Unit.LOAD, Unit.EXECUTE, Unit.STORE))
        unit_index = Mux(is_load | starts_buffer, load, Mux(is_compute, execute, store))
        unit_full = Mux(is_load, board.full[load],
                        Mux(is_compute, board.full[execute], board.full[store]))
        resp_space = responses.w_rdy
        go_unit = held_valid & needs_unit & ~board.conflict & ~unit_full & resp_space
        unit_ready = Mux(is_load, self.load.ready, Mux(is_compute, self.execute.ready,
                                                       self.store.ready))
        fence_wait = executes & is_op(op, Op.FENCE, Op.CONFIG_WINDOW) & ~board.idle
        buffer_wait = starts_buffer & board.conflict
        local_go = held_valid & ~needs_unit & ~fence_wait & ~buffer_wait & resp_space
        m.d.comb += [
            board.new_unit.eq(unit_index),
            self.load.valid.eq(go_unit & is_load),
            self.execute.valid.eq(go_unit & is_compute),
            self.store.valid.eq(go_unit & is_store),
            fire.eq((go_unit & unit_ready) | local_go),
            board.alloc.eq(go_unit & unit_ready),
        ]

    def _result(self, m, board, op, ops, error, counters, executes):
        """The ``rd`` of the held command (STATUS, READ_COUNTER[_HI]; 0 otherwise)."""
        status = Signal(STATUS_LAYOUT)
        m.d.comb += [status.busy.eq(~board.idle),
                     status.error.eq(error.cause != ErrorCause.NONE),
                     status.cause.eq(error.cause), status.err_funct7.eq(error.funct7),
                     status.err_funct3.eq(error.funct3)]
        counter_value = counters[ops.counter[:3]]
        rd = Signal(RESPONSE_LAYOUT["rd"].shape)
        with m.If(executes):
            with m.Switch(op):
                with m.Case(Op.STATUS):
                    m.d.comb += rd.eq(status)
                with m.Case(Op.READ_COUNTER):
                    m.d.comb += rd.eq(counter_value[:32])
                with m.Case(Op.READ_COUNTER_HI):
                    m.d.comb += rd.eq(counter_value[32:])
                with m.Case(Op.ERROR_INDEX):
                    m.d.comb += rd.eq(error.index)
        return rd

    def _errors(self, m, board, op, error, executed, failed, fail_cause, held):
        """The sticky error: cleared by CLEAR_ERROR; when clear, set by a failing instruction,
        else by a unit's bus error (the earliest unit's, in load, execute, store order)."""
        done_streams = (self.load_done, self.execute_done, self.store_done)
        unit_funct7 = (BY_NAME["load_sp"].funct7, BY_NAME["compute"].funct7,
                       BY_NAME["store_sp"].funct7)
        bus_error = Signal()
        bus_funct7 = Signal(ERROR_LAYOUT["funct7"].shape)
        bus_funct3 = Signal(ERROR_LAYOUT["funct3"].shape)
        for done, funct7 in zip(reversed(done_streams), reversed(unit_funct7)):
            m.d.comb += done.ready.eq(1)
            with m.If(done.valid & done.payload.err):
                m.d.comb += [bus_error.eq(1), bus_funct7.eq(funct7),
                             bus_funct3.eq(done.payload.funct3)]
        m.d.comb += board.retire.eq(Cat(*(d.valid for d in done_streams)))
        with m.If(executed & (op == Op.CLEAR_ERROR)):
            m.d.sync += error.eq(0)
        with m.If(error.cause == ErrorCause.NONE):
            with m.If(failed):
                m.d.sync += [error.cause.eq(fail_cause), error.funct7.eq(held.funct7),
                             error.funct3.eq(held.funct3), error.index.eq(held.position)]
            with m.Elif(bus_error):
                m.d.sync += [error.cause.eq(ErrorCause.BUS_ERROR), error.funct7.eq(bus_funct7),
                             error.funct3.eq(bus_funct3)]

    def _counters(self, m, board, op, ops, regs, counters, dispatched):
        """The performance counters (`accel.isa.spec.Counter`)."""
        rows_cols = ops.rows * ops.cols * elem_bytes(self._config, op)
        weights = regs.weights
        increments = {
            Counter.CYCLES: 1,
            Counter.BUSY_CYCLES: ~board.idle,
            Counter.MACS: Mux(dispatched & is_op(op, *COMPUTES),
                              ops.m * weights.k * weights.n, 0),
            Counter.INSTRUCTIONS: dispatched,
            Counter.LOAD_BYTES: Mux(dispatched & is_op(op, *LOADS), rows_cols, 0),
            Counter.STORE_BYTES: Mux(dispatched & is_op(op, *STORES), rows_cols, 0),
        }
        with m.If(dispatched & (op == Op.RESET_COUNTERS)):
            m.d.sync += counters.eq(0)
        with m.Else():
            for counter, inc in increments.items():
                m.d.sync += counters[counter].eq(counters[counter] + inc)
