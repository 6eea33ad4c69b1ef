"""Clocking of the board tops: the ECP5 PLL and a power-on reset.

Neither FPGA family resets the design's flip-flops the way PicoRV32 needs (its ``resetn`` must be
asserted for a while after configuration): on ECP5 Amaranth's default ``sync`` domain has no
reset at all (the global set/reset only loads initial values), and on iCE40 block RAMs read
garbage for a few microseconds after configuration. `PowerOnReset` makes the reset of the
``sync`` domain: held for a fixed number of cycles after configuration and whenever the PLL has
not locked.
"""


from dataclasses import dataclass

from amaranth.hdl import Const, Elaboratable, Instance, Module, Signal
from amaranth.lib import wiring
from amaranth.lib.cdc import FFSynchronizer
from amaranth.lib.wiring import In, Out

from accel.hdl.checked import CheckedConstruction

__all__ = ["ECP5PLLParams", "ecp5_pll_params", "ECP5PLL", "PowerOnReset"]


@dataclass(frozen=True)
class ECP5PLLParams:
    """Dividers of an ECP5 ``EHXPLLL`` with ``CLKOP`` fed back:
    ``f_out = f_in * clkfb_div / clki_div``, VCO at ``f_out * clkop_div``."""

    clki_div: int
    clkfb_div: int
    clkop_div: int
    f_in: float
    f_out: float

    @property
    def f_vco(self) -> float:
        return self.f_out * self.clkop_div


def ecp5_pll_params(f_in: float, f_out: float) -> ECP5PLLParams:
    """The ``EHXPLLL`` dividers that give exactly ``f_out`` from ``f_in`` (Hz) within the
    device's limits (phase detector 3.125-400 MHz, VCO 400-800 MHz, output at most 400 MHz),
    with the VCO nearest 600 MHz.

    Raises
    ------
    ValueError
        When no divider setting gives ``f_out`` exactly.
    """
    best = None
    for clki_div in range(1, 129):
        f_pfd = f_in / clki_div
        if not 3.125e6 <= f_pfd <= 400e6:
            continue
        for clkfb_div in range(1, 81):
            out = f_pfd * clkfb_div
            if abs(out - f_out) > 1e-3 or out > 400e6:
                continue
            for clkop_div in range(1, 129):
                vco = out * clkop_div
                if 400e6 <= vco <= 800e6:
                    candidate = ECP5PLLParams(clki_div, clkfb_div, clkop_div, f_in, out)
                    if best is None or abs(vco - 600e6) < abs(best.f_vco - 600e6):
                        best = candidate
    if best is None:
        raise ValueError(f"no ECP5 PLL setting gives {f_out / 1e6:g} MHz from "
                         f"{f_in / 1e6:g} MHz")
    return best


class ECP5PLL(Elaboratable):
    """An ``EHXPLLL`` driving ``clk_out`` from ``clk_in`` (primary output, 0 degrees).

    Members
    -------
    clk_in : Signal, input
    clk_out : Signal, output
    locked : Signal, output
    """

    def __init__(self, params: ECP5PLLParams):
        self.params = params
        self.clk_in = Signal()
        self.clk_out = Signal()
        self.locked = Signal()

    def elaborate(self, platform):
        m = Module()
        p = self.params
        m.submodules.pll = Instance(
            "EHXPLLL",
            a_FREQUENCY_PIN_CLKI=f"{p.f_in / 1e6:g}",
            a_FREQUENCY_PIN_CLKOP=f"{p.f_out / 1e6:g}",
            a_ICP_CURRENT="12", a_LPF_RESISTOR="8", a_MFG_ENABLE_FILTEROPAMP="1",
            a_MFG_GMCREF_SEL="2",
            p_PLLRST_ENA="DISABLED", p_INTFB_WAKE="DISABLED", p_STDBY_ENABLE="DISABLED",
            p_DPHASE_SOURCE="DISABLED", p_OUTDIVIDER_MUXA="DIVA", p_FEEDBK_PATH="CLKOP",
            p_CLKI_DIV=p.clki_div, p_CLKFB_DIV=p.clkfb_div,
            p_CLKOP_ENABLE="ENABLED", p_CLKOP_DIV=p.clkop_div,
            # 0 degrees: the coarse phase is half the divider, rounded down, minus one step.
            p_CLKOP_CPHASE=(p.clkop_div - 1) // 2, p_CLKOP_FPHASE=0,
            i_CLKI=self.clk_in, i_CLKFB=self.clk_out, o_CLKOP=self.clk_out,
            i_RST=Const(0), i_STDBY=Const(0), i_PHASESEL0=Const(0), i_PHASESEL1=Const(0),
            i_PHASEDIR=Const(1), i_PHASESTEP=Const(1), i_PHASELOADREG=Const(1),
            i_PLLWAKESYNC=Const(0), i_ENCLKOP=Const(0),
            o_LOCK=self.locked,
        )
        return m


class PowerOnReset(CheckedConstruction, wiring.Component):
    """A reset held for ``cycles`` cycles after configuration and while ``ready`` is low (e.g.
    a PLL's lock), for a domain that needs one.

    The counter runs in ``domain``, which must be reset-less and clocked like the domain to
    reset: it starts from its initial value 0, which both families load at configuration.
    ``ready`` is synchronised to that clock first.

    Members
    -------
    ready : In(1)
    rst : Out(1)
        High until ``ready`` has been high for ``cycles`` cycles (after its two-stage
        synchroniser).
    """

    ready: In(1, init=1)
    rst: Out(1, init=1)

    @classmethod
    def check_parameters(cls, *, cycles: int = 1 << 12, domain: str = "por") -> None:
        """Raise ``ValueError`` for a count below 1 (before construction)."""
        if not isinstance(cycles, int) or isinstance(cycles, bool) or cycles < 1:
            raise ValueError(f"cycles must be at least 1, not {cycles!r}")

    def __init__(self, *, cycles: int = 1 << 12, domain: str = "por"):
        self.cycles = cycles
        self.domain = domain
        super().__init__()

    def elaborate(self, platform):
        m = Module()
        ready = Signal()
        m.submodules.ready_sync = FFSynchronizer(self.ready, ready, o_domain=self.domain)
        count = Signal(range(self.cycles + 1))
        with m.If(~ready):
            m.d[self.domain] += count.eq(0)
        with m.Elif(count != self.cycles):
            m.d[self.domain] += count.eq(count + 1)
        m.d.comb += self.rst.eq(count != self.cycles)
        return m
