"""The accelerator top level: command port, units, memories, DMA and Wishbone master."""

from amaranth import Module
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from accel.arch.microarch import ACC_WRITE_LATENCY, DMA_MAX_OUTSTANDING, dma_row_bytes
from accel.bus import wishbone
from accel.config import AccelConfig
from accel.control.command_fetch import CommandFetch
from accel.control.dispatcher import Dispatcher
from accel.control.exec_unit import ExecUnit
from accel.control.load_unit import LoadUnit
from accel.control.store_unit import StoreUnit
from accel.isa.decoder import COMMAND_LAYOUT, RESPONSE_LAYOUT
from accel.memory.accumulator import Accumulator
from accel.memory.dma import DMA
from accel.memory.scratchpad import Scratchpad

__all__ = ["Accelerator"]


class Accelerator(wiring.Component):
    """A programmable systolic-array accelerator executing the accelgen ISA.

    Commands enter on ``cmd`` (as issued by a core: funct7, funct3 and the rs1/rs2 values) and
    each produces one response on ``resp``, in order. Loads, computes and stores run
    concurrently in their own units; a scoreboard keeps every program's result equal to
    executing it one instruction at a time (the golden model). Main memory is reached through a
    Wishbone B4 pipelined master, shared (round robin) by the DMA and the command fetcher that
    reads EXEC_BUFFER records.

    Parameters
    ----------
    config : AccelConfig

    Members
    -------
    cmd : In(stream.Signature(COMMAND_LAYOUT))
    resp : Out(stream.Signature(RESPONSE_LAYOUT))
    bus : Out(wishbone.Signature(addr_width=mem_addr_width - log2(bus_bytes),
                                 data_width=bus_width, granularity=8))
    busy : Out(1)
        Some unit has work in flight.
    error : Out(1)
        The sticky error is set.
    """

    def __init__(self, config: AccelConfig):
        self.config = config
        word_shift = (config.bus_bytes - 1).bit_length()
        super().__init__({
            "cmd": In(stream.Signature(COMMAND_LAYOUT)),
            "resp": Out(stream.Signature(RESPONSE_LAYOUT)),
            "bus": Out(wishbone.Signature(addr_width=config.mem_addr_width - word_shift,
                                          data_width=config.bus_width)),
            "busy": Out(1),
            "error": Out(1),
        })

    def elaborate(self, platform):
        cfg = self.config
        m = Module()
        m.submodules.command_fetch = fetch = CommandFetch(cfg)
        m.submodules.dispatcher = dispatcher = Dispatcher(cfg)
        m.submodules.load_unit = load = LoadUnit(cfg)
        m.submodules.exec_unit = execute = ExecUnit(cfg, write_latency=ACC_WRITE_LATENCY)
        m.submodules.store_unit = store = StoreUnit(cfg)
        m.submodules.scratchpad = sp = Scratchpad(
            depth=cfg.sp_rows, lanes=cfg.dim, elem_width=cfg.input_width, banks=cfg.sp_banks,
            read_ports=3, write_ports=1)
        m.submodules.accumulator = acc = Accumulator(
            depth=cfg.acc_rows, lanes=cfg.cols, elem_width=cfg.acc_width, banks=cfg.acc_banks,
            read_ports=1, write_ports=2)
        m.submodules.dma = dma = DMA(addr_width=cfg.mem_addr_width, data_width=cfg.bus_width,
                                     max_row_bytes=dma_row_bytes(cfg),
                                     max_outstanding=DMA_MAX_OUTSTANDING)

        wiring.connect(m, wiring.flipped(self.cmd), fetch.core)
        wiring.connect(m, fetch.cmd, dispatcher.cmd)
        wiring.connect(m, dispatcher.buffer_start, fetch.start)
        wiring.connect(m, dispatcher.resp, wiring.flipped(self.resp))
        wiring.connect(m, dispatcher.load, load.cmd)
        wiring.connect(m, dispatcher.execute, execute.cmd)
        wiring.connect(m, dispatcher.store, store.cmd)
        wiring.connect(m, load.done, dispatcher.load_done)
        wiring.connect(m, execute.done, dispatcher.execute_done)
        wiring.connect(m, store.done, dispatcher.store_done)

        wiring.connect(m, execute.sp_a, sp.read0)
        wiring.connect(m, execute.sp_b, sp.read1)
        wiring.connect(m, store.sp_read, sp.read2)
        wiring.connect(m, load.sp_write, sp.write0)
        # The array's results have priority on the accumulator; loads fill gaps.
        wiring.connect(m, execute.acc_write, acc.write0)
        wiring.connect(m, load.acc_write, acc.write1)
        wiring.connect(m, store.acc_read, acc.read0)

        wiring.connect(m, load.dma_cmd, dma.rd_cmd)
        wiring.connect(m, dma.rd_data, load.dma_data)
        wiring.connect(m, store.dma_cmd, dma.wr_cmd)
        wiring.connect(m, store.dma_data, dma.wr_data)
        wiring.connect(m, dma.wr_done, store.dma_done)
        m.submodules.bus_arbiter = arbiter = wishbone.Arbiter(
            n_masters=2, addr_width=self.bus.signature.addr_width, data_width=cfg.bus_width)
        wiring.connect(m, dma.bus, arbiter.masters[0])
        wiring.connect(m, fetch.bus, arbiter.masters[1])
        wiring.connect(m, arbiter.bus, wiring.flipped(self.bus))
        m.d.comb += [dma.window_base.eq(dispatcher.window_base),
                     dma.window_last.eq(dispatcher.window_last)]

        m.d.comb += [self.busy.eq(dispatcher.busy | fetch.busy),
                     self.error.eq(dispatcher.error)]
        return m
