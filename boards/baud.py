"""The demo UART's bit rate: which rates a board's system clock reaches, and the default.

The UART (`accel.soc.uart.UART`) counts whole clock cycles per bit, so a rate is reachable when
``round(clock / baud)`` cycles give it within `MAX_ERROR` and there are at least `MIN_DIVISOR`
of them (its receiver samples each bit within a cycle of the middle; at fewer cycles that cycle
is too much of a bit). The default is the fastest standard rate up to `MAX_BAUD` that the clock
divides within `GOOD_ERROR`: 3,000,000 at the ULX3S's 15 MHz (5 cycles a bit, exact), which the
ULX3S's FT231X also makes exactly (48 MHz / 16). 115200 stays available for any terminal.
"""

from __future__ import annotations

from boards import BoardError
from boards.spec import Board

__all__ = ["MAX_BAUD", "MIN_DIVISOR", "MAX_ERROR", "GOOD_ERROR", "STANDARD_RATES",
           "divisor_for", "uart_divisor", "default_baud"]

#: The fastest rate of the boards' USB serial bridges (FT231X: 3 Mbaud).
MAX_BAUD = 3_000_000
#: Fewest clock cycles per bit the UART's receiver samples reliably.
MIN_DIVISOR = 4
#: Largest relative error of a rate the build accepts (9.5 bits of drift stay under 15 % of
#: a bit).
MAX_ERROR = 0.015
#: Largest error of a rate `default_baud` picks ("divides well").
GOOD_ERROR = 0.005
#: Rates `default_baud` tries, fastest first (all of them FT231X/FT2232H rates).
STANDARD_RATES = (3_000_000, 2_000_000, 1_500_000, 1_000_000, 921_600, 460_800, 230_400,
                  115_200)


def _error(clock_hz: int, baud: int, divisor: int) -> float:
    return abs(clock_hz / divisor - baud) / baud


def divisor_for(clock_hz: int, baud: int) -> int:
    """Clock cycles per bit for ``baud`` at ``clock_hz``.

    Raises
    ------
    BoardError
        When the rate is above `MAX_BAUD`, needs fewer than `MIN_DIVISOR` cycles a bit, or
        whole cycles miss it by more than `MAX_ERROR` (one line naming the nearest rate).
    """
    mhz = f"{clock_hz / 1e6:g} MHz"
    if not isinstance(baud, int) or isinstance(baud, bool) or baud <= 0:
        raise BoardError(f"the UART rate must be a positive whole number of baud, not {baud!r}")
    if baud > MAX_BAUD:
        raise BoardError(f"{baud:,} baud is above the boards' USB serial bridges' "
                         f"{MAX_BAUD:,}")
    divisor = round(clock_hz / baud)
    if divisor < MIN_DIVISOR:
        raise BoardError(f"{baud:,} baud needs fewer than {MIN_DIVISOR} clock cycles a bit at "
                         f"{mhz}; at most {clock_hz // MIN_DIVISOR:,} baud")
    if divisor > 0xFFFF:
        raise BoardError(f"{baud:,} baud needs more than 65535 clock cycles a bit at {mhz}")
    if (error := _error(clock_hz, baud, divisor)) > MAX_ERROR:
        raise BoardError(f"{baud:,} baud is not reachable at {mhz}: {divisor} cycles a bit give "
                         f"{clock_hz / divisor:,.0f} ({100 * error:.1f} % off, at most "
                         f"{100 * MAX_ERROR:g} %)")
    return divisor


def uart_divisor(board: Board, baud: int | None = None) -> int:
    """Clock cycles per UART bit at the board's system clock (``baud`` default:
    `default_baud`).

    Raises
    ------
    BoardError
        For a rate the clock cannot make (`divisor_for`).
    """
    return divisor_for(board.sys_hz, default_baud(board) if baud is None else baud)


def default_baud(board: Board) -> int:
    """The fastest of `STANDARD_RATES` the board's system clock divides within `GOOD_ERROR`
    (115200 when none does)."""
    for baud in STANDARD_RATES:
        divisor = round(board.sys_hz / baud)
        if divisor >= MIN_DIVISOR and _error(board.sys_hz, baud, divisor) <= GOOD_ERROR:
            return baud
    return STANDARD_RATES[-1]
