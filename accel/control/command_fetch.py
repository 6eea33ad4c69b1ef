"""The command fetcher: EXEC_BUFFER records read from main memory, fed to the dispatcher.

It sits between the command port and the `Dispatcher`. Commands from the core pass straight
through (``position`` 0). After passing a command with EXEC_BUFFER's codes it forwards nothing
until the dispatcher reports on ``start`` what became of it: when EXEC_BUFFER executes
(``run``), the fetcher reads the buffer over its own Wishbone master and feeds the records to
the dispatcher as commands (``position`` = 1 + index, ``last`` on the final one), then passes
core commands again; when it failed or was discarded, it passes core commands again at once.

Fetching runs ahead of the dispatcher: bus reads are issued while the beat FIFO (``depth`` bus
words) has room, whole records are cut from the fetched words by a small shift buffer, so the
dispatcher can take one record per cycle when the bus delivers 12 bytes per cycle (a 128-bit
bus does; a 32-bit bus delivers one record every 3 beats). The fetcher drops ``cyc`` whenever
nothing is outstanding, so the arbiter can give the bus to the DMA between bursts.

The dispatcher has checked the buffer (alignment, memory range, DMA window) before it signals
``run``, and it waits for in-flight stores to the buffer's bytes, so the fetcher reads the
bytes the golden model reads.
"""

from amaranth import Cat, Module, Mux, Signal
from amaranth.lib import fifo, stream, wiring
from amaranth.lib.wiring import In, Out

from accel.bus import wishbone
from accel.config import AccelConfig
from accel.control.layouts import BUFFER_START_LAYOUT, DISPATCH_COMMAND_LAYOUT, POSITION_BITS
from accel.isa.decoder import COMMAND_LAYOUT
from accel.isa.spec import BY_NAME, CUSTOM0_OPCODE, RECORD_BYTES

__all__ = ["CommandFetch"]

_EXEC_BUFFER = BY_NAME["exec_buffer"]


class CommandFetch(wiring.Component):
    """Command-port pass-through and EXEC_BUFFER record fetcher.

    Parameters
    ----------
    config : AccelConfig
    depth : int
        Bus words fetched ahead (the beat FIFO's depth, also the most reads in flight).

    Members
    -------
    core : In(stream.Signature(COMMAND_LAYOUT))
        Commands issued by the core.
    cmd : Out(stream.Signature(DISPATCH_COMMAND_LAYOUT))
        Commands for the dispatcher: the core's, and records while a buffer runs.
    start : In(stream.Signature(BUFFER_START_LAYOUT))
        From the dispatcher, once per core command with EXEC_BUFFER's codes: ``run`` with the
        buffer's ``addr`` and ``count`` when it executes; always accepted.
    bus : Out(wishbone.Signature(addr_width=mem_addr_width - log2(bus_bytes),
                                 data_width=bus_width))
        Read-only master (``we`` is 0, every ``sel`` lane set).
    busy : Out(1)
        Waiting for ``start`` or feeding a buffer.
    """

    def __init__(self, config: AccelConfig, depth: int = 4):
        if not 1 <= depth <= 64:
            raise ValueError(f"depth must be between 1 and 64, not {depth!r}")
        self._config = config
        self._depth = depth
        word_shift = (config.bus_bytes - 1).bit_length()
        super().__init__({
            "core": In(stream.Signature(COMMAND_LAYOUT)),
            "cmd": Out(stream.Signature(DISPATCH_COMMAND_LAYOUT)),
            "start": In(stream.Signature(BUFFER_START_LAYOUT)),
            "bus": Out(wishbone.Signature(addr_width=config.mem_addr_width - word_shift,
                                          data_width=config.bus_width)),
            "busy": Out(1),
        })

    def elaborate(self, platform):
        cfg = self._config
        m = Module()
        bus, core, cmd, start = self.bus, self.core, self.cmd, self.start
        unit = min(cfg.bus_width, 32)              # bits of one buffer element
        beat_units = cfg.bus_width // unit
        record_units = RECORD_BYTES * 8 // unit
        capacity = beat_units + record_units       # shift buffer, in units
        word_shift = (cfg.bus_bytes - 1).bit_length()
        max_beats = (RECORD_BYTES << 16) // cfg.bus_bytes + 2

        running = Signal()
        waiting = Signal()
        m.d.comb += [self.busy.eq(running | waiting), start.ready.eq(1)]

        # ---- start ------------------------------------------------------------------------------
        beat_adr = Signal.like(bus.adr)
        beats_left = Signal(range(max_beats + 1))
        skip = Signal(range(beat_units))           # units before the first record in its beat
        first = Signal()                           # the next beat popped is the first
        records_left = Signal(POSITION_BITS)
        position = Signal(POSITION_BITS)
        buf = Signal(capacity * unit)
        fill = Signal(range(capacity + 1))
        errs = Signal(capacity)                    # per unit of `buf`: its read failed
        begin = start.valid & start.payload.run
        with m.If(start.valid):
            m.d.sync += [waiting.eq(0), running.eq(start.payload.run)]
        with m.If(begin):
            p = start.payload
            end = p.addr + p.count * RECORD_BYTES - 1
            m.d.sync += [beat_adr.eq(p.addr >> word_shift),
                         beats_left.eq((end >> word_shift) - (p.addr >> word_shift) + 1),
                         # addresses are multiples of 4: only 32-bit units can be skipped
                         skip.eq(p.addr[2:word_shift] if word_shift > 2 else 0),
                         first.eq(1), records_left.eq(p.count), position.eq(1),
                         buf.eq(0), fill.eq(0), errs.eq(0)]

        # ---- pass-through -----------------------------------------------------------------------
        is_exec_buffer = ((core.payload.funct7 == _EXEC_BUFFER.funct7)
                          & (core.payload.funct3 == _EXEC_BUFFER.funct3))
        with m.If(~running & ~waiting):
            m.d.comb += [cmd.valid.eq(core.valid), core.ready.eq(cmd.ready),
                         cmd.payload.funct7.eq(core.payload.funct7),
                         cmd.payload.funct3.eq(core.payload.funct3),
                         cmd.payload.rs1.eq(core.payload.rs1),
                         cmd.payload.rs2.eq(core.payload.rs2)]
            with m.If(core.valid & cmd.ready & is_exec_buffer):
                m.d.sync += waiting.eq(1)

        # ---- bus reads: one per cycle while the beat FIFO has room for the answers -------------
        m.submodules.beats = beats = fifo.SyncFIFO(width=cfg.bus_width + 1, depth=self._depth)
        outstanding = Signal(range(self._depth + 1))
        reserved = Signal(range(self._depth + 1))  # issued and not yet popped
        accepted = Signal()
        response = Signal()
        pop = Signal()
        m.d.comb += [
            bus.stb.eq(running & (beats_left != 0) & (reserved < self._depth)),
            bus.cyc.eq(bus.stb | (outstanding != 0)),
            bus.we.eq(0),
            bus.sel.eq((1 << len(bus.sel)) - 1),
            bus.adr.eq(beat_adr),
            accepted.eq(bus.stb & ~bus.stall),
            response.eq(bus.cyc & (bus.ack | bus.err)),
            beats.w_data.eq(Cat(bus.dat_r, bus.err)),
            beats.w_en.eq(response),
            beats.r_en.eq(pop),
        ]
        m.d.sync += [outstanding.eq(outstanding + accepted - response),
                     reserved.eq(reserved + accepted - pop)]
        with m.If(accepted):
            m.d.sync += [beat_adr.eq(beat_adr + 1), beats_left.eq(beats_left - 1)]

        # ---- records: cut from a shift buffer of fetched units ----------------------------------
        word = buf[:32]
        with m.If(running):
            m.d.comb += [
                cmd.payload.position.eq(position),
                cmd.payload.last.eq(records_left == 1),
                cmd.payload.bus_err.eq(errs[:record_units].any()),
                cmd.valid.eq((fill >= record_units) & (records_left != 0)),
                cmd.payload.funct7.eq(word[25:32]), cmd.payload.funct3.eq(word[12:15]),
                cmd.payload.rs1.eq(buf[32:64]), cmd.payload.rs2.eq(buf[64:96]),
                cmd.payload.bad.eq((word[:7] != CUSTOM0_OPCODE) | (word[7:12] != 0)
                                   | (word[15:25] != 0)),
            ]
        take = Signal()
        m.d.comb += take.eq(running & cmd.valid & cmd.ready)
        kept = Signal.like(buf)
        kept_errs = Signal.like(errs)
        kept_fill = Signal.like(fill)
        m.d.comb += [kept.eq(Mux(take, buf >> (record_units * unit), buf)),
                     kept_errs.eq(Mux(take, errs >> record_units, errs)),
                     kept_fill.eq(fill - Mux(take, record_units, 0))]
        skipped = Signal(range(beat_units))
        m.d.comb += skipped.eq(Mux(first, skip, 0))
        arriving = Signal(range(beat_units + 1))
        m.d.comb += [arriving.eq(beat_units - skipped),
                     pop.eq(running & beats.r_rdy & (kept_fill + arriving <= capacity))]
        beat = beats.r_data[:cfg.bus_width] >> (skipped * unit)
        beat_errs = Mux(beats.r_data[cfg.bus_width], (1 << beat_units) - 1, 0) >> skipped
        with m.If(pop):                            # (never in the cycle of `begin`)
            m.d.sync += [buf.eq(kept | (beat << (kept_fill * unit))),
                         errs.eq(kept_errs | (beat_errs << kept_fill)),
                         fill.eq(kept_fill + arriving), first.eq(0)]
        with m.Elif(take):
            m.d.sync += [buf.eq(kept), errs.eq(kept_errs), fill.eq(kept_fill)]
        with m.If(take):
            m.d.sync += [records_left.eq(records_left - 1), position.eq(position + 1)]
            with m.If(records_left == 1):
                m.d.sync += running.eq(0)
        return m
