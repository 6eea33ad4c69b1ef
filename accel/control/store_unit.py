"""The store unit: moves scratchpad or accumulator rows (raw or activated) to main memory
through the DMA write channel.

Structure: per command, a DMA write command is issued, then a *reader* reads the rows (read
latency one cycle) into a small skid FIFO, never issuing more reads than the FIFO can hold; the
FIFO's rows go to the DMA either directly or through the `ActivationUnit` (``ACT``), packed into
little-endian bytes; for ``POOL`` the reads walk the pooling windows (`PoolWalk`) and the
activated rows are folded per window (`PoolReduce`, then a second `ActivationUnit` that
requantizes averages). Completions come back from the DMA's ``wr_done`` and are passed on to
``done`` with the command's kind; the unit offers the next command's DMA write as soon as the
previous command's rows are sent (the DMA takes it once it has reported the previous one).
"""

from amaranth import Cat, Module, Mux, Signal
from amaranth.lib import data, enum, fifo, stream, wiring
from amaranth.lib.wiring import In, Out

from accel.control.activation import ActivationUnit, LaneParams
from accel.control.pooling import WINDOW_BITS, PoolReduce, PoolWalk
from accel.arch.microarch import CHANNELS_CYCLES, dma_row_bytes
from accel.config import AccelConfig
from accel.memory.dma_common import command_layout, done_layout, write_row_layout
from accel.memory.ports import ReadPortSignature
from accel.control.layouts import COUNT_BITS, DONE_LAYOUT, StoreKind, store_command_layout

__all__ = ["StoreUnit"]

#: Rows the skid FIFO holds (reads in flight are counted against it).
SKID_DEPTH = 4


def _pack(elems, elem_bytes: int):
    """Little-endian bytes of two's-complement elements, each sign-extended to ``elem_bytes``
    bytes (assigning the result to a wider row zero-pads it)."""
    width = elem_bytes * 8
    return Cat(*(Cat(e, *([e[-1]] * (width - len(e)))) for e in elems))


class _State(enum.Enum):
    IDLE = 0    # waiting for a command
    ISSUE = 1   # offering the DMA write command
    STREAM = 2  # reading rows and sending them
    MULT = 3    # CHANNELS: reading the multiplier row
    SHIFT = 4   # CHANNELS: reading the shift row (the multipliers arrive)
    TAKE = 5    # CHANNELS: the shifts arrive
    REPORT = 6  # CHANNELS: queueing the command's completion


# The CHANNELS sequence is the cycle model's constant (MULT, SHIFT, TAKE, REPORT).
assert CHANNELS_CYCLES == 4


class StoreUnit(wiring.Component):
    """Executes ``store_sp``, ``store_acc``, ``store_act`` and ``store_pool`` unit commands.

    For each command (`store_command_layout`), one DMA write command of ``rows`` rows of
    ``cols * eb`` bytes at ``mem_addr``, ``stride`` apart, with ``eb = in_bytes`` for ``SP`` and
    ``ACT`` and ``acc_bytes`` for ``ACC``; then one ``dma_data`` beat per row ``r``, holding
    elements ``c < cols`` of row ``addr + r`` as ``eb``-byte little-endian two's-complement
    integers (sign-extended):

    - ``SP``: scratchpad rows (``sp_read``);
    - ``ACC``: raw accumulator rows (``acc_read``);
    - ``ACT``: accumulator rows through the internal `ActivationUnit` with the command's ``act``
      parameters (multiplier, shift, relu, zero point; output width ``input_width``) or, when
      ``act.per_channel`` is set, the per-column registers for multiplier and shift;
    - ``POOL``: ``rows`` pooled pixels, each the window of ``pool.kh * pool.kw`` accumulator
      rows that `PoolWalk` addresses (read one per cycle), activated as for ``ACT`` and reduced
      by `PoolReduce`: the maximum, or (``pool.avg``) the zero-point-corrected sum requantized
      with ``pool.multiplier``, ``pool.shift`` and ``pool.zero_point`` and saturated.

    A ``CHANNELS`` command moves no data: it reads accumulator rows ``addr`` and ``addr + 1``
    and sets the per-column registers, ``multiplier[c]`` to the low 31 bits and ``shift[c]``
    to the low 6 bits of element ``c`` (sign-extended), then reports done without the DMA. The
    unit takes a command only when the previous one has sent all its rows (so the activation
    pipeline is empty): the registers never change under a ``store_act``.

    Lanes of a beat at or above ``cols * eb`` bytes are don't-care (zero-padded elements).
    Reads are issued one per cycle as long as the skid FIFO (``SKID_DEPTH`` rows, counting the
    read in flight) has room, so a stalled DMA never loses a read result and an accepting DMA
    gets one row per cycle. Between commands the unit waits for the DMA to accept the next write
    command (the DMA accepts it once the previous command is done).

    One ``done`` beat per command, in order, ``funct3 = kind``, passed through from the DMA's
    ``wr_done`` (so ``err`` is the DMA's bus-error flag and ``done`` means the bytes are
    written), or for ``CHANNELS`` produced here (``err`` 0) once every earlier command's is.
    ``done`` is combinationally coupled to ``dma_done``.

    Commands are assumed valid (the dispatcher checks ranges): ``1 <= rows``, ``1 <= cols <=
    dim`` (``SP``) or ``<= cols`` of the array (``ACC``, ``ACT``), source rows in range.

    Parameters
    ----------
    config : AccelConfig

    Members
    -------
    cmd : In(stream.Signature(store_command_layout(config)))
    done : Out(stream.Signature(DONE_LAYOUT))
    dma_cmd : Out(stream.Signature(command_layout(mem_addr_width, dma_row_bytes(config))))
        To the DMA's ``wr_cmd``.
    dma_data : Out(stream.Signature(write_row_layout(dma_row_bytes(config))))
        To the DMA's ``wr_data``.
    dma_done : In(stream.Signature(done_layout()))
        From the DMA's ``wr_done``.
    sp_read : Out(ReadPortSignature(addr_width=sp_addr_width, elem_width=input_width,
        lanes=dim))
    acc_read : Out(ReadPortSignature(addr_width=acc_addr_width, elem_width=acc_width,
        lanes=cols))
    """

    def __init__(self, config: AccelConfig) -> None:
        self.config = config
        self.row_bytes = dma_row_bytes(config)
        super().__init__({
            "cmd": In(stream.Signature(store_command_layout(config))),
            "done": Out(stream.Signature(DONE_LAYOUT)),
            "dma_cmd": Out(stream.Signature(command_layout(config.mem_addr_width,
                                                           self.row_bytes))),
            "dma_data": Out(stream.Signature(write_row_layout(self.row_bytes))),
            "dma_done": In(stream.Signature(done_layout())),
            "sp_read": Out(ReadPortSignature(addr_width=config.sp_addr_width,
                                             elem_width=config.input_width, lanes=config.dim)),
            "acc_read": Out(ReadPortSignature(addr_width=config.acc_addr_width,
                                              elem_width=config.acc_width, lanes=config.cols)),
        })

    def elaborate(self, platform) -> Module:
        m = Module()
        cfg = self.config
        in_shift = (cfg.in_bytes - 1).bit_length()
        acc_shift = (cfg.acc_bytes - 1).bit_length()
        m.submodules.act = act = ActivationUnit(lanes=cfg.cols, acc_width=cfg.acc_width,
                                                out_width=cfg.input_width)
        # Kinds of the commands whose DMA write is issued (or CHANNELS command is finished) but
        # not yet reported done.
        m.submodules.kinds = kinds = fifo.SyncFIFO(width=3, depth=2)
        local = kinds.r_data == StoreKind.CHANNELS    # reported here, not by the DMA
        raw_width = max(cfg.sp_row_bits, cfg.acc_row_bits)
        m.submodules.skid = skid = fifo.SyncFIFO(width=raw_width, depth=SKID_DEPTH)

        cur = Signal(store_command_layout(cfg))
        state = Signal(_State)
        issued = Signal(COUNT_BITS)                 # reads issued
        sent = Signal(COUNT_BITS)                   # rows sent to the DMA
        pending = Signal()                          # a read result arrives this cycle
        pend_sp = Signal()                          # ... from the scratchpad

        # -- command and completion ------------------------------------------------------------
        report = (state == _State.REPORT) & kinds.w_rdy
        m.d.comb += [
            self.cmd.ready.eq(state == _State.IDLE),
            self.dma_cmd.valid.eq((state == _State.ISSUE) & kinds.w_rdy),
            self.dma_cmd.payload.addr.eq(cur.mem_addr),
            self.dma_cmd.payload.stride.eq(cur.stride),
            self.dma_cmd.payload.rows.eq(cur.rows),
            self.dma_cmd.payload.row_bytes.eq(
                Mux(cur.kind == StoreKind.ACC, cur.cols << acc_shift, cur.cols << in_shift)),
            kinds.w_en.eq((self.dma_cmd.valid & self.dma_cmd.ready) | report),
            kinds.w_data.eq(cur.kind),
            self.done.valid.eq((self.dma_done.valid | local) & kinds.r_rdy),
            self.done.payload.err.eq(self.dma_done.payload.err & ~local),
            self.done.payload.funct3.eq(kinds.r_data),
            self.dma_done.ready.eq(self.done.ready & kinds.r_rdy & ~local),
            kinds.r_en.eq(self.done.valid & self.done.ready),
        ]
        with m.If(self.cmd.valid & self.cmd.ready):
            m.d.sync += [cur.eq(self.cmd.payload), issued.eq(0), sent.eq(0),
                         state.eq(Mux(self.cmd.payload.kind == StoreKind.CHANNELS, _State.MULT,
                                      _State.ISSUE))]
        with m.If(self.dma_cmd.valid & self.dma_cmd.ready):
            m.d.sync += state.eq(_State.STREAM)
        lanes = self._channels(m, cur, state, report)
        m.submodules.walk = walk = PoolWalk()
        window = Signal(WINDOW_BITS)                # rows per pooling window, kh * kw
        with m.If(self.cmd.valid & self.cmd.ready):
            m.d.sync += window.eq(self.cmd.payload.pool.kh * self.cmd.payload.pool.kw)
        m.d.comb += [walk.start.eq(self.cmd.valid & self.cmd.ready),
                     walk.base.eq(self.cmd.payload.addr), walk.rows.eq(self.cmd.payload.rows),
                     walk.params.eq(self.cmd.payload.pool)]

        # -- reads into the skid FIFO ----------------------------------------------------------
        from_sp = cur.kind == StoreKind.SP
        is_pool = cur.kind == StoreKind.POOL
        read = Signal()
        m.d.comb += read.eq((state == _State.STREAM) & Mux(is_pool, ~walk.done, issued != cur.rows)
                            & (skid.level + pending < SKID_DEPTH))
        chan_read = (state == _State.MULT) | (state == _State.SHIFT)
        m.d.comb += [
            self.sp_read.en.eq(read & from_sp),
            self.sp_read.addr.eq(cur.addr + issued),
            self.acc_read.en.eq((read & ~from_sp) | chan_read),
            self.acc_read.addr.eq(Mux(is_pool, walk.addr,
                                      cur.addr + Mux(chan_read, state == _State.SHIFT, issued))),
            walk.next.eq(read & is_pool),
        ]
        with m.If(read):
            m.d.sync += issued.eq(issued + 1)
        m.d.sync += [pending.eq(read), pend_sp.eq(read & from_sp)]
        m.d.comb += [
            skid.w_en.eq(pending),
            skid.w_data.eq(Mux(pend_sp, self.sp_read.data.as_value(),
                               self.acc_read.data.as_value())),
        ]

        # -- packing and the activation path ---------------------------------------------------
        head = skid.r_data
        sp_elems = [head[i * cfg.input_width:(i + 1) * cfg.input_width] for i in range(cfg.dim)]
        acc_elems = [head[i * cfg.acc_width:(i + 1) * cfg.acc_width] for i in range(cfg.cols)]
        act_elems = [act.o.payload[i] for i in range(cfg.cols)]
        is_act = cur.kind == StoreKind.ACT
        activated = is_act | is_pool
        m.d.comb += [
            act.params.eq(cur.act),
            act.channels.eq(lanes),
            act.i.payload.eq(Cat(*acc_elems)),
            act.i.valid.eq(activated & skid.r_rdy),
            skid.r_en.eq(Mux(activated, act.i.ready, self.dma_data.ready)),
        ]
        pool_valid, pool_elems, pool_ready = self._pool_path(m, cur, act, window, is_pool)
        m.d.comb += [
            act.o.ready.eq(Mux(is_pool, pool_ready, is_act & self.dma_data.ready)),
            self.dma_data.valid.eq(Mux(is_pool, pool_valid,
                                       Mux(is_act, act.o.valid, skid.r_rdy))),
        ]
        with m.Switch(cur.kind):
            with m.Case(StoreKind.SP):
                m.d.comb += self.dma_data.payload.data.eq(_pack(sp_elems, cfg.in_bytes))
            with m.Case(StoreKind.ACC):
                m.d.comb += self.dma_data.payload.data.eq(_pack(acc_elems, cfg.acc_bytes))
            with m.Case(StoreKind.ACT):
                m.d.comb += self.dma_data.payload.data.eq(_pack(act_elems, cfg.in_bytes))
            with m.Case(StoreKind.POOL):
                m.d.comb += self.dma_data.payload.data.eq(_pack(pool_elems, cfg.in_bytes))
        with m.If(self.dma_data.valid & self.dma_data.ready):
            m.d.sync += sent.eq(sent + 1)
            with m.If(sent == cur.rows - 1):
                m.d.sync += state.eq(_State.IDLE)
        return m

    def _pool_path(self, m, cur, act, window, is_pool):
        """The activated rows of a ``POOL`` command, reduced per window and (average)
        requantized. Returns the valid flag and the elements of the rows for the DMA (their
        ``ready`` is ``dma_data.ready``), and the ``ready`` of the activated rows."""
        cfg = self.config
        m.submodules.pool_reduce = reduce = PoolReduce(lanes=cfg.cols, out_width=cfg.input_width)
        m.submodules.pool_avg = avg = ActivationUnit(lanes=cfg.cols, acc_width=reduce.width,
                                                     out_width=cfg.input_width)
        is_avg = cur.pool.avg
        ready = self.dma_data.ready
        m.d.comb += [
            reduce.start.eq(self.cmd.valid & self.cmd.ready),
            reduce.window.eq(window), reduce.avg.eq(is_avg),
            reduce.zero_point.eq(cur.act.zero_point),
            reduce.i.payload.eq(act.o.payload),
            reduce.i.valid.eq(is_pool & act.o.valid),
            reduce.o.ready.eq(Mux(is_avg, avg.i.ready, ready)),
            avg.params.multiplier.eq(cur.pool.multiplier), avg.params.shift.eq(cur.pool.shift),
            avg.params.zero_point.eq(cur.pool.zero_point),
            avg.i.payload.eq(reduce.o.payload),
            avg.i.valid.eq(is_avg & reduce.o.valid),
            avg.o.ready.eq(is_avg & ready),
        ]
        maxima = [reduce.o.payload[i][:cfg.input_width].as_signed() for i in range(cfg.cols)]
        averages = [avg.o.payload[i] for i in range(cfg.cols)]
        elems = [Mux(is_avg, a, x) for a, x in zip(averages, maxima)]
        return Mux(is_avg, avg.o.valid, reduce.o.valid), elems, reduce.i.ready

    def _channels(self, m, cur, state, report):
        """The per-column multiplier and shift registers and the CHANNELS sequence (MULT reads
        row ``addr``, SHIFT reads row ``addr + 1`` and takes the multipliers, TAKE takes the
        shifts, REPORT queues the completion). Returns the registers."""
        cfg = self.config
        lanes = Signal(data.ArrayLayout(LaneParams, cfg.cols), name="channel_params",
                       init=[{"multiplier": 1}] * cfg.cols)
        words = [self.acc_read.data[c] for c in range(cfg.cols)]
        with m.Switch(state):
            with m.Case(_State.MULT):
                m.d.sync += state.eq(_State.SHIFT)
            with m.Case(_State.SHIFT):
                # assigning a signed element to a narrower or wider unsigned register takes
                # its low bits of the sign-extended value
                m.d.sync += [lanes[c].multiplier.eq(words[c]) for c in range(cfg.cols)]
                m.d.sync += state.eq(_State.TAKE)
            with m.Case(_State.TAKE):
                m.d.sync += [lanes[c].shift.eq(words[c]) for c in range(cfg.cols)]
                m.d.sync += state.eq(_State.REPORT)
            with m.Case(_State.REPORT):
                with m.If(report):
                    m.d.sync += state.eq(_State.IDLE)
        return lanes
