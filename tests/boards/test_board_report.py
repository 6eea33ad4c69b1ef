"""boards.report: the fit check, nextpnr's report, the table."""

import json

import pytest

from boards import BOARDS, BoardError
from accel.build.fpga_tools import yosys_stat_cells
from boards.report import check_fits, place_and_route_figures, render_table

# The end of a Yosys log (synth_ecp5's statistics), as Yosys 0.70 prints it.
YOSYS_LOG = """
2.50. Printing statistics.

=== top ===

        +----------Local Count, excluding submodules.
        |
    15434 wires
    22947 cells
     4001   CCU2C
       12   DP16KD
       20   MULT18X18D
    30000   LUT4
     9000   TRELLIS_FF

End of script.
"""


def test_check_fits_counts_carry_cells_twice():
    needs = check_fits(BOARDS["ulx3s-85f"], yosys_stat_cells(YOSYS_LOG), "the SoC")
    assert needs == {"LUT": 30000 + 2 * 4001, "DSP": 20, "BRAM": 12}


@pytest.mark.parametrize("cells, resource", [
    ({"LUT4": 24000, "CCU2C": 200}, r"24,400 TRELLIS_COMB \(LUT\), the device has 24,288"),
    ({"MULT18X18D": 29}, r"29 MULT18X18D \(DSP\), the device has 28"),
    ({"DP16KD": 57}, r"57 DP16KD \(BRAM\), the device has 56"),
])
def test_check_fits_names_the_resource_that_overflows(cells, resource):
    with pytest.raises(BoardError, match="the SoC with a 4x4 array does not fit the ULX3S "
                                         rf".*LFE5U-25F.*: synthesis gives at least {resource}"):
        check_fits(BOARDS["ulx3s-25f"], cells, "the SoC with a 4x4 array")


def test_place_and_route_figures(tmp_path):
    report = {"utilization": {"ICESTORM_LC": {"available": 5280, "used": 4200},
                              "ICESTORM_DSP": {"available": 8, "used": 8},
                              "ICESTORM_RAM": {"available": 30, "used": 15},
                              "ICESTORM_SPRAM": {"available": 4, "used": 0}},
              "fmax": {"cd_sync.clk": {"achieved": 13.5, "constraint": 12.0},
                       "pll.clk": {"achieved": 20.0, "constraint": 24.0}}}
    (tmp_path / "report.json").write_text(json.dumps(report))
    figures = place_and_route_figures(BOARDS["icebreaker"], tmp_path / "report.json")
    assert figures["utilization"]["LUT"] == {"cell": "ICESTORM_LC", "used": 4200,
                                             "available": 5280, "percent": 79.5}
    assert figures["utilization"]["DSP"]["percent"] == 100.0
    assert figures["clocks"]["cd_sync.clk"] == {"achieved_mhz": 13.5, "target_mhz": 12.0,
                                                "met": True}
    assert figures["clocks"]["pll.clk"]["met"] is False

    table = render_table({
        "title": "iCEBreaker", "config": {"rows": 2, "cols": 2, "dataflow": "ws",
                                          "soc_sram_kib": 8},
        "clock": {"target_mhz": 12.0, "pll": False}, **figures, "multipliers": "8 of 8",
        "memory": {"firmware_bytes": 4000, "network_bytes": 3000, "image_bytes": 7800},
        "steps": [{"step": "synthesis", "seconds": 61.2}], "build_seconds": 70.0})
    assert "  LUT      ICESTORM_LC          4,200      5,280  79.5 %" in table
    assert "achieved 20.00 MHz, target 24.00 MHz: NOT MET" in table
    assert "build: 70 s (synthesis 61 s)" in table
