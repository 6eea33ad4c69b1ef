"""boards.build: the iCEBreaker flow end to end (a bitstream with its report), the ULX3S-85F
default configuration, and the 85F design with a 16x16 array up to its netlist (placing and
routing takes far too long for CI: see boards/README.md for the figures of full builds)."""

import json
import re

import pytest

from accel.nn.model_file import load_default
from boards import BOARDS, BoardError
from boards.build import build_board, elaborate
from boards.image import plan_board_image
from boards.top import uart_divisor
from tests.support.riscv import require_toolchain

pytestmark = [pytest.mark.fpga, pytest.mark.soc, pytest.mark.slow]


def test_icebreaker_flow_gives_a_bitstream_that_meets_timing(tmp_path):
    """The whole flow on the iCE40 (YoWASP Yosys, nextpnr-ice40, icepack): the board top with
    the SoC without the accelerator (the UP5K cannot hold the accelerator; the top, clocking,
    pins and tool flow are the same)."""
    board = BOARDS["icebreaker"]
    lines = []
    report = build_board(board, board.default_config, tmp_path, with_accelerator=False,
                         progress=lines.append)
    assert [s["step"] for s in report["steps"]] == ["elaborate", "synthesis",
                                                    "place and route", "bitstream"]
    assert any(re.match(r"\[ *\d+\.\d s\] place and route done in", line) for line in lines)
    assert (tmp_path / "icebreaker.bin").stat().st_size > 100_000
    assert json.loads((tmp_path / "report.json").read_text()) == report
    lut = report["utilization"]["LUT"]
    assert lut["cell"] == "ICESTORM_LC" and lut["available"] == 5280 and 1000 < lut["used"] < 5280
    assert report["utilization"]["BRAM"]["used"] >= 8       # 4 KiB of SRAM at least
    (clock,) = report["clocks"].values()
    assert clock["target_mhz"] == 12.0 and clock["met"] and report["timing_met"]
    assert report["uart"] == {"baud": 3_000_000, "divisor": 4}   # the default: 3 Mbaud
    table = (tmp_path / "report.txt").read_text()
    assert "ICESTORM_LC" in table and ": met" in table


def test_ulx3s_85f_default_is_8x8_and_fits_its_memory(tmp_path):
    require_toolchain()
    board = BOARDS["ulx3s-85f"]
    planned = plan_board_image(board.default_config, load_default("cnn"), tmp_path,
                               max_sram_kib=board.max_sram_kib)
    config = planned.config
    assert (config.rows, config.cols) == (8, 8)
    assert config.soc_sram_kib <= board.max_sram_kib
    assert config.mem_addr_width == (config.soc_sram_kib * 1024 - 1).bit_length()
    assert len(planned.image) <= config.soc_sram_kib * 1024 - 1024


@pytest.fixture(scope="module")
def ulx3s_85f_netlist(tmp_path_factory):
    """The 85F top with a 16x16 array: more PE products than the device has multipliers
    (``accelgen board build --board ulx3s-85f --rows 16 --cols 16``)."""
    require_toolchain()
    board = BOARDS["ulx3s-85f"]
    out = tmp_path_factory.mktemp("ulx3s-85f")
    planned = plan_board_image(board.default_config.replace(rows=16, cols=16),
                               load_default("cnn"), out / "firmware",
                               max_sram_kib=board.max_sram_kib)
    multipliers = elaborate(board, planned.config, planned.image, out / "gateware")
    return board, planned, multipliers, out / "gateware"


def test_ulx3s_85f_16x16_fits_its_memory(ulx3s_85f_netlist):
    board, planned, _, _ = ulx3s_85f_netlist
    config = planned.config
    assert (config.rows, config.cols) == (16, 16)
    assert config.soc_sram_kib <= board.max_sram_kib
    assert len(planned.image) <= config.soc_sram_kib * 1024 - 1024


def test_ulx3s_85f_multipliers_fit_the_dsps(ulx3s_85f_netlist):
    board, _, multipliers, gateware = ulx3s_85f_netlist
    assert multipliers.dsps <= board.capacity.dsp[1] == 156
    # 256 PE products: those without a MULT18X18D are Booth multipliers in logic.
    products = [m for m, cost in multipliers.hard if cost] + list(multipliers.soft)
    pe = [m for m in products if m.module.endswith("array.mesh")]
    assert len(pe) == 256
    soft_pe = [m for m in multipliers.soft if m.module.endswith("array.mesh")]
    assert 0 < len(soft_pe) < 256
    script = (gateware / "multipliers.ys").read_text()
    assert script.count("/$") >= len(multipliers.soft) and "booth " in script


def test_ulx3s_85f_netlist_files(ulx3s_85f_netlist):
    board, planned, _, gateware = ulx3s_85f_netlist
    ys = (gateware / "top.ys").read_text()
    assert "read_verilog" in ys and "picorv32.v" in ys
    assert ys.index("read_rtlil top.il") < ys.index("script multipliers.ys") \
        < ys.index("synth_ecp5")
    il = (gateware / "top.il").read_text()
    assert "EHXPLLL" in il and "picorv32" in il
    lpf = (gateware / "top.lpf").read_text()
    sites = dict(re.findall(r'LOCATE COMP "(\w+)" SITE "(\w+)"', lpf))
    assert sites["clk25_0__io"] == "G2"
    assert sites["uart_0__tx__io"] == "L4" and sites["uart_0__rx__io"] == "M1"
    assert {sites[f"led_{i}__io"] for i in range(8)} == {"B2", "C2", "C1", "D2", "D1", "E2",
                                                        "E1", "H3"}
    commands = json.loads((gateware / "build_top.json").read_text())["commands"]
    assert [c[0] for c in commands] == ["yosys", "nextpnr-ecp5", "ecppack"]
    assert "--report" in commands[1] and "--85k" in commands[1]
    assert commands[1][commands[1].index("--router") + 1] == "router2"
    assert uart_divisor(board, 115_200) == 130            # 15 MHz / 115200
    assert uart_divisor(board) == 5                       # the default 3 Mbaud


def test_board_top_rejects_a_pll_it_cannot_make(tmp_path):
    from dataclasses import replace

    board = replace(BOARDS["icebreaker"], sys_hz=24_000_000)
    with pytest.raises(BoardError, match="no PLL support for the ice40 family"):
        build_board(board, board.default_config, tmp_path, with_accelerator=False,
                    progress=lambda line: None)
