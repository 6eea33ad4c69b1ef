"""Board support: the accelgen SoC with the MNIST UART demo on open FPGA boards.

``BOARDS`` maps each name ``accelgen board build --board`` takes to its `Board`: the
amaranth-boards platform, clocks, device capacity and default accelerator configuration. The
rest of the package turns a board and a configuration into a bitstream (`boards.build`),
talks to the running demo (`boards.protocol`, `boards.demo`) and programs a board
(`boards.program`).
"""

from __future__ import annotations

from accel.config import AccelConfig

from boards.spec import Board, Capacity

__all__ = ["BOARDS", "Board", "BoardError", "Capacity", "get_board"]


class BoardError(ValueError):
    """A board request cannot be met (unknown board, a design too big for it, a failed tool);
    the message is one line."""


def _ulx3s(size: str):
    def platform():
        from amaranth_boards import ulx3s

        return getattr(ulx3s, f"ULX3S_{size}F_Platform")()
    return platform


def _icebreaker():
    from amaranth_boards.icebreaker import ICEBreakerPlatform

    return ICEBreakerPlatform()


def _icebreaker_leds(platform) -> None:
    platform.add_resources(platform.break_off_pmod)


_ECP5_NOTES = ("15 MHz from the PLL: the accelerator's dispatcher path reaches only about 20 "
               "MHz. Products get MULT18X18D blocks while they last, the activation unit's "
               "first; the rest are Booth multipliers in LUTs (boards.multipliers).")
_MEASURED = {
    "85": " The 8x8 default is built and measured: 30 % of the LUTs, 102 of 156 multipliers, "
          "16.1 MHz (boards/README.md). 16x16 and 8x16 (all 156 multipliers, 170 and 42 "
          "Booth products) synthesize and place at about 19 MHz, but nextpnr's router did not "
          "converge on them (about 8,200 and 4,900 overused wires after an hour).",
    "45": " The 8x8 default is built and measured: 65 % of the LUTs, 70 of 72 multipliers, "
          "19.9 MHz (boards/README.md). 8x16 would need 64 multipliers for the activation "
          "unit alone and about 25k more LUTs for Booth products.",
    "25": " The 4x4 default is built and measured: 76 % of the LUTs, 26 of 28 multipliers, "
          "19.0 MHz (boards/README.md). 4x8 would need 16 more multipliers for the "
          "activation unit (about 3,500 LUTs each in logic).",
}
_SCALED = " The default array is sized from the 25F figures (the 12F is the 25F die in nextpnr)."

# ECP5 capacities as nextpnr-ecp5 reports them (TRELLIS_COMB = LUT4s; the LFE5U-12F is the 25F
# die, and nextpnr and the bitstream use all of it).
_ULX3S = {
    # size: (LUT4, MULT18X18D, DP16KD, default array rows, cols, sp/acc KiB, max SRAM KiB,
    #        system clock)
    "12": (24288, 28, 56, 4, 4, 4, 64, 15_000_000),
    "25": (24288, 28, 56, 4, 4, 4, 64, 15_000_000),
    "45": (43848, 72, 108, 8, 8, 8, 128, 15_000_000),
    "85": (83640, 156, 208, 8, 8, 16, 128, 15_000_000),
}


def _ulx3s_board(size: str) -> Board:
    luts, dsps, brams, rows, cols, kib, max_sram, sys_hz = _ULX3S[size]
    return Board(
        name=f"ulx3s-{size}f",
        title=f"ULX3S (Lattice ECP5 LFE5U-{size}F)",
        family="ecp5",
        platform=_ulx3s(size),
        clock="clk25",
        clock_hz=25_000_000,
        sys_hz=sys_hz,
        capacity=Capacity(logic=("TRELLIS_COMB", luts), dsp=("MULT18X18D", dsps),
                          bram=("DP16KD", brams)),
        default_config=AccelConfig(rows=rows, cols=cols, sp_kib=kib, acc_kib=kib, sp_banks=1,
                                   acc_banks=1, name=f"ulx3s-{size}f"),
        max_sram_kib=max_sram,
        # LEDs 0-7 show status bits 0-7 (boards.top).
        leds=(0, 1, 2, 3, 4, 5, 6, 7),
        synth_opts="",
        # nextpnr's default router1 still had 80k of 279k arcs to route after 40 min on the
        # 85F's 16x16 build; router2 handles congested designs better.
        pnr_opts="--router router2",
        programmer=("openFPGALoader", "--board", "ulx3s"),
        notes=_ECP5_NOTES + _MEASURED.get(size, _SCALED),
    )


ICEBREAKER = Board(
    name="icebreaker",
    title="iCEBreaker (Lattice iCE40UP5K)",
    family="ice40",
    platform=_icebreaker,
    clock="clk12",
    clock_hz=12_000_000,
    sys_hz=12_000_000,
    capacity=Capacity(logic=("ICESTORM_LC", 5280), dsp=("ICESTORM_DSP", 8),
                      bram=("ICESTORM_RAM", 30), spram=("ICESTORM_SPRAM", 4)),
    default_config=AccelConfig(rows=2, cols=2, sp_kib=1, acc_kib=1, sp_banks=1, acc_banks=1,
                               name="icebreaker"),
    max_sram_kib=8,
    # Digit bits 0-3 on the snap-off LEDs 2-5, ready on the green LED, busy on LED 6,
    # failed and trapped on the red LED.
    leds=(2, 3, 4, 5, 1, 6, 0, 0),
    synth_opts="-dsp",
    pnr_opts="",
    programmer=("iceprog",),
    extra_resources=_icebreaker_leds,
    notes="The iCE40UP5K's 5,280 logic cells hold the SoC without the accelerator (3,728 LCs) "
          "but not with it: 10,298 LUT4 after synthesis for a 1x1 array, still 7,609 with the "
          "smallest PicoRV32 and one command in flight per unit; and the network (117 KB for "
          "2x2) exceeds its 15 KiB of block RAM. The build stops with an error "
          "(boards/README.md).",
)

BOARDS: dict[str, Board] = {
    **{f"ulx3s-{size}f": _ulx3s_board(size) for size in ("85", "12", "25", "45")},
    "icebreaker": ICEBREAKER,
}


def get_board(name: str) -> Board:
    """The board called ``name``.

    Raises
    ------
    BoardError
        When there is none (the message lists the boards).
    """
    try:
        return BOARDS[name]
    except KeyError:
        raise BoardError(f"unknown board {name!r}; boards: {', '.join(BOARDS)}") from None
