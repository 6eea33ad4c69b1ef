"""`CheckedConstruction`: bad parameters raise before an Elaboratable exists, so Amaranth never
warns about a component its caller never got — for every constructor of the design that checks
its parameters, with no private Amaranth API.

Amaranth's "created but never used" warning is off until the first elaboration of the process;
each test elaborates something first, and a control case (a component that raises in ``__init__``)
shows that the warning would be caught here.
"""

from __future__ import annotations

import dataclasses
import gc
import sys
import warnings
from pathlib import Path

import pytest
from amaranth.hdl import Fragment, Module, UnusedElaboratable, signed
from amaranth.lib import wiring
from amaranth.lib.wiring import In

from accel.config import AccelConfig
from accel.control.activation import ActivationUnit
from accel.hdl.checked import CheckedConstruction
from accel.memory.accumulator import Accumulator
from accel.memory.scratchpad import Scratchpad
from accel.systolic import Mesh, OutputStationaryPE, Skew, SystolicArray, WeightStationaryPE
from boards import ICEBREAKER
from boards.clocking import PowerOnReset
from boards.top import BoardTop


class _Probe(wiring.Component):
    """A component that checks ``width`` in ``check_parameters`` (``checked``) or, the way to
    avoid, in ``__init__`` after Amaranth has registered it."""

    def __init__(self, width: int):
        if width < 1:
            raise ValueError(f"width must be at least 1, not {width}")
        super().__init__({"a": In(width)})

    def elaborate(self, platform):
        return Module()


class _CheckedProbe(CheckedConstruction, _Probe):
    @classmethod
    def check_parameters(cls, width: int) -> None:
        if width < 1:
            raise ValueError(f"width must be at least 1, not {width}")


def _unused_warnings(construct, message: str) -> list[warnings.WarningMessage]:
    """Run ``construct`` (which must raise ValueError matching ``message``) after an
    elaboration, collect garbage, and return the UnusedElaboratable warnings it left."""
    Fragment.get(_Probe(1), None)   # warnings about unused elaboratables are on from here
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(ValueError, match=message):
            construct()
        gc.collect()
    return [w for w in caught if issubclass(w.category, UnusedElaboratable)]


def test_raising_in_init_leaves_a_warning():
    """The control case: the check below can see the warning this module is about."""
    left = _unused_warnings(lambda: _Probe(0), "width must be at least 1, not 0")
    assert [str(w.message) for w in left] != []
    assert "created but never used" in str(left[0].message)


def test_checked_construction_leaves_nothing():
    assert _unused_warnings(lambda: _CheckedProbe(0), "width must be at least 1, not 0") == []


def test_checked_construction_builds_with_good_parameters():
    probe = _CheckedProbe(3)
    assert isinstance(probe, _Probe) and probe.signature.members.keys() == {"a"}
    Fragment.get(probe, None)


def test_unused_checked_component_still_warns_at_its_creator():
    """A good component never elaborated is reported as before, at the line that created it
    (not inside `CheckedConstruction.__new__`)."""
    Fragment.get(_Probe(1), None)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        probe = _CheckedProbe(2); line = _line()  # noqa: E702 (same line: the creation's)
        del probe
        gc.collect()
    unused = [w for w in caught if issubclass(w.category, UnusedElaboratable)]
    assert len(unused) == 1
    assert unused[0].filename == __file__ and unused[0].lineno == line


def _line() -> int:
    """The caller's line number."""
    return sys._getframe(1).f_lineno


_BAD_BOARD = dataclasses.replace(ICEBREAKER, sys_hz=2 * ICEBREAKER.clock_hz)
_MEMORY = dict(depth=16, lanes=4, elem_width=8, banks=4, read_ports=1, write_ports=1)

#: Every constructor of the design that rejects parameters: id -> (call, error message).
CASES = {
    "Mesh": (lambda: Mesh(rows=0, cols=2, dataflow="ws", input_width=8, acc_width=32),
             "rows must be an integer between 1 and 128, not 0"),
    "SystolicArray": (lambda: SystolicArray(rows=2, cols=2, dataflow="xs"),
                      "dataflow must be one of ws, os, not 'xs'"),
    "WeightStationaryPE": (lambda: WeightStationaryPE(input_width=1, acc_width=32),
                           "input_width must be an integer between 2 and 16, not 1"),
    "OutputStationaryPE": (lambda: OutputStationaryPE(input_width=8, acc_width=3),
                           "acc_width must be an integer between 4 and 64, not 3"),
    "Skew-empty": (lambda: Skew(shape=signed(4), delays=()), "at least one lane"),
    "Skew-negative": (lambda: Skew(shape=signed(4), delays=(1, -1)), "non-negative"),
    "Skew-iterator": (lambda: Skew(shape=signed(4), delays=iter((1, 2))),
                      "delays must be a sequence of integers"),
    "ActivationUnit": (lambda: ActivationUnit(lanes=0, acc_width=32, out_width=8),
                       "lanes must be between 1 and 128, not 0"),
    "Scratchpad": (lambda: Scratchpad(**_MEMORY | dict(depth=10)),
                   "depth must be a multiple of banks=4, not 10"),
    "Accumulator": (lambda: Accumulator(**_MEMORY | dict(read_ports=0)),
                    "read_ports must be an integer of at least 1, not 0"),
    "BoardTop": (lambda: BoardTop(_BAD_BOARD, AccelConfig(rows=2, cols=2), b""),
                 "no PLL support for the ice40 family"),
    "PowerOnReset": (lambda: PowerOnReset(cycles=0), "cycles must be at least 1, not 0"),
}


@pytest.mark.parametrize("case", CASES)
def test_bad_parameters_raise_and_leave_nothing(case):
    construct, message = CASES[case]
    assert _unused_warnings(construct, message) == []


def test_checked_components_still_build():
    """The checks moved out of ``__init__``; good parameters still give working components."""
    parts = [Mesh(rows=2, cols=3, dataflow="os", input_width=8, acc_width=32),
             SystolicArray(rows=2, cols=2, dataflow="ws"),
             WeightStationaryPE(input_width=8, acc_width=32),
             OutputStationaryPE(input_width=8, acc_width=32),
             Skew(shape=signed(4), delays=[0, 2]),
             ActivationUnit(lanes=2, acc_width=32, out_width=8),
             Scratchpad(**_MEMORY), Accumulator(**_MEMORY),
             PowerOnReset(cycles=3)]
    assert parts[4].o.shape().length == 2
    for part in parts:
        Fragment.get(part, None)


def test_no_private_amaranth_switches():
    """Nothing flips Amaranth's private ``MustUse`` attributes any more."""
    repo = Path(__file__).resolve().parents[2]
    private = "_MustUse" + "__"
    offenders = [str(path.relative_to(repo)) for folder in ("accel", "boards", "sim", "tests")
                 for path in sorted((repo / folder).rglob("*.py"))
                 if private in path.read_text(encoding="utf-8")]
    assert offenders == []
