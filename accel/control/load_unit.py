"""The load unit: moves 2-D blocks from main memory (through the DMA read channel) into the
scratchpad or the accumulator.

Structure: an *issuer* turns each unit command into DMA read commands (one for ``SP`` and
``ACC``; one per column chunk for ``SP_T``) and queues a descriptor of each in a small FIFO; a
*writer* pops descriptors, converts the returned row bytes into elements and performs the SRAM
writes, then reports the command on ``done``. The issuer runs ahead of the writer, so the DMA
receives the next read as soon as it can take it (the DMA accepts a read once the previous one's
rows are all assembled), independently of the writes and the ``done`` of earlier commands.
"""

from amaranth import Cat, Const, Module, Mux, Signal, unsigned
from amaranth.lib import data, enum, fifo, stream, wiring
from amaranth.lib.wiring import In, Out

from accel.arch.microarch import dma_row_bytes
from accel.config import AccelConfig
from accel.memory.dma_common import command_layout, read_row_layout
from accel.memory.ports import AccWritePortSignature, WritePortSignature
from accel.control.layouts import (COUNT_BITS, DONE_LAYOUT, LOAD_SHIFT_BITS, ROW_ADDR_BITS,
                                   LoadKind, load_command_layout)

__all__ = ["LoadUnit"]


def _lane_mask(lanes: int, count):
    """``lanes`` bits, bit ``i`` set when ``i < count``."""
    return Cat(*(count > i for i in range(lanes)))


def _elements(row_bits, count: int, elem_bytes: int, width: int) -> list:
    """Element ``i`` of a little-endian byte row: its low ``width`` bits, as signed."""
    step = elem_bytes * 8
    return [row_bits[i * step:i * step + width].as_signed() for i in range(count)]


def _codes(row_bits, count: int, elem_bytes: int, width: int, shift, flip) -> list:
    """Element ``i`` of a little-endian byte row through the CONFIG_LOAD_CODES transform: its
    ``elem_bytes`` as an unsigned code, shifted right by ``shift``, the sign bit of the low
    ``width`` bits inverted when ``flip``."""
    step = elem_bytes * 8
    sign = flip << (width - 1)
    return [((row_bits[i * step:(i + 1) * step] >> shift) ^ sign)[:width]
            for i in range(count)]


class _State(enum.Enum):
    IDLE = 0    # waiting for a descriptor
    ROWS = 1    # consuming rows (SP, ACC: one write per row)
    COLS = 2    # SP_T: writing the columns of the held row, one per cycle
    DRAIN = 3   # last write issued; waiting until it has landed, then ``done``


class LoadUnit(wiring.Component):
    """Executes ``load_sp``, ``load_sp_t`` and ``load_acc`` unit commands.

    For each command (`load_command_layout`), with ``eb = in_bytes`` (``SP``, ``SP_T``) or
    ``acc_bytes`` (``ACC``):

    - ``SP``: one DMA read of ``rows`` rows of ``cols * eb`` bytes at ``mem_addr`` (``stride``
      apart); memory row ``r`` is written to ``sp[addr + r]`` with ``mask`` = lanes ``< cols``.
      One row per cycle.
    - ``ACC``: likewise into ``acc[addr + r]`` (``accumulate = 0``); ``en`` and the payload are
      held until ``ready``. One row per cycle while the accumulator is ready.
    - ``SP_T``: memory row ``r`` (``r < rows <= dim``) is written transposed: its element ``c``
      goes to lane ``r`` of ``sp[addr + c]``, one scratchpad write per element (``mask`` = lane
      ``r`` only). Cost: ``rows * cols`` cycles (one element per cycle; the next row is taken
      in the cycle of the previous row's last element). Rows longer than
      ``dma_row_bytes(config) // in_bytes`` elements (``cols`` may be up to 256) are fetched as
      several DMA reads of consecutive column chunks.

    Each element takes its ``eb`` bytes little-endian and keeps the low ``input_width`` /
    ``acc_width`` bits (two's-complement wrap), as the golden model does.

    One ``done`` beat per command, in order, with ``funct3 = kind``: for the scratchpad at least
    one cycle after its last write; for the accumulator once its last write was accepted and
    ``busy`` was then seen low (so reads issued from the cycle ``done`` is valid see the data).
    ``done.err`` is the OR of the ``err`` flags of the command's DMA rows; rows with ``err`` are
    still written (with whatever bytes the DMA returned): after a bus error the destination
    contents are unspecified. The writer pauses between commands for the drain (about 2 cycles
    for the scratchpad, plus the accumulator's landing latency), the DMA reads do not.

    Commands are assumed valid (the dispatcher checks ranges): ``1 <= rows, cols``, ``cols <=
    dim`` (``SP``) / ``<= cols`` of the array (``ACC``), ``rows <= dim`` (``SP_T``), and all
    target rows inside the memory.

    Parameters
    ----------
    config : AccelConfig

    Members
    -------
    cmd : In(stream.Signature(load_command_layout(config)))
    done : Out(stream.Signature(DONE_LAYOUT))
    dma_cmd : Out(stream.Signature(command_layout(mem_addr_width, dma_row_bytes(config))))
        To the DMA's ``rd_cmd``.
    dma_data : In(stream.Signature(read_row_layout(dma_row_bytes(config))))
        From the DMA's ``rd_data``.
    sp_write : Out(WritePortSignature(addr_width=sp_addr_width, elem_width=input_width,
        lanes=dim))
    acc_write : Out(AccWritePortSignature(addr_width=acc_addr_width, elem_width=acc_width,
        lanes=cols))
    """

    def __init__(self, config: AccelConfig) -> None:
        self.config = config
        self.row_bytes = dma_row_bytes(config)
        super().__init__({
            "cmd": In(stream.Signature(load_command_layout(config))),
            "done": Out(stream.Signature(DONE_LAYOUT)),
            "dma_cmd": Out(stream.Signature(command_layout(config.mem_addr_width,
                                                           self.row_bytes))),
            "dma_data": In(stream.Signature(read_row_layout(self.row_bytes))),
            "sp_write": Out(WritePortSignature(addr_width=config.sp_addr_width,
                                               elem_width=config.input_width, lanes=config.dim)),
            "acc_write": Out(AccWritePortSignature(addr_width=config.acc_addr_width,
                                                   elem_width=config.acc_width,
                                                   lanes=config.cols)),
        })

    def elaborate(self, platform) -> Module:
        m = Module()
        cfg = self.config
        chunk = self.row_bytes // cfg.in_bytes          # SP_T elements per DMA read (>= dim)
        in_shift = (cfg.in_bytes - 1).bit_length()
        acc_shift = (cfg.acc_bytes - 1).bit_length()

        desc_layout = data.StructLayout({
            "kind": LoadKind, "base": unsigned(ROW_ADDR_BITS), "rows": unsigned(COUNT_BITS),
            "cols": unsigned(COUNT_BITS), "last": 1, "shift": unsigned(LOAD_SHIFT_BITS),
            "flip": 1})
        m.submodules.descs = descs = fifo.SyncFIFO(width=desc_layout.size, depth=2)

        # -- issuer ----------------------------------------------------------------------------
        cur = Signal(load_command_layout(cfg))      # mem_addr/addr/cols advance per SP_T chunk
        busy = Signal()
        is_t = cur.kind == LoadKind.SP_T
        part = Signal(COUNT_BITS)
        m.d.comb += part.eq(Mux(is_t & (cur.cols > chunk), chunk, cur.cols))
        m.d.comb += [
            self.cmd.ready.eq(~busy),
            self.dma_cmd.valid.eq(busy & descs.w_rdy),
            self.dma_cmd.payload.addr.eq(cur.mem_addr),
            self.dma_cmd.payload.stride.eq(cur.stride),
            self.dma_cmd.payload.rows.eq(cur.rows),
            self.dma_cmd.payload.row_bytes.eq(
                Mux(cur.kind == LoadKind.ACC, part << acc_shift, part << in_shift)),
            descs.w_en.eq(self.dma_cmd.valid & self.dma_cmd.ready),
        ]
        w_desc = Signal(desc_layout)
        m.d.comb += [
            w_desc.kind.eq(cur.kind), w_desc.base.eq(cur.addr), w_desc.rows.eq(cur.rows),
            w_desc.cols.eq(part), w_desc.last.eq(part == cur.cols),
            w_desc.shift.eq(cur.shift), w_desc.flip.eq(cur.flip),
            descs.w_data.eq(w_desc),
        ]
        with m.If(self.cmd.valid & self.cmd.ready):
            m.d.sync += [cur.eq(self.cmd.payload), busy.eq(1)]
        with m.If(descs.w_en):
            with m.If(part == cur.cols):
                m.d.sync += busy.eq(0)
            with m.Else():
                m.d.sync += [
                    cur.mem_addr.eq(cur.mem_addr + (chunk << in_shift)),
                    cur.addr.eq(cur.addr + chunk),
                    cur.cols.eq(cur.cols - chunk),
                ]

        # -- writer ----------------------------------------------------------------------------
        desc = Signal(desc_layout)
        m.d.comb += desc.eq(descs.r_data)
        state = Signal(_State)
        row = Signal(COUNT_BITS)                    # memory row within the descriptor
        col = Signal(COUNT_BITS)                    # SP_T column within the held row
        err = Signal()                              # OR of the command's row errors
        kind = Signal(LoadKind)                     # kind of the command being drained
        held = Signal(data.ArrayLayout(unsigned(cfg.input_width), chunk))   # SP_T row
        beat = self.dma_data.payload
        raw = beat.data.as_value()
        sp_elems = _codes(raw, cfg.dim, cfg.in_bytes, cfg.input_width, desc.shift, desc.flip)
        acc_elems = _elements(raw, cfg.cols, cfg.acc_bytes, cfg.acc_width)
        t_elems = _codes(raw, chunk, cfg.in_bytes, cfg.input_width, desc.shift, desc.flip)
        acc_free = ~self.acc_write.en | self.acc_write.ready
        last_row = row == desc.rows - 1
        fire = Signal()
        m.d.comb += fire.eq(self.dma_data.valid & self.dma_data.ready)

        # Scratchpad writes last one cycle; accumulator writes are held until accepted.
        m.d.sync += self.sp_write.en.eq(0)
        with m.If(self.acc_write.ready):
            m.d.sync += self.acc_write.en.eq(0)
        m.d.comb += self.acc_write.accumulate.eq(0)
        with m.If(self.done.ready):
            m.d.sync += self.done.valid.eq(0)

        with m.Switch(state):
            with m.Case(_State.IDLE):
                with m.If(descs.r_rdy):
                    m.d.sync += [state.eq(_State.ROWS), row.eq(0)]
            with m.Case(_State.ROWS):
                with m.If(desc.kind == LoadKind.ACC):
                    m.d.comb += self.dma_data.ready.eq(acc_free)
                with m.Else():
                    m.d.comb += self.dma_data.ready.eq(1)
                with m.If(fire):
                    m.d.sync += err.eq(err | beat.err)
                    with m.If(desc.kind != LoadKind.SP_T):
                        m.d.sync += row.eq(row + 1)
                    with m.Switch(desc.kind):
                        with m.Case(LoadKind.SP):
                            m.d.sync += [
                                self.sp_write.en.eq(1),
                                self.sp_write.addr.eq(desc.base + row),
                                self.sp_write.data.eq(Cat(*sp_elems)),
                                self.sp_write.mask.eq(_lane_mask(cfg.dim, desc.cols)),
                            ]
                        with m.Case(LoadKind.ACC):
                            m.d.sync += [
                                self.acc_write.en.eq(1),
                                self.acc_write.addr.eq(desc.base + row),
                                self.acc_write.data.eq(Cat(*acc_elems)),
                                self.acc_write.mask.eq(_lane_mask(cfg.cols, desc.cols)),
                            ]
                        with m.Case(LoadKind.SP_T):
                            m.d.sync += [held.eq(Cat(*t_elems)), col.eq(0),
                                         state.eq(_State.COLS)]
                    with m.If(last_row & (desc.kind != LoadKind.SP_T)):
                        m.d.comb += descs.r_en.eq(1)
                        m.d.sync += [state.eq(Mux(desc.last, _State.DRAIN, _State.IDLE)),
                                     kind.eq(desc.kind)]
            with m.Case(_State.COLS):
                lane = row[:max(1, (cfg.dim - 1).bit_length())]
                m.d.sync += [
                    self.sp_write.en.eq(1),
                    self.sp_write.addr.eq(desc.base + col),
                    self.sp_write.data.eq(Cat(*([held[0]] * cfg.dim))),
                    self.sp_write.mask.eq(Const(1, cfg.dim) << lane),
                    held.eq(held.as_value() >> cfg.input_width),
                    col.eq(col + 1),
                ]
                with m.If(col == desc.cols - 1):
                    m.d.sync += row.eq(row + 1)
                    with m.If(last_row):
                        m.d.comb += descs.r_en.eq(1)
                        m.d.sync += [state.eq(Mux(desc.last, _State.DRAIN, _State.IDLE)),
                                     kind.eq(LoadKind.SP_T)]
                    with m.Else():
                        # Take the next row in this cycle already: no bubble between rows.
                        m.d.comb += self.dma_data.ready.eq(1)
                        with m.If(fire):
                            m.d.sync += [held.eq(Cat(*t_elems)), col.eq(0),
                                         err.eq(err | beat.err)]
                        with m.Else():
                            m.d.sync += state.eq(_State.ROWS)
            with m.Case(_State.DRAIN):
                # Every write of the command has been performed (sp) or accepted (acc) before
                # this cycle; an accumulator write has landed once ``busy`` is seen low after it.
                landed = ~self.sp_write.en & ~self.acc_write.en & ~(
                    (kind == LoadKind.ACC) & self.acc_write.busy)
                with m.If(landed & (~self.done.valid | self.done.ready)):
                    m.d.sync += [
                        self.done.valid.eq(1),
                        self.done.payload.err.eq(err),
                        self.done.payload.funct3.eq(kind),
                        err.eq(0),
                        state.eq(_State.IDLE),
                    ]
        return m
