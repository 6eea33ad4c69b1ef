"""Activation / requantization unit: the accumulator read-out path of ``store_act``.

Per element it computes exactly :func:`accel.golden.arith.activate`::

    y = saturate_out(relu?(round_shift(x * multiplier, shift)) + zero_point)

as a fully pipelined stream stage (one vector per cycle in steady state). The rounding shift
uses a single arithmetic barrel shifter on ``2 * p``: for ``shift >= 1`` the shifter yields
``t = p >> (shift - 1)``, for ``shift == 0`` it yields ``t = 2 * p`` whose bit 0 is zero, so
``round_shift(p, shift) == (t >> 1) + t[0]`` holds for every shift 0..63 without a special case.
"""

from __future__ import annotations

from amaranth.hdl import Module, Mux, Signal, signed, unsigned
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from accel.arch.microarch import ACTIVATION_LATENCY
from accel.config import INT_RANGES
from accel.hdl.checked import CheckedConstruction
from accel.isa.spec import BY_NAME

__all__ = ["ActivationParams", "LaneParams", "ActivationUnit"]


_CONFIG_ACT = BY_NAME["config_act"]
_MULTIPLIER_BITS = _CONFIG_ACT.field("multiplier").width
_ZERO_POINT_BITS = _CONFIG_ACT.field("zero_point").width

_SHIFT_BITS = _CONFIG_ACT.field("shift").width

#: Static configuration of the unit (the ``config_act`` registers, as wide as the instruction's
#: fields, and the mode: ``per_channel`` selects each lane's `LaneParams` over ``multiplier``
#: and ``shift``), sampled with every beat.
ActivationParams = data.StructLayout({
    "multiplier": unsigned(_MULTIPLIER_BITS),
    "shift": unsigned(_SHIFT_BITS),
    "relu": unsigned(1),
    "zero_point": signed(_ZERO_POINT_BITS),
    "per_channel": unsigned(1),
})

#: One lane's requantization in per-channel mode (the ``config_act_channels`` registers).
LaneParams = data.StructLayout({
    "multiplier": unsigned(_MULTIPLIER_BITS),
    "shift": unsigned(_SHIFT_BITS),
})


def _check_range(name: str, value: int, lo: int, hi: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi:
        raise ValueError(f"{name} must be between {lo} and {hi}, not {value!r}")


class ActivationUnit(CheckedConstruction, wiring.Component):
    """Requantize, ReLU, add zero point and saturate a vector of accumulator values per beat.

    For every lane ``n`` of every accepted vector, with the ``params`` and ``channels`` present
    on the cycle that vector was accepted (``i.valid & i.ready``), ``multiplier`` and ``shift``
    being ``channels[n].multiplier`` and ``channels[n].shift`` when ``params.per_channel`` is
    set and ``params.multiplier`` and ``params.shift`` otherwise::

        p = x * multiplier                                  (exact, acc_width + 32 bits)
        r = p if shift == 0 else (p >> shift) + ((p >> (shift - 1)) & 1)
                                                            (arithmetic shifts; round half up)
        r = max(r, 0) if relu else r
        y = clamp(r + zero_point, -2**(out_width-1), 2**(out_width-1) - 1)

    which is bit-exact with :func:`accel.golden.arith.activate` for every shift 0..63.

    Results leave on ``o`` in order, one output vector per input vector (no side band is
    carried: callers that need to tag beats count them). The pipeline has four register stages:
    input (``x`` and params), product, rounded shift, output. The latency from the cycle a
    vector is accepted on ``i`` to the cycle it is valid on ``o`` is therefore :attr:`LATENCY`
    (= 4) cycles with no back-pressure; throughput is one vector per cycle. Every stage holds
    its data while the next one is full and stalled, and empty stages (bubbles) are filled while
    the output is stalled, so ``i.ready`` is low only when all four stages are full and
    ``o.ready`` is low. ``o.valid`` comes from a register (it never depends on ``o.ready``) and
    ``o.payload`` is stable while ``o.valid & ~o.ready``. ``i.ready`` depends combinationally on
    ``o.ready`` (through the stage-full flags).

    Parameters
    ----------
    lanes : int
        Elements per vector (1..128).
    acc_width : int
        Bits of a signed accumulator element ``x`` (4..64).
    out_width : int
        Bits of a signed output element (2..32).

    Members
    -------
    params : In(ActivationParams)
        ``multiplier`` (unsigned 31), ``shift`` (unsigned 6, 0..63), ``relu`` (1 bit),
        ``zero_point`` (signed 16) and ``per_channel`` (1 bit). Held by the caller; sampled
        together with each beat of ``i``, so it may change from one accepted beat to the next.
    channels : In(data.ArrayLayout(LaneParams, lanes))
        Per-lane multiplier and shift, used when ``params.per_channel``; sampled like
        ``params``.
    i : In(stream.Signature(data.ArrayLayout(signed(acc_width), lanes)))
        Accumulator vectors.
    o : Out(stream.Signature(data.ArrayLayout(signed(out_width), lanes)))
        Activated vectors.

    Raises
    ------
    ValueError
        If ``lanes``, ``acc_width`` or ``out_width`` is not an integer in its range.
    """

    #: Cycles from acceptance on ``i`` to ``o.valid`` without back-pressure (the pipeline's
    #: four register stages; the cycle model reads the same `accel.arch` constant).
    LATENCY = ACTIVATION_LATENCY

    @classmethod
    def check_parameters(cls, *, lanes, acc_width, out_width) -> None:
        """Raise ``ValueError`` for a lane count or width out of range (before construction)."""
        _check_range("lanes", lanes, *INT_RANGES["cols"])
        _check_range("acc_width", acc_width, *INT_RANGES["acc_width"])
        _check_range("out_width", out_width, 2, 32)

    def __init__(self, *, lanes: int, acc_width: int, out_width: int) -> None:
        self.lanes = lanes
        self.acc_width = acc_width
        self.out_width = out_width
        super().__init__({
            "params": In(ActivationParams),
            "channels": In(data.ArrayLayout(LaneParams, lanes)),
            "i": In(stream.Signature(data.ArrayLayout(signed(acc_width), lanes))),
            "o": Out(stream.Signature(data.ArrayLayout(signed(out_width), lanes))),
        })

    def elaborate(self, platform) -> Module:
        m = Module()
        lanes = self.lanes
        # signed(acc_width) * unsigned(multiplier), exactly
        prod_width = self.acc_width + _MULTIPLIER_BITS + 1
        # A rounded value outside the signed (clamp_width + 1)-bit range saturates the output
        # whatever the zero point, so it is clamped to that range before the final add.
        clamp_width = max(self.out_width, _ZERO_POINT_BITS) + 1
        out_lo = -(1 << (self.out_width - 1))
        out_hi = (1 << (self.out_width - 1)) - 1

        # Stage flags and enables. A stage loads when it is empty or the next stage loads.
        valid = [Signal(name=f"s{k}_valid") for k in range(1, 4)] + [self.o.valid]
        load = [Signal(name=f"s{k}_load") for k in range(1, 5)]
        m.d.comb += load[3].eq(~valid[3] | self.o.ready)
        for k in (2, 1, 0):
            m.d.comb += load[k].eq(~valid[k] | load[k + 1])
        m.d.comb += self.i.ready.eq(load[0])
        upstream = [self.i.valid] + valid[:3]
        for k in range(4):
            with m.If(load[k]):
                m.d.sync += valid[k].eq(upstream[k])

        # Stage 1: input registers (value and the params sampled with it; each lane's
        # multiplier and shift resolved from the mode).
        x1 = [Signal(signed(self.acc_width), name=f"s1_x{n}") for n in range(lanes)]
        lane1 = [Signal(LaneParams, name=f"s1_lane{n}") for n in range(lanes)]
        p1 = Signal(ActivationParams, name="s1_params")
        with m.If(load[0]):
            m.d.sync += p1.eq(self.params)
            m.d.sync += [x1[n].eq(self.i.payload[n]) for n in range(lanes)]
            for n in range(lanes):
                with m.If(self.params.per_channel):
                    m.d.sync += lane1[n].eq(self.channels[n])
                with m.Else():
                    m.d.sync += [lane1[n].multiplier.eq(self.params.multiplier),
                                 lane1[n].shift.eq(self.params.shift)]

        # Stage 2: product.
        prod2 = [Signal(signed(prod_width), name=f"s2_prod{n}") for n in range(lanes)]
        shift2 = [Signal(unsigned(_SHIFT_BITS), name=f"s2_shift{n}") for n in range(lanes)]
        p2 = Signal(ActivationParams, name="s2_params")
        with m.If(load[1]):
            m.d.sync += p2.eq(p1)
            m.d.sync += [prod2[n].eq(x1[n] * lane1[n].multiplier) for n in range(lanes)]
            m.d.sync += [shift2[n].eq(lane1[n].shift) for n in range(lanes)]

        # Stage 3: rounding shift, one arithmetic shifter on 2 * p (see the module docstring).
        round3 = [Signal(signed(prod_width + 1), name=f"s3_round{n}") for n in range(lanes)]
        p3 = Signal(ActivationParams, name="s3_params")
        with m.If(load[2]):
            m.d.sync += p3.eq(p2)
        for n in range(lanes):
            t = Signal(signed(prod_width + 1), name=f"s3_t{n}")
            m.d.comb += t.eq((prod2[n] << 1) >> shift2[n])
            with m.If(load[2]):
                m.d.sync += round3[n].eq((t >> 1) + t[0])

        # Stage 4 (output register): clamp, ReLU, zero point, saturate.
        for n in range(lanes):
            r = round3[n]
            clamped = Signal(signed(clamp_width + 1), name=f"s4_clamped{n}")
            high = r[clamp_width:]              # bits above the clamp range, sign bit included
            fits = high.all() | ~high.any()
            m.d.comb += clamped.eq(Mux(fits, r[:clamp_width + 1].as_signed(),
                                       Mux(r[-1], -(1 << clamp_width), (1 << clamp_width) - 1)))
            y = Signal(signed(clamp_width + 2), name=f"s4_y{n}")
            m.d.comb += y.eq(Mux(p3.relu & clamped[-1], 0, clamped) + p3.zero_point)
            with m.If(load[3]):
                m.d.sync += self.o.payload[n].eq(
                    Mux(y > out_hi, out_hi, Mux(y < out_lo, out_lo, y)))
        return m
