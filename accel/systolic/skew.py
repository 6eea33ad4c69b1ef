"""Per-lane delay lines: the input skew and the output de-skew of a systolic array."""

from __future__ import annotations

from collections.abc import Sequence

from amaranth.hdl import Cat, Module, Shape, ShapeCastable, Signal, Value
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from accel.hdl.checked import CheckedConstruction

__all__ = ["Skew", "skew_delays", "deskew_delays"]


def skew_delays(lanes: int, *, extra: int = 0) -> tuple[int, ...]:
    """Delays of an input skew: lane ``i`` is delayed ``i + extra`` cycles."""
    return tuple(i + extra for i in range(lanes))


def deskew_delays(lanes: int, *, extra: int = 0) -> tuple[int, ...]:
    """Delays of an output de-skew: lane ``i`` is delayed ``lanes - 1 - i + extra`` cycles."""
    return tuple(lanes - 1 - i + extra for i in range(lanes))


class Skew(CheckedConstruction, wiring.Component):
    """A bank of per-lane delay lines (shift registers in the ``sync`` domain).

    Each lane is one shift register of ``delay * width`` bits, so elaboration creates one signal
    per lane whatever the delay. The block has no enable of its own: wrap it in
    :class:`amaranth.hdl.EnableInserter` to stall it.

    Parameters
    ----------
    shape : shape-castable
        Shape of one lane element (e.g. ``signed(8)`` or a :class:`~amaranth.lib.data.Layout`).
    delays : sequence of int
        Delay in cycles of each lane (``>= 0``; a delay of 0 is a wire). Use :func:`skew_delays`
        or :func:`deskew_delays`.

    Members
    -------
    i : In(ArrayLayout(shape, len(delays)))
        Lane inputs.
    o : Out(ArrayLayout(shape, len(delays)))
        Lane outputs; ``o[k]`` is ``i[k]`` as it was ``delays[k]`` cycles ago (initially zero).

    Raises
    ------
    ValueError
        If ``delays`` is not a sequence, is empty, or holds a negative or non-integer delay.
    """

    @classmethod
    def check_parameters(cls, *, shape, delays) -> None:
        """Raise ``ValueError`` for bad ``delays`` (before construction)."""
        if not isinstance(delays, Sequence):    # checked here, so it must survive iteration
            raise ValueError(f"delays must be a sequence of integers, not {delays!r}")
        if not delays:
            raise ValueError(f"delays must hold at least one lane, not {delays!r}")
        for delay in delays:
            if not isinstance(delay, int) or isinstance(delay, bool) or delay < 0:
                raise ValueError(f"delays must be non-negative integers, not {delay!r}")

    def __init__(self, *, shape: ShapeCastable, delays: Sequence[int]) -> None:
        delays = tuple(delays)
        self._shape = shape
        self._delays = delays
        layout = data.ArrayLayout(shape, len(delays))
        super().__init__({"i": In(layout), "o": Out(layout)})

    @property
    def delays(self) -> tuple[int, ...]:
        return self._delays

    def elaborate(self, platform) -> Module:
        m = Module()
        width = Shape.cast(self._shape).width
        for lane, delay in enumerate(self._delays):
            x = Value.cast(self.i[lane])
            if delay == 0:
                m.d.comb += self.o[lane].eq(x)
                continue
            # Newest element in the top `width` bits; the oldest leaves from the bottom.
            line = Signal(delay * width, name=f"lane{lane}")
            if delay == 1:
                m.d.sync += line.eq(x)
            else:
                m.d.sync += line.eq(Cat(line[width:], x))
            m.d.comb += self.o[lane].eq(line[:width])
        return m
