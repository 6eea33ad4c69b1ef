"""The SoC: PicoRV32, on-chip SRAM, UART, timer, LEDs and the accelerator.

Structure (a Harvard core: the accelerator's DMA has the SRAM's Wishbone port to itself)::

    PicoRV32 --look-ahead mem (SRAM)---------------------> sram.core  (32-bit, zero wait)
    PicoRV32 --native mem (rest)--> CoreBusAdapter --> Decoder --> uart  (UART)
                                                               +-> timer (Timer)
    PicoRV32 PCPI --> PCPIBridge --+                           +-> leds  (LEDs)
                                   +--> CommandMux --> Accel.  +-> accel (MMIOCommandPort)
    MMIOCommandPort ---------------+
    Accelerator.bus (DMA, bus_width bits) --> Decoder --> sram.bus  (WishboneSRAM)

Addresses come from :func:`accel.soc.memory_map.memory_map` only. PicoRV32 is an ``Instance``
of the Verilog module ``picorv32`` (from the ``pythondata-cpu-picorv32`` package), so the SoC
must be simulated on its emitted Verilog together with ``picorv32.v`` (cocotb), never in the
Amaranth simulator, which does not simulate instances.
"""

from amaranth.hdl import ClockSignal, Const, Instance, Module, Mux, ResetSignal, Signal
from amaranth.lib import fifo, stream, wiring
from amaranth.lib.wiring import In, Out

from accel.bus import wishbone
from accel.config import AccelConfig
from accel.isa.decoder import COMMAND_LAYOUT, RESPONSE_LAYOUT
from accel.soc.decoder import Decoder
from accel.soc.leds import LEDs
from accel.soc.memory_map import memory_map, region
from accel.soc.sram import WishboneSRAM
from accel.soc.timer import Timer
from accel.soc.uart import UART

__all__ = ["SoC", "CoreBusAdapter", "CommandMux", "picorv32_source"]

#: Word-address width of the SoC bus (a 32-bit byte address space of 32-bit words).
BUS_ADDR_WIDTH = 30


def picorv32_source():
    """Path of ``picorv32.v`` from the ``pythondata-cpu-picorv32`` package (a Verilog source every
    simulation or synthesis of the SoC needs beside the emitted Verilog)."""
    from pathlib import Path

    import pythondata_cpu_picorv32

    return Path(pythondata_cpu_picorv32.data_location) / "picorv32.v"


class CoreBusAdapter(wiring.Component):
    """PicoRV32's native memory interface to a Wishbone B4 pipelined master, one access at a time.

    A request (``mem_valid``) opens a bus cycle and presents the access (``sel = mem_wstrb`` for
    writes, all lanes for reads) until the slave accepts it; the response (``ack`` or ``err``)
    raises ``mem_ready`` for one cycle, with ``mem_rdata = dat_r`` (0 after an ``err``), and
    closes the bus cycle. An error response also sets the sticky ``bus_error``.

    Members
    -------
    mem_valid, mem_addr, mem_wdata, mem_wstrb : In
        From the core.
    mem_ready, mem_rdata : Out
        To the core.
    bus : Out(wishbone.Signature(addr_width=30, data_width=32))
    bus_error : Out(1)
        Sticky: some access of the core was answered with ``err``.
    """

    mem_valid: In(1)
    mem_addr: In(32)
    mem_wdata: In(32)
    mem_wstrb: In(4)
    mem_ready: Out(1)
    mem_rdata: Out(32)
    bus: Out(wishbone.Signature(addr_width=BUS_ADDR_WIDTH, data_width=32))
    bus_error: Out(1)

    def elaborate(self, platform):
        m = Module()
        bus = self.bus
        m.d.comb += [
            bus.adr.eq(self.mem_addr[2:]),
            bus.dat_w.eq(self.mem_wdata),
            bus.we.eq(self.mem_wstrb.any()),
            bus.sel.eq(Mux(self.mem_wstrb.any(), self.mem_wstrb, 0b1111)),
        ]
        with m.FSM(name="core_bus"):
            with m.State("IDLE"):
                m.d.comb += [bus.cyc.eq(self.mem_valid), bus.stb.eq(self.mem_valid)]
                with m.If(self.mem_valid & ~bus.stall):
                    m.next = "WAIT"
            with m.State("WAIT"):
                m.d.comb += bus.cyc.eq(1)
                with m.If(bus.ack | bus.err):
                    m.d.comb += [
                        self.mem_ready.eq(1),
                        self.mem_rdata.eq(bus.ack.replicate(32) & bus.dat_r),
                    ]
                    m.d.sync += self.bus_error.eq(self.bus_error | bus.err)
                    m.next = "IDLE"
        return m


class CommandMux(wiring.Component):
    """Two command sources share one accelerator command port; responses go back to their source.

    Commands are taken one at a time, source 0 first when both offer one; a command offered on
    ``cmd`` and not yet taken stays offered (its source keeps the port), so ``cmd`` follows the
    stream rules. The source of each issued command is queued (up to ``depth`` in flight) and
    the accelerator's in-order responses are routed by that queue.

    Members
    -------
    sources : In(stream.Signature(COMMAND_LAYOUT)) and Out(stream...) pairs
        ``cmd0``/``resp0`` and ``cmd1``/``resp1``: the two sources' ports.
    cmd : Out(stream.Signature(COMMAND_LAYOUT))
    resp : In(stream.Signature(RESPONSE_LAYOUT))
        To the accelerator.
    """

    cmd0: In(stream.Signature(COMMAND_LAYOUT))
    resp0: Out(stream.Signature(RESPONSE_LAYOUT))
    cmd1: In(stream.Signature(COMMAND_LAYOUT))
    resp1: Out(stream.Signature(RESPONSE_LAYOUT))
    cmd: Out(stream.Signature(COMMAND_LAYOUT))
    resp: In(stream.Signature(RESPONSE_LAYOUT))

    def __init__(self, depth: int = 4):
        self.depth = depth
        super().__init__()

    def elaborate(self, platform):
        m = Module()
        m.submodules.order = order = fifo.SyncFIFOBuffered(width=1, depth=self.depth)
        # A command offered and not taken keeps the port: otherwise source 0 arriving would
        # replace source 1's command on a stalled `cmd` (payload must stay until the transfer).
        offered = Signal()
        offered_from_1 = Signal()
        pick1 = Mux(offered, offered_from_1, ~self.cmd0.valid)
        m.d.sync += [offered.eq(self.cmd.valid & ~self.cmd.ready), offered_from_1.eq(pick1)]
        m.d.comb += [
            self.cmd.valid.eq((self.cmd0.valid | self.cmd1.valid) & order.w_rdy),
            self.cmd.payload.eq(Mux(pick1, self.cmd1.payload, self.cmd0.payload)),
            self.cmd0.ready.eq(self.cmd.ready & order.w_rdy & ~pick1),
            self.cmd1.ready.eq(self.cmd.ready & order.w_rdy & pick1),
            order.w_en.eq(self.cmd.valid & self.cmd.ready),
            order.w_data.eq(pick1),
        ]
        from_1 = order.r_data[0]
        m.d.comb += [
            self.resp0.payload.eq(self.resp.payload),
            self.resp1.payload.eq(self.resp.payload),
            self.resp0.valid.eq(self.resp.valid & order.r_rdy & ~from_1),
            self.resp1.valid.eq(self.resp.valid & order.r_rdy & from_1),
            self.resp.ready.eq(order.r_rdy & Mux(from_1, self.resp1.ready, self.resp0.ready)),
            order.r_en.eq(self.resp.valid & self.resp.ready),
        ]
        return m


class SoC(wiring.Component):
    """PicoRV32 with on-chip SRAM, UART, cycle timer, LEDs and (optionally) the accelerator.

    The core boots at address 0 (``PROGADDR_RESET``) with the stack pointer at the top of SRAM
    (``STACKADDR``); RV32IM (``ENABLE_MUL``, ``ENABLE_DIV``), no compressed instructions, no IRQs.
    Harvard: every SRAM access of the core (instruction fetches, loads and stores) goes through
    PicoRV32's look-ahead interface straight to the SRAM's private 32-bit port, answered in the
    cycle ``mem_valid`` rises (no wait state, no bus, no arbitration); its other accesses
    (peripherals, unmapped addresses) go through a :class:`CoreBusAdapter` onto the 32-bit
    peripheral bus. The accelerator's DMA owns the SRAM's Wishbone port, ``bus_width`` bits
    wide. With the accelerator, custom-0 instructions reach it through PCPI (``PCPIBridge``) and
    the ``accel`` page holds its memory-mapped command port (``MMIOCommandPort``); both share the
    accelerator through a :class:`CommandMux`. An access to an unmapped address is answered with
    a bus error: the core sees 0 from a read and the sticky ``bus_error`` output rises; the
    DMA's accesses outside the SRAM fail the same way (the accelerator reports a DMA error).

    Parameters
    ----------
    config : AccelConfig
        Accelerator parameters and ``soc_sram_kib``; ``bus_width`` at least 32.
    firmware : bytes, optional
        SRAM image loaded at address 0 (little-endian), at most ``soc_sram_kib`` KiB.
    uart_divisor : int
        Reset value of the UART's clock cycles per bit (e.g. 12 MHz / 115200 = 104).
    with_accelerator : bool
        Include the accelerator, PCPI bridge and MMIO port (otherwise the ``accel`` page is
        unmapped and custom-0 instructions trap as illegal).

    Members
    -------
    uart_tx : Out(1)
    uart_rx : In(1)
    leds : Out(8)
    accel_busy, accel_error : Out(1)
        The accelerator's ``busy`` and sticky ``error`` (0 without it).
    trap : Out(1)
        PicoRV32 has trapped (illegal instruction, misaligned access, ``ebreak``): it is halted.
    bus_error : Out(1)
        Sticky: a core access was answered with a bus error (unmapped address).

    Raises
    ------
    ValueError
        If ``bus_width`` is below 32 or the firmware does not fit.
    """

    def __init__(self, config: AccelConfig, firmware: bytes | None = None, *,
                 uart_divisor: int = 104, with_accelerator: bool = True):
        if config.bus_width < 32:
            raise ValueError(f"the SoC needs bus_width of at least 32, not {config.bus_width!r}")
        self.config = config
        self.firmware = bytes(firmware or b"")
        self.uart_divisor = uart_divisor
        self.with_accelerator = with_accelerator
        self.sram_size = region(config, "sram").size
        if len(self.firmware) > self.sram_size:
            raise ValueError(f"firmware of {len(self.firmware)} bytes does not fit in "
                             f"{self.sram_size} bytes of SRAM (soc_sram_kib="
                             f"{config.soc_sram_kib})")
        super().__init__({
            "uart_tx": Out(1, init=1),
            "uart_rx": In(1, init=1),
            "leds": Out(8),
            "accel_busy": Out(1),
            "accel_error": Out(1),
            "trap": Out(1),
            "bus_error": Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        cfg = self.config
        word_bytes = 4

        def window_bits(name):
            return (region(cfg, name).size // word_bytes - 1).bit_length()

        sram_region = region(cfg, "sram")
        peripherals = [r for r in memory_map(cfg) if r.name != "sram"
                       and (self.with_accelerator or r.name != "accel")]
        m.submodules.decoder = decoder = Decoder(regions=peripherals,
                                                 addr_width=BUS_ADDR_WIDTH, data_width=32)
        m.submodules.sram = sram = WishboneSRAM(size=self.sram_size, data_width=cfg.bus_width,
                                                init=self.firmware, core_port=True)
        m.submodules.uart = uart = UART(divisor=self.uart_divisor,
                                        addr_width=window_bits("uart"))
        m.submodules.timer = timer = Timer(addr_width=window_bits("timer"))
        m.submodules.leds = leds = LEDs(width=8, addr_width=window_bits("leds"))
        wiring.connect(m, decoder.uart, uart.bus)
        wiring.connect(m, decoder.timer, timer.bus)
        wiring.connect(m, decoder.leds, leds.bus)
        m.d.comb += [
            self.uart_tx.eq(uart.tx),
            uart.rx.eq(self.uart_rx),
            self.leds.eq(leds.leds),
        ]

        # The core: SRAM accesses on the look-ahead interface, the rest through the adapter.
        m.submodules.core_bus = core_bus = CoreBusAdapter()
        wiring.connect(m, core_bus.bus, decoder.bus)
        m.d.comb += self.bus_error.eq(core_bus.bus_error)
        mem = {name: Signal(width, name=f"mem_{name}") for name, width in
               (("valid", 1), ("instr", 1), ("ready", 1), ("rdata", 32), ("la_read", 1),
                ("la_write", 1), ("la_addr", 32), ("la_wdata", 32), ("la_wstrb", 4))}
        pcpi = {name: Signal(width, name=f"pcpi_{name}") for name, width in
                (("valid", 1), ("insn", 32), ("rs1", 32), ("rs2", 32), ("wr", 1), ("rd", 32),
                 ("wait", 1), ("ready", 1))}
        m.submodules.core = Instance(
            "picorv32",
            p_ENABLE_COUNTERS=1,
            p_ENABLE_MUL=1,
            p_ENABLE_DIV=1,
            p_ENABLE_PCPI=int(self.with_accelerator),
            p_COMPRESSED_ISA=0,
            p_ENABLE_IRQ=0,
            p_BARREL_SHIFTER=1,
            p_PROGADDR_RESET=Const(0, 32),
            p_STACKADDR=Const(sram_region.end, 32),
            i_clk=ClockSignal(),
            i_resetn=~ResetSignal(),
            o_trap=self.trap,
            o_mem_valid=mem["valid"],
            o_mem_instr=mem["instr"],
            i_mem_ready=mem["ready"],
            o_mem_addr=core_bus.mem_addr,
            o_mem_wdata=core_bus.mem_wdata,
            o_mem_wstrb=core_bus.mem_wstrb,
            i_mem_rdata=mem["rdata"],
            o_mem_la_read=mem["la_read"],
            o_mem_la_write=mem["la_write"],
            o_mem_la_addr=mem["la_addr"],
            o_mem_la_wdata=mem["la_wdata"],
            o_mem_la_wstrb=mem["la_wstrb"],
            o_pcpi_valid=pcpi["valid"],
            o_pcpi_insn=pcpi["insn"],
            o_pcpi_rs1=pcpi["rs1"],
            o_pcpi_rs2=pcpi["rs2"],
            i_pcpi_wr=pcpi["wr"],
            i_pcpi_rd=pcpi["rd"],
            i_pcpi_wait=pcpi["wait"],
            i_pcpi_ready=pcpi["ready"],
            i_irq=Const(0, 32),
        )
        # PicoRV32 raises mem_valid (same address, data, strobes) in the cycle after a look-ahead
        # pulse, unless it has trapped: the SRAM port does the access in the pulse's cycle and
        # `fast` answers the request in the cycle it appears.
        in_sram = (mem["la_addr"][(self.sram_size - 1).bit_length():] == 0) & ~self.trap
        fast = Signal()
        m.d.sync += fast.eq((mem["la_read"] | mem["la_write"]) & in_sram)
        m.d.comb += [
            sram.core.addr.eq(mem["la_addr"][2:]),
            sram.core.re.eq(mem["la_read"] & in_sram),
            sram.core.we.eq(mem["la_wstrb"] & (mem["la_write"] & in_sram).replicate(4)),
            sram.core.wdata.eq(mem["la_wdata"]),
            core_bus.mem_valid.eq(mem["valid"] & ~fast),
            mem["ready"].eq((mem["valid"] & fast) | core_bus.mem_ready),
            mem["rdata"].eq(Mux(fast, sram.core.rdata, core_bus.mem_rdata)),
        ]

        if self.with_accelerator:
            from accel.accelerator import Accelerator
            from accel.riscv_bridge import MMIOCommandPort, PCPIBridge

            m.submodules.accelerator = accel = Accelerator(cfg)
            m.submodules.pcpi_bridge = bridge = PCPIBridge()
            m.submodules.mmio = mmio = MMIOCommandPort()
            m.submodules.command_mux = mux = CommandMux()
            m.d.comb += [
                bridge.pcpi_valid.eq(pcpi["valid"]),
                bridge.pcpi_insn.eq(pcpi["insn"]),
                bridge.pcpi_rs1.eq(pcpi["rs1"]),
                bridge.pcpi_rs2.eq(pcpi["rs2"]),
                pcpi["wr"].eq(bridge.pcpi_wr),
                pcpi["rd"].eq(bridge.pcpi_rd),
                pcpi["wait"].eq(bridge.pcpi_wait),
                pcpi["ready"].eq(bridge.pcpi_ready),
            ]
            wiring.connect(m, bridge.cmd, mux.cmd0)
            wiring.connect(m, mux.resp0, bridge.resp)
            wiring.connect(m, mmio.cmd, mux.cmd1)
            wiring.connect(m, mux.resp1, mmio.resp)
            wiring.connect(m, mux.cmd, accel.cmd)
            wiring.connect(m, accel.resp, mux.resp)
            wiring.connect(m, decoder.accel, mmio.bus)

            # The DMA's byte addresses are mem_addr_width bits wide: zero-extend onto its bus,
            # whose only slave is the SRAM (elsewhere: bus errors).
            word_shift = (cfg.bus_bytes - 1).bit_length()
            m.submodules.dma_decoder = dma_decoder = Decoder(
                regions=[sram_region], addr_width=32 - word_shift, data_width=cfg.bus_width)
            wiring.connect(m, dma_decoder.sram, sram.bus)
            dma, port = accel.bus, dma_decoder.bus
            m.d.comb += [
                port.cyc.eq(dma.cyc),
                port.stb.eq(dma.stb),
                port.we.eq(dma.we),
                port.adr.eq(dma.adr),
                port.dat_w.eq(dma.dat_w),
                port.sel.eq(dma.sel),
                dma.dat_r.eq(port.dat_r),
                dma.ack.eq(port.ack),
                dma.err.eq(port.err),
                dma.stall.eq(port.stall),
                self.accel_busy.eq(accel.busy),
                self.accel_error.eq(accel.error),
            ]
        return m
