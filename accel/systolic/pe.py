"""Processing elements (PEs): one multiply-accumulate cell of the systolic mesh per dataflow.

Both PEs register their streaming inputs once and multiply the *registered* operands
(``a * w`` or ``a * b``), so every multiplier sits between two flip-flop stages and Yosys maps
it to one hard multiplier. Neither PE has an enable port: the array stalls the whole mesh with
:class:`amaranth.hdl.EnableInserter`.
"""

from __future__ import annotations

from amaranth.hdl import Module, Mux, Signal, signed
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from accel.config import INT_RANGES
from accel.hdl.checked import CheckedConstruction

__all__ = [
    "WeightStationaryPE", "OutputStationaryPE", "check_widths", "ws_pe_logic", "os_pe_logic",
]


def check_widths(input_width: int, acc_width: int) -> None:
    """Validate the element widths shared by every systolic block.

    Raises
    ------
    ValueError
        If ``input_width`` or ``acc_width`` is not an integer in its `accel.config.INT_RANGES`
        range (2..16 and 4..64).
    """
    for name, value in (("input_width", input_width), ("acc_width", acc_width)):
        lo, hi = INT_RANGES[name]
        if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi:
            raise ValueError(f"{name} must be an integer between {lo} and {hi}, not {value!r}")


# The PE behaviour lives in these two functions so that the mesh can emit a flat grid (one
# module, no per-PE ports: several times faster to elaborate and convert at 64x64) while the
# PE components below stay the documented, separately testable unit. The mesh makes the pure
# datapath registers (a_out, b_out, psum_out, w_out) reset-less; the components cannot (ports).

def ws_pe_logic(m: Module, *, a_in, sw_in, psum_in, w_in, w_shift, a_out, sw_out, psum_out,
                w_out, weight) -> None:
    """Emit one weight-stationary PE into ``m`` (see :class:`WeightStationaryPE`).

    ``a_out``, ``sw_out``, ``psum_out``, ``w_out`` and ``weight`` are the PE's registers.
    """
    m.d.sync += [
        a_out.eq(a_in),
        sw_out.eq(sw_in),
        psum_out.eq(psum_in + a_out * weight),
    ]
    with m.If(sw_in):
        m.d.sync += weight.eq(w_out)
    with m.If(w_shift):
        m.d.sync += w_out.eq(w_in)


def os_pe_logic(m: Module, *, a_in, last_in, b_in, a_out, last_out, b_out, result,
                result_valid) -> None:
    """Emit one output-stationary PE into ``m`` (see :class:`OutputStationaryPE`).

    ``a_out``, ``last_out``, ``b_out``, ``result`` and ``result_valid`` are the PE's registers.
    """
    base = Mux(result_valid, 0, result)
    m.d.sync += [
        a_out.eq(a_in),
        b_out.eq(b_in),
        last_out.eq(last_in),
        result.eq(base + a_out * b_out),
        result_valid.eq(last_out),
    ]



class _PE(CheckedConstruction, wiring.Component):
    """What both PEs share: validated widths, then the given port members."""

    @classmethod
    def check_parameters(cls, *, input_width, acc_width) -> None:
        """Raise ``ValueError`` for a width out of range (before construction)."""
        check_widths(input_width, acc_width)

    def __init__(self, input_width: int, acc_width: int, members: dict) -> None:
        self.input_width = input_width
        self.acc_width = acc_width
        super().__init__(members)


class WeightStationaryPE(_PE):
    """Weight-stationary PE: holds one weight, passes activations right and sums down.

    Every cycle: ``a_out <= a_in``, ``sw_out <= sw_in``, and
    ``psum_out <= psum_in + a_out * weight`` (wrapping to ``acc_width``), where ``a_out`` is the
    activation registered on the previous cycle. When ``sw_in`` is high, ``weight <= shadow`` on
    the same edge that registers the activation, so that activation (and every later one) is
    multiplied with the new weight. When ``w_shift`` is high, ``shadow <= w_in``.

    Parameters
    ----------
    input_width : int
        Bits of a signed activation or weight (2..16).
    acc_width : int
        Bits of a signed partial sum (4..64).

    Members
    -------
    a_in : In(signed(input_width))
        Activation from the left neighbour (or the input skew).
    sw_in : In(1)
        "Switch to the shadow weight" flag travelling with ``a_in``.
    psum_in : In(signed(acc_width))
        Partial sum from the PE above (zero for the top row).
    w_in : In(signed(input_width))
        Shadow weight from the PE below (or the ``b`` port for the bottom row).
    w_shift : In(1)
        Shift enable of the shadow-weight chain.
    a_out, sw_out : Out
        Registered ``a_in`` and ``sw_in``, for the right neighbour.
    psum_out : Out(signed(acc_width))
        Registered partial sum, for the PE below.
    w_out : Out(signed(input_width))
        The shadow weight, for the PE above.

    Raises
    ------
    ValueError
        If a width is out of range.
    """

    def __init__(self, *, input_width: int, acc_width: int) -> None:
        super().__init__(input_width, acc_width, {
            "a_in": In(signed(input_width)),
            "sw_in": In(1),
            "psum_in": In(signed(acc_width)),
            "w_in": In(signed(input_width)),
            "w_shift": In(1),
            "a_out": Out(signed(input_width)),
            "sw_out": Out(1),
            "psum_out": Out(signed(acc_width)),
            "w_out": Out(signed(input_width)),
        })

    def elaborate(self, platform) -> Module:
        m = Module()
        weight = Signal(signed(self.input_width))
        ws_pe_logic(m, a_in=self.a_in, sw_in=self.sw_in, psum_in=self.psum_in, w_in=self.w_in,
                    w_shift=self.w_shift, a_out=self.a_out, sw_out=self.sw_out,
                    psum_out=self.psum_out, w_out=self.w_out, weight=weight)
        return m


class OutputStationaryPE(_PE):
    """Output-stationary PE: passes ``a`` right and ``b`` down and accumulates ``a * b``.

    Every cycle: ``a_out <= a_in``, ``b_out <= b_in``, ``last_out <= last_in``, and
    ``acc <= (result_valid ? 0 : acc) + a_out * b_out`` (wrapping to ``acc_width``), then
    ``result_valid <= last_out``. So the cycle after the registered operands carried ``last``,
    ``result`` holds the finished sum for exactly one cycle (``result_valid`` high) while the
    accumulator already restarts from zero with the next reduction's first product. Bubbles must
    enter with ``a_in == 0`` (they then add nothing).

    Parameters
    ----------
    input_width : int
        Bits of a signed ``a`` or ``b`` element (2..16).
    acc_width : int
        Bits of the signed accumulator (4..64).

    Members
    -------
    a_in, last_in : In
        Element of ``A`` (and the end-of-reduction flag) from the left neighbour or the skew.
    b_in : In(signed(input_width))
        Element of ``B`` from the PE above or the skew.
    a_out, last_out, b_out : Out
        Registered inputs, for the right neighbour (``a``, ``last``) and the PE below (``b``).
    result : Out(signed(acc_width))
        The accumulator.
    result_valid : Out(1)
        High for one cycle when ``result`` is a finished sum.

    Raises
    ------
    ValueError
        If a width is out of range.
    """

    def __init__(self, *, input_width: int, acc_width: int) -> None:
        super().__init__(input_width, acc_width, {
            "a_in": In(signed(input_width)),
            "last_in": In(1),
            "b_in": In(signed(input_width)),
            "a_out": Out(signed(input_width)),
            "last_out": Out(1),
            "b_out": Out(signed(input_width)),
            "result": Out(signed(acc_width)),
            "result_valid": Out(1),
        })

    def elaborate(self, platform) -> Module:
        m = Module()
        os_pe_logic(m, a_in=self.a_in, last_in=self.last_in, b_in=self.b_in, a_out=self.a_out,
                    last_out=self.last_out, b_out=self.b_out, result=self.result,
                    result_valid=self.result_valid)
        return m
