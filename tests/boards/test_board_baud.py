"""boards.baud: reachable UART rates, the default rate, one-line refusals."""

from dataclasses import replace

import pytest

from boards import BOARDS, BoardError
from boards.baud import MAX_BAUD, default_baud, divisor_for, uart_divisor


def test_ulx3s_defaults_to_3_mbaud_exactly():
    board = BOARDS["ulx3s-85f"]
    assert board.sys_hz == 15_000_000
    assert default_baud(board) == MAX_BAUD == 3_000_000
    assert uart_divisor(board) == 5 and uart_divisor(board, 115_200) == 130


@pytest.mark.parametrize("sys_hz, baud, divisor", [
    (20_000_000, 2_000_000, 10),          # 3 Mbaud would be 6.67 cycles a bit
    (12_000_000, 3_000_000, 4),
    (25_000_000, 1_000_000, 25),          # 3M, 2M and 1.5M miss by more than 0.5 %
    (1_000_000, 115_200, 9),              # nothing divides well: the 115200 fallback
])
def test_default_is_the_fastest_rate_the_clock_divides_well(sys_hz, baud, divisor):
    board = replace(BOARDS["ulx3s-85f"], sys_hz=sys_hz)
    assert default_baud(board) == baud
    if sys_hz != 1_000_000:
        assert uart_divisor(board) == divisor


@pytest.mark.parametrize("clock, baud, match", [
    (15_000_000, 2_900_000, r"2,900,000 baud is not reachable at 15 MHz: 5 cycles a bit give "
                            r"3,000,000 \(3.4 % off"),
    (10_000_000, 3_000_000, "fewer than 4 clock cycles a bit at 10 MHz; at most 2,500,000"),
    (15_000_000, 4_000_000, "above"),
    (15_000_000, 0, "positive"),
])
def test_impossible_rates_are_one_line_errors(clock, baud, match):
    with pytest.raises(BoardError, match=match) as info:
        divisor_for(clock, baud)
    assert "\n" not in str(info.value)


def test_the_build_refuses_an_impossible_rate_before_any_work(tmp_path):
    from accel.cli import main
    from click.testing import CliRunner

    result = CliRunner().invoke(main, ["board", "build", "--board", "ulx3s-85f", "--baud",
                                       "2900000", "--out", str(tmp_path / "b")])
    assert result.exit_code == 2
    assert "not reachable at 15 MHz" in result.output
    assert not (tmp_path / "b" / "report.json").exists()
