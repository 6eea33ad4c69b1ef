"""The execute unit: runs COMPUTE commands on the systolic array.

Three sequencers work through the same command queue at their own pace, so that consecutive
computes overlap:

- the weight sequencer (weight-stationary only) reads B rows into the array's shadow weights for
  each command that needs a reload, while the array still multiplies with the previous weights;
- the operand sequencer streams A rows (ws) or A^T and B rows together (os) into the array;
- the result sequencer writes the array's output rows to the accumulator (overwrite or add,
  columns ``>= n`` masked) and reports each command done once its last write has landed.
"""

from amaranth import Cat, Module, Signal
from amaranth.lib import fifo, stream, wiring
from amaranth.lib.wiring import In, Out

from accel.arch.microarch import UNIT_QUEUE_DEPTH
from accel.config import AccelConfig, Dataflow
from accel.memory.ports import AccWritePortSignature, ReadPortSignature
from accel.systolic import SystolicArray
from accel.control.layouts import COUNT_BITS, DONE_LAYOUT, exec_command_layout
from accel.control.row_fetch import RowFetch

__all__ = ["ExecUnit"]


class _Queue(wiring.Component):
    """A small FIFO of execute commands with stream ports."""

    def __init__(self, layout, depth):
        self._layout, self._depth = layout, depth
        super().__init__({"i": In(stream.Signature(layout)), "o": Out(stream.Signature(layout))})

    def elaborate(self, platform):
        m = Module()
        m.submodules.fifo = buf = fifo.SyncFIFOBuffered(width=self._layout.size,
                                                        depth=self._depth)
        m.d.comb += [buf.w_data.eq(self.i.payload), buf.w_en.eq(self.i.valid),
                     self.i.ready.eq(buf.w_rdy), self.o.valid.eq(buf.r_rdy),
                     self.o.payload.eq(buf.r_data), buf.r_en.eq(self.o.ready)]
        return m


class ExecUnit(wiring.Component):
    """Execute COMPUTE commands (with their resolved B operand) on a systolic array.

    Parameters
    ----------
    config : AccelConfig
    queue_depth : int
        Commands buffered per sequencer.
    write_latency : int
        Cycles after the accumulator accepts a write until that write is visible to reads (the
        accumulator's contract); a command is reported done that many cycles after its last
        write was accepted.

    Members
    -------
    cmd : In(stream.Signature(exec_command_layout(config)))
    done : Out(stream.Signature(DONE_LAYOUT))
        One beat per command, in order, once all its results are in the accumulator. Must be
        always ready (the dispatcher's completion ports are).
    sp_a, sp_b : Out(ReadPortSignature(...))
        Scratchpad read ports for the A and B operands.
    acc_write : Out(AccWritePortSignature(...))
    """

    def __init__(self, config: AccelConfig, *, queue_depth: int = UNIT_QUEUE_DEPTH,
                 write_latency: int = 4):
        self._config = config
        self._queue_depth = queue_depth
        self._write_latency = write_latency
        sp = dict(addr_width=config.sp_addr_width, elem_width=config.input_width,
                  lanes=config.dim)
        super().__init__({
            "cmd": In(stream.Signature(exec_command_layout(config))),
            "done": Out(stream.Signature(DONE_LAYOUT)),
            "sp_a": Out(ReadPortSignature(**sp)),
            "sp_b": Out(ReadPortSignature(**sp)),
            "acc_write": Out(AccWritePortSignature(addr_width=config.acc_addr_width,
                                                   elem_width=config.acc_width,
                                                   lanes=config.cols)),
        })

    def elaborate(self, platform):
        cfg = self._config
        m = Module()
        layout = exec_command_layout(cfg)
        m.submodules.array = array = SystolicArray(
            rows=cfg.rows, cols=cfg.cols, dataflow=cfg.dataflow,
            input_width=cfg.input_width, acc_width=cfg.acc_width)
        sp = dict(addr_width=cfg.sp_addr_width, elem_width=cfg.input_width, lanes=cfg.dim)
        m.submodules.fetch_a = fetch_a = RowFetch(**sp, tag_width=2)
        m.submodules.fetch_b = fetch_b = RowFetch(**sp, tag_width=1)
        wiring.connect(m, wiring.flipped(self.sp_a), fetch_a.port)
        wiring.connect(m, wiring.flipped(self.sp_b), fetch_b.port)

        names = ("weights", "operands", "results")
        queues = {name: _Queue(layout, self._queue_depth) for name in names}
        for name, queue in queues.items():
            m.submodules[f"queue_{name}"] = queue
        all_ready = queues["weights"].i.ready & queues["operands"].i.ready & \
            queues["results"].i.ready
        m.d.comb += self.cmd.ready.eq(all_ready)
        for queue in queues.values():
            m.d.comb += [queue.i.payload.eq(self.cmd.payload),
                         queue.i.valid.eq(self.cmd.valid & all_ready)]

        if cfg.dataflow is Dataflow.WS:
            self._weights_ws(m, queues["weights"].o, fetch_b, array)
            self._operands_ws(m, queues["operands"].o, fetch_a, array)
        else:
            m.d.comb += queues["weights"].o.ready.eq(1)  # os streams B with A
            self._operands_os(m, queues["operands"].o, fetch_a, fetch_b, array)
        self._results(m, queues["results"].o, array)
        return m

    # -- weight-stationary ----------------------------------------------------------------

    def _weights_ws(self, m, queue, fetch_b, array):
        """For each command with ``reload``: ``rows`` B beats (rows >= k are zero)."""
        cfg = self._config
        cmd = queue.payload
        beat = Signal(range(cfg.rows + 1))
        with m.If(queue.valid & ~cmd.reload):
            m.d.comb += queue.ready.eq(1)  # the array keeps its weights
        with m.Elif(queue.valid):
            m.d.comb += [fetch_b.req.valid.eq(1),
                         fetch_b.req.payload.addr.eq(cmd.b_addr + beat),
                         fetch_b.req.payload.zero.eq(beat >= cmd.k),
                         fetch_b.req.payload.tag.eq(beat == cfg.rows - 1)]
            with m.If(fetch_b.req.ready):
                with m.If(beat == cfg.rows - 1):
                    m.d.sync += beat.eq(0)
                    m.d.comb += queue.ready.eq(1)
                with m.Else():
                    m.d.sync += beat.eq(beat + 1)
        m.d.comb += [array.b.valid.eq(fetch_b.resp.valid),
                     fetch_b.resp.ready.eq(array.b.ready),
                     array.b.payload.last.eq(fetch_b.resp.payload.tag[0])]
        for j in range(cfg.cols):
            m.d.comb += array.b.payload.data[j].eq(fetch_b.resp.payload.data[j])

    def _operands_ws(self, m, queue, fetch_a, array):
        """For each command: ``m`` A rows, the first flagged ``new_weights`` when reloading."""
        cfg = self._config
        cmd = queue.payload
        row = Signal(COUNT_BITS)
        last = row == cmd.m - 1
        with m.If(queue.valid):
            # Every payload field is driven, also the constant ones: Yosys writes a field no
            # statement drives as an `always @*` block with no inputs, which Icarus never runs
            # (the field stays X there).
            m.d.comb += [fetch_a.req.valid.eq(1),
                         fetch_a.req.payload.addr.eq(cmd.a_addr + row),
                         fetch_a.req.payload.zero.eq(0),
                         fetch_a.req.payload.tag.eq(((row == 0) & cmd.reload) | (last << 1))]
            with m.If(fetch_a.req.ready):
                with m.If(last):
                    m.d.sync += row.eq(0)
                    m.d.comb += queue.ready.eq(1)
                with m.Else():
                    m.d.sync += row.eq(row + 1)
        tag = fetch_a.resp.payload.tag
        m.d.comb += [array.a.valid.eq(fetch_a.resp.valid),
                     fetch_a.resp.ready.eq(array.a.ready),
                     array.a.payload.new_weights.eq(tag[0]),
                     array.a.payload.last.eq(tag[1])]
        for i in range(cfg.rows):
            m.d.comb += array.a.payload.data[i].eq(fetch_a.resp.payload.data[i])

    # -- output-stationary ----------------------------------------------------------------

    def _operands_os(self, m, queue, fetch_a, fetch_b, array):
        """For each command: ``k`` beats of (A^T row, B row), the last flagged ``last``."""
        cfg = self._config
        cmd = queue.payload
        step = Signal(COUNT_BITS)
        last = step == cmd.k - 1
        both_ready = fetch_a.req.ready & fetch_b.req.ready
        with m.If(queue.valid):
            m.d.comb += [fetch_a.req.valid.eq(both_ready), fetch_b.req.valid.eq(both_ready),
                         fetch_a.req.payload.addr.eq(cmd.a_addr + step),
                         fetch_b.req.payload.addr.eq(cmd.b_addr + step),
                         fetch_a.req.payload.zero.eq(0), fetch_b.req.payload.zero.eq(0),
                         fetch_b.req.payload.tag.eq(0),
                         fetch_a.req.payload.tag.eq(last << 1)]
            with m.If(both_ready):
                with m.If(last):
                    m.d.sync += step.eq(0)
                    m.d.comb += queue.ready.eq(1)
                with m.Else():
                    m.d.sync += step.eq(step + 1)
        m.d.comb += [array.a.valid.eq(fetch_a.resp.valid),
                     array.b.valid.eq(fetch_b.resp.valid),
                     fetch_a.resp.ready.eq(array.a.ready),
                     fetch_b.resp.ready.eq(array.b.ready),
                     array.a.payload.last.eq(fetch_a.resp.payload.tag[1])]
        for i in range(cfg.rows):
            m.d.comb += array.a.payload.data[i].eq(fetch_a.resp.payload.data[i])
        for j in range(cfg.cols):
            m.d.comb += array.b.payload.data[j].eq(fetch_b.resp.payload.data[j])

    # -- results --------------------------------------------------------------------------

    def _results(self, m, queue, array):
        """Write output rows to the accumulator; ``done`` once a command's writes landed."""
        cfg = self._config
        cmd = queue.payload
        row = Signal(range(max(cfg.rows, 256) + 1))
        # ws: the command's m rows; os: rows vectors, of which the first m are written.
        total = cmd.m if cfg.dataflow is Dataflow.WS else cfg.rows
        final = row == total - 1
        write = self.acc_write
        mask = Signal(cfg.cols)
        for j in range(cfg.cols):
            m.d.comb += mask[j].eq(j < cmd.n)
        keep = row < cmd.m
        m.d.comb += [write.addr.eq(cmd.c_addr + row), write.data.eq(array.c.payload.data),
                     write.mask.eq(mask), write.accumulate.eq(cmd.accumulate)]

        # Each command's completion travels down a delay line as long as the accumulator's
        # write latency, so that results of the next command keep flowing meanwhile.
        landing = Signal(self._write_latency + 1)
        finished = Signal()
        with m.If(queue.valid & array.c.valid):
            m.d.comb += write.en.eq(keep)
            accepted = write.ready | ~keep
            m.d.comb += array.c.ready.eq(accepted)
            with m.If(accepted):
                with m.If(final):
                    m.d.sync += row.eq(0)
                    m.d.comb += [finished.eq(1), queue.ready.eq(1)]
                with m.Else():
                    m.d.sync += row.eq(row + 1)
        m.d.sync += landing.eq(Cat(finished, landing[:-1]))
        m.d.comb += [self.done.valid.eq(landing[-1]), self.done.payload.err.eq(0),
                     self.done.payload.funct3.eq(0)]
        return m
