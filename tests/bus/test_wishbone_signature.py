# amaranth: UnusedElaboratable=no
"""accel.bus.wishbone.Signature: members, directions, validation, equality."""

from __future__ import annotations

import pytest
from amaranth.hdl import Module
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from accel.bus import wishbone


def test_members_and_directions():
    sig = wishbone.Signature(addr_width=30, data_width=32)
    assert dict(sig.members) == {
        "cyc": Out(1), "stb": Out(1), "we": Out(1), "adr": Out(30), "dat_w": Out(32),
        "dat_r": In(32), "sel": Out(4), "ack": In(1), "err": In(1), "stall": In(1),
    }
    assert (sig.addr_width, sig.data_width, sig.granularity) == (30, 32, 8)
    assert sig.features == frozenset({"err", "stall"})


@pytest.mark.parametrize("data_width,granularity,sel", [(8, 8, 1), (64, 8, 8), (64, 16, 4),
                                                         (128, 128, 1)])
def test_sel_width(data_width, granularity, sel):
    sig = wishbone.Signature(addr_width=4, data_width=data_width, granularity=granularity)
    assert sig.members["sel"] == Out(sel)


def test_features_optional():
    sig = wishbone.Signature(addr_width=8, data_width=16, features=())
    assert "err" not in sig.members and "stall" not in sig.members
    sig = wishbone.Signature(addr_width=8, data_width=16, features={"stall"})
    assert "stall" in sig.members and "err" not in sig.members


def test_equality_and_hash():
    a = wishbone.Signature(addr_width=30, data_width=32)
    b = wishbone.Signature(addr_width=30, data_width=32, features=["stall", "err"])
    c = wishbone.Signature(addr_width=29, data_width=32)
    assert a == b and hash(a) == hash(b)
    assert a != c
    assert a.flip().flip() == a
    assert "addr_width=30" in repr(a)


def test_create_and_connect():
    sig = wishbone.Signature(addr_width=10, data_width=32)
    master = sig.create()
    slave = sig.flip().create()
    wiring.connect(Module(), master, slave)


@pytest.mark.parametrize("kwargs,message", [
    (dict(addr_width=-1, data_width=32), "addr_width must be a non-negative integer"),
    (dict(addr_width=8, data_width=24), "data_width must be one of"),
    (dict(addr_width=8, data_width=16, granularity=32), "granularity must be one of"),
    (dict(addr_width=8, data_width=16, features={"rty"}), "features must be a subset"),
])
def test_validation(kwargs, message):
    with pytest.raises(ValueError, match=message):
        wishbone.Signature(**kwargs)


def test_arbiter_validation():
    with pytest.raises(ValueError, match="n_masters must be a positive integer"):
        wishbone.Arbiter(n_masters=0, addr_width=8, data_width=32)
    with pytest.raises(ValueError, match="stall"):
        wishbone.Arbiter(n_masters=2, addr_width=8, data_width=32, features={"err"})
