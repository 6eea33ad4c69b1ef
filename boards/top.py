"""The board top: the SoC on a board's clock, reset, UART and LEDs.

Status LEDs. The firmware's LED register (``accel/build/firmware/src/apps/mnist_uart.c``) and the
SoC's status outputs make eight status bits, which `Board.leds` maps to the board's LEDs:

====  ==========================================================================
bit   meaning
====  ==========================================================================
0-3   the last predicted digit, in binary
4     ready: waiting for a frame from the host
5     busy: receiving an image or classifying it
6     failed: the last frame was bad, or the accelerator's sticky error or a bus error is set
7     the core trapped (halted)
====  ==========================================================================
"""

from __future__ import annotations

from amaranth.hdl import Cat, ClockDomain, ClockSignal, Elaboratable, Module, ResetSignal
from amaranth.lib import io

from accel.config import AccelConfig
from accel.hdl.checked import CheckedConstruction
from accel.soc.soc import SoC, picorv32_source

from boards.baud import uart_divisor
from boards.clocking import ECP5PLL, PowerOnReset, ecp5_pll_params
from boards.spec import Board

__all__ = ["BoardTop", "uart_divisor"]


def _pll(board: Board):
    if not board.uses_pll:
        return None
    if board.family != "ecp5":
        raise ValueError(f"no PLL support for the {board.family} family")
    return ecp5_pll_params(board.clock_hz, board.sys_hz)


class BoardTop(CheckedConstruction, Elaboratable):
    """The SoC on ``board``: system clock (through a PLL when ``board.sys_hz`` differs from the
    oscillator), power-on reset, UART 0 and the status LEDs (module docstring).

    Parameters
    ----------
    board : Board
    config : AccelConfig
    image : bytes
        The SRAM's initial contents (firmware, then the network blob).
    baud : int, optional
        UART bit rate (default `boards.baud.default_baud`).
    with_accelerator : bool
        Passed to `accel.soc.soc.SoC`.

    Members
    -------
    soc : SoC
    pll : ECP5PLLParams or None

    Raises
    ------
    ValueError
        When the board's system clock needs a PLL the family or its dividers cannot give, or
        cannot make the UART's ``baud`` (`boards.baud.divisor_for`; a `boards.BoardError`).
    """

    @classmethod
    def check_parameters(cls, board: Board, config: AccelConfig, image: bytes, *,
                         baud: int | None = None, with_accelerator: bool = True) -> None:
        """Raise ``ValueError`` when no PLL gives the board's clock or the clock cannot make
        the UART's rate (before construction)."""
        _pll(board)
        uart_divisor(board, baud)

    def __init__(self, board: Board, config: AccelConfig, image: bytes, *,
                 baud: int | None = None, with_accelerator: bool = True):
        self.board = board
        self.pll = _pll(board)
        self.soc = SoC(config, image, uart_divisor=uart_divisor(board, baud),
                       with_accelerator=with_accelerator)

    def elaborate(self, platform):
        m = Module()
        board = self.board

        m.submodules.clk_buf = clk_buf = io.Buffer("i", platform.request(board.clock, dir="-"))
        # `sync` for the SoC, and a reset-less `por` on the same clock for its reset counter.
        m.domains.sync = ClockDomain("sync")
        m.domains.por = ClockDomain("por", reset_less=True)
        m.submodules.por = por = PowerOnReset(domain="por")
        if self.pll is not None:
            m.submodules.pll = pll = ECP5PLL(self.pll)
            m.d.comb += [pll.clk_in.eq(clk_buf.i), por.ready.eq(pll.locked)]
            clk = pll.clk_out
            platform.add_clock_constraint(clk, board.sys_hz)
        else:
            clk = clk_buf.i
        m.d.comb += [ClockSignal("sync").eq(clk), ClockSignal("por").eq(clk),
                     ResetSignal("sync").eq(por.rst)]

        m.submodules.soc = soc = self.soc
        platform.add_file("picorv32.v", picorv32_source().read_text())
        uart = platform.request("uart", 0, dir="-")
        m.submodules.uart_rx = uart_rx = io.Buffer("i", uart.rx)
        m.submodules.uart_tx = uart_tx = io.Buffer("o", uart.tx)
        m.d.comb += [soc.uart_rx.eq(uart_rx.i), uart_tx.o.eq(soc.uart_tx)]

        failed = soc.leds[6] | soc.accel_error | soc.bus_error
        status = Cat(soc.leds[:6], failed, soc.trap)
        leds = {}
        for bit, number in enumerate(board.leds):
            if number is not None:
                leds.setdefault(number, []).append(status[bit])
        for number, bits in sorted(leds.items()):
            led = io.Buffer("o", platform.request("led", number, dir="-"))
            m.submodules[f"led_{number}"] = led
            m.d.comb += led.o.eq(Cat(*bits).any())
        return m
