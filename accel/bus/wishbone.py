"""Wishbone B4 bus signature and a round-robin arbiter.

The project cannot depend on amaranth-soc, so the Wishbone interface it needs lives here.

Protocol (Wishbone B4, *pipelined* mode)
----------------------------------------
All signals are sampled on the rising edge of the clock of the domain the port lives in.

* A **bus cycle** is the span during which the master holds ``cyc`` high. The master owns the
  interconnect (and keeps an :class:`Arbiter` grant) for as long as ``cyc`` is high.
* A **request** is issued on every cycle where ``cyc & stb & ~stall`` is true. ``we``, ``adr``,
  ``dat_w`` and ``sel`` describe the request in that cycle. While ``stb & stall`` is true the
  master holds the request unchanged; it never retracts a presented request.
* Every request receives exactly one **response**: a cycle where ``ack`` (success) or ``err``
  (bus error) is high. Responses come back **in request order**, one per cycle at most, no
  earlier than the cycle after the request is accepted, and may be delayed arbitrarily
  ("wait states"). ``dat_r`` is valid in a read's ``ack`` cycle.
* The master counts its outstanding requests (issued minus answered) and keeps ``cyc`` high
  until that count is zero. Dropping ``cyc`` with requests outstanding aborts them.
* ``adr`` is a **word** address (one word is ``data_width`` bits); ``sel`` has one bit per
  ``granularity`` bits of data and enables those lanes on writes (reads may ignore it).
"""

from __future__ import annotations

from amaranth.hdl import Module, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from accel.config import BUS_WIDTHS

__all__ = ["Signature", "Arbiter", "FEATURES"]

#: Optional Wishbone signals this project supports.
FEATURES = frozenset({"err", "stall"})


class Signature(wiring.Signature):
    """Wishbone B4 bus signature, seen from the master (initiator).

    Parameters
    ----------
    addr_width : int
        Width of ``adr`` (a word address), 0 or more.
    data_width : int
        Width of ``dat_w`` and ``dat_r``: 8, 16, 32, 64, 128 or 256.
    granularity : int
        Bits enabled by one ``sel`` bit: 8, 16, 32, 64, 128 or 256, at most ``data_width``.
    features : iterable of str
        Optional signals, a subset of ``{"err", "stall"}``. Without ``"stall"`` the bus is
        classic (one request per cycle until acknowledged); the DMA requires both.

    Members
    -------
    cyc : Out(1)
        Bus cycle in progress.
    stb : Out(1)
        A request is presented.
    we : Out(1)
        The request is a write.
    adr : Out(addr_width)
        Word address of the request.
    dat_w : Out(data_width)
        Write data.
    dat_r : In(data_width)
        Read data, valid with ``ack``.
    sel : Out(data_width // granularity)
        Lane enables (byte enables for ``granularity=8``).
    ack : In(1)
        Successful response to the oldest outstanding request.
    err : In(1)
        Error response to the oldest outstanding request (feature ``"err"``).
    stall : In(1)
        The slave cannot accept a request this cycle (feature ``"stall"``).

    Raises
    ------
    ValueError
        If a width is out of range, ``granularity`` exceeds ``data_width``, or a feature is unknown.
    """

    def __init__(self, *, addr_width: int, data_width: int, granularity: int = 8,
                 features=frozenset({"err", "stall"})) -> None:
        widths = BUS_WIDTHS
        if not isinstance(addr_width, int) or isinstance(addr_width, bool) or addr_width < 0:
            raise ValueError(f"addr_width must be a non-negative integer, not {addr_width!r}")
        if data_width not in widths:
            raise ValueError(f"data_width must be one of {', '.join(map(str, widths))}, "
                             f"not {data_width!r}")
        if granularity not in widths or granularity > data_width:
            raise ValueError(f"granularity must be one of {', '.join(map(str, widths))} and at "
                             f"most data_width ({data_width}), not {granularity!r}")
        features = frozenset(features)
        if not features <= FEATURES:
            raise ValueError(f"features must be a subset of {sorted(FEATURES)}, "
                             f"not {sorted(features)!r}")
        self._addr_width = addr_width
        self._data_width = data_width
        self._granularity = granularity
        self._features = features
        members = {
            "cyc": Out(1),
            "stb": Out(1),
            "we": Out(1),
            "adr": Out(addr_width),
            "dat_w": Out(data_width),
            "dat_r": In(data_width),
            "sel": Out(data_width // granularity),
            "ack": In(1),
        }
        if "err" in features:
            members["err"] = In(1)
        if "stall" in features:
            members["stall"] = In(1)
        super().__init__(members)

    @property
    def addr_width(self) -> int:
        return self._addr_width

    @property
    def data_width(self) -> int:
        return self._data_width

    @property
    def granularity(self) -> int:
        return self._granularity

    @property
    def features(self) -> frozenset:
        return self._features

    def __eq__(self, other):
        return (type(other) is type(self) and
                (self.addr_width, self.data_width, self.granularity, self.features) ==
                (other.addr_width, other.data_width, other.granularity, other.features))

    def __hash__(self):
        return hash((type(self), self.addr_width, self.data_width, self.granularity,
                     self.features))

    def __repr__(self):
        return (f"wishbone.Signature(addr_width={self.addr_width}, "
                f"data_width={self.data_width}, granularity={self.granularity}, "
                f"features={set(self.features) or set()})")


class Arbiter(wiring.Component):
    """Round-robin arbiter: ``n_masters`` Wishbone masters share one slave port.

    Arbitration happens at bus-cycle granularity: the granted master keeps the bus for as long
    as it holds ``cyc`` high. In the cycle where the granted master's ``cyc`` is low, the grant
    moves (on the next clock edge) to the next master, in round-robin order after the current
    one, that holds ``cyc`` high; so a switch costs one idle cycle. A master without the grant
    sees ``stall`` high (its requests wait) and never sees ``ack`` or ``err``.

    Parameters
    ----------
    n_masters : int
        Number of master ports, 1 or more.
    addr_width, data_width, granularity, features
        As for :class:`Signature`; shared by every port. ``features`` must include ``"stall"``.

    Members
    -------
    masters : In(Signature(...)).array(n_masters)
        Ports for the masters (this component is their slave).
    bus : Out(Signature(...))
        Port to the shared slave.
    grant : Out(range(n_masters))
        Index of the master that currently owns ``bus`` (for debugging and tests).

    Raises
    ------
    ValueError
        If ``n_masters`` is not a positive integer, or ``"stall"`` is not a feature.
    """

    def __init__(self, *, n_masters: int, addr_width: int, data_width: int,
                 granularity: int = 8, features=frozenset({"err", "stall"})) -> None:
        if not isinstance(n_masters, int) or isinstance(n_masters, bool) or n_masters < 1:
            raise ValueError(f"n_masters must be a positive integer, not {n_masters!r}")
        if "stall" not in frozenset(features):
            raise ValueError("Arbiter needs the 'stall' feature (pipelined mode)")
        self.n_masters = n_masters
        bus_sig = Signature(addr_width=addr_width, data_width=data_width,
                            granularity=granularity, features=features)
        super().__init__({
            "masters": In(bus_sig).array(n_masters),
            "bus": Out(bus_sig),
            "grant": Out(range(n_masters)),
        })

    def elaborate(self, platform):
        m = Module()
        n = self.n_masters
        features = self.bus.signature.features

        if n > 1:
            # Round-robin: when the owner is idle, pick the first requester after it.
            with m.If(~self.bus.cyc):
                with m.Switch(self.grant):
                    for current in range(n):
                        with m.Case(current):
                            # Later assignments win: iterate from the lowest priority.
                            for k in reversed(range(1, n + 1)):
                                candidate = (current + k) % n
                                with m.If(self.masters[candidate].cyc):
                                    m.d.sync += self.grant.eq(candidate)

        for index, master in enumerate(self.masters):
            granted = Signal(name=f"granted_{index}")
            m.d.comb += granted.eq(self.grant == index) if n > 1 else granted.eq(1)
            with m.If(granted):
                m.d.comb += [
                    self.bus.cyc.eq(master.cyc),
                    self.bus.stb.eq(master.stb),
                    self.bus.we.eq(master.we),
                    self.bus.adr.eq(master.adr),
                    self.bus.dat_w.eq(master.dat_w),
                    self.bus.sel.eq(master.sel),
                    master.stall.eq(self.bus.stall),
                ]
            with m.Else():
                m.d.comb += master.stall.eq(1)
            m.d.comb += [
                master.dat_r.eq(self.bus.dat_r),
                master.ack.eq(self.bus.ack & granted & master.cyc),
            ]
            if "err" in features:
                m.d.comb += master.err.eq(self.bus.err & granted & master.cyc)
        return m
