"""Building blocks of formal property wrappers (checked with :func:`accel.verify.formal.run_sby`).

Each helper adds logic and property statements to a wrapper's ``Module``:

* :func:`past` — the value a signal had in the previous cycle;
* :func:`drive_source` / :func:`drive_sink` — free stimulus for a block's input stream (any
  payload, any ``valid``, assumed to follow the stream rules) or its output stream (any
  ``ready``);
* :func:`stream_rules` — the `amaranth.lib.stream` producer rules the project's ports promise
  (``valid`` held until the transfer, payload unchanged meanwhile), as assumptions on inputs or
  assertions on outputs;
* :class:`OrderWitness` — one item, chosen by the solver (which one and its value), tracked
  from the input to the output of a block that must pass every item exactly once, in order,
  unchanged;
* :func:`bounded` — a counter of consecutive cycles a condition holds.
"""

from __future__ import annotations

from amaranth.asserts import AnyConst, AnySeq
from amaranth.hdl import Assert, Assume, Cover, Signal, Value

__all__ = ["past", "drive_source", "drive_sink", "stream_rules", "OrderWitness", "bounded"]


def past(m, value, *, name: str = "past") -> Signal:
    """A register holding ``value`` as it was in the previous cycle (its ``init`` before that)."""
    value = Value.cast(value)
    register = Signal(value.shape(), name=name)
    m.d.sync += register.eq(value)
    return register


def stream_rules(m, port, check, *, name: str) -> None:
    """``check`` (``Assume`` or ``Assert``) the producer's rules on ``port``.

    After a cycle with ``valid & ~ready``, ``valid`` is still high and ``payload`` unchanged.
    """
    stalled = past(m, port.valid & ~port.ready, name=f"{name}_stalled")
    last_payload = past(m, port.payload, name=f"{name}_last_payload")
    with m.If(stalled):
        m.d.comb += [
            check(port.valid, f"{name}: valid held until ready"),
            check(Value.cast(port.payload) == last_payload,
                  f"{name}: payload stable until ready"),
        ]


def drive_source(m, port, *, name: str) -> None:
    """Drive a block's input stream with any beats that follow the stream rules."""
    m.d.comb += [port.valid.eq(AnySeq(1)),
                 Value.cast(port.payload).eq(AnySeq(len(Value.cast(port.payload))))]
    stream_rules(m, port, Assume, name=name)


def drive_sink(m, port) -> None:
    """Take a block's output stream with any ``ready`` pattern."""
    m.d.comb += port.ready.eq(AnySeq(1))


def bounded(m, condition, width: int, *, name: str) -> Signal:
    """Consecutive cycles (saturating at ``2**width - 1``) in which ``condition`` held before
    this cycle: 0 in a cycle after one where it was false."""
    count = Signal(width, name=name)
    with m.If(~condition):
        m.d.sync += count.eq(0)
    with m.Elif(count != (1 << width) - 1):
        m.d.sync += count.eq(count + 1)
    return count


class OrderWitness:
    """Track one item, chosen by the solver, through a block that must pass every item exactly
    once, in order, unchanged: the witness must be the output that follows exactly the items
    that were inside the block when it entered.

    The solver picks which input transfer is the witness (a free bit, sampled until one is
    picked) and its value (a free constant). Because any item may be the witness, a block that
    drops, duplicates, reorders or changes an item fails: for some choice, the output in the
    witness's place differs. Only small counters are kept (``occupancy``, ``ahead``), so the
    state stays bounded however long the trace.

    Parameters
    ----------
    capacity : int
        Most items the block may hold; asserted.
    passthrough : bool
        Whether an item may leave in the cycle it enters (a combinational path).

    Attributes
    ----------
    occupancy : Signal
        Items inside the block (in minus out; registered).
    inside, left : Signal
        The witness is inside / has come out (registered).
    """

    def __init__(self, m, *, item_width: int, capacity: int, passthrough: bool = False,
                 name: str = "witness"):
        self._m = m
        self._name = name
        self._passthrough = passthrough
        self.value = AnyConst(item_width)
        self.occupancy = Signal(range(capacity + 2), name=f"{name}_occupancy")
        self.inside = Signal(name=f"{name}_inside")
        self.left = Signal(name=f"{name}_left")
        self.ahead = Signal(range(capacity + 1), name=f"{name}_ahead")
        self._in = Signal(name=f"{name}_in_transfer")
        self._out = Signal(name=f"{name}_out_transfer")
        self._entering = Signal(name=f"{name}_entering")
        m.d.comb += Assert(self.occupancy <= capacity, f"{name}: holds at most {capacity} items")
        m.d.sync += self.occupancy.eq(self.occupancy + self._in - self._out)

    def enter(self, transfer, payload) -> Value:
        """Declare the input transfers; returns "the witness enters now"."""
        m = self._m
        choose = AnySeq(1)
        m.d.comb += [
            self._in.eq(transfer),
            self._entering.eq(transfer & choose & ~self.inside & ~self.left),
        ]
        with m.If(self._entering):
            m.d.comb += Assume(Value.cast(payload) == self.value)
        return self._entering

    def leave(self, transfer, payload) -> Value:
        """Declare the output transfers; returns "the witness leaves now"."""
        m, name = self._m, self._name
        m.d.comb += self._out.eq(transfer)
        if self._passthrough:
            m.d.comb += Assert(~transfer | (self.occupancy != 0) | self._in,
                               f"{name}: an item out for every item in")
        else:
            m.d.comb += Assert(~transfer | (self.occupancy != 0),
                               f"{name}: an item out for every item in")
        leaving = Signal(name=f"{name}_leaving")
        ahead_now = Signal.like(self.ahead, name=f"{name}_ahead_now")
        with m.If(self._entering):
            m.d.comb += ahead_now.eq(self.occupancy)
        with m.Else():
            m.d.comb += ahead_now.eq(self.ahead)
        entered = self.inside | (self._entering if self._passthrough else 0)
        m.d.comb += leaving.eq(transfer & entered & (ahead_now == 0))
        with m.If(self._entering):
            m.d.sync += [self.inside.eq(1), self.ahead.eq(ahead_now - transfer)]
        with m.Elif(self.inside & transfer & (self.ahead != 0)):
            m.d.sync += self.ahead.eq(self.ahead - 1)
        with m.If(leaving):
            m.d.comb += Assert(Value.cast(payload) == self.value,
                               f"{name}: the item in the witness's place is the witness")
            m.d.sync += [self.inside.eq(0), self.left.eq(1)]
        return leaving

    def cover_passage(self) -> None:
        """Cover: the witness came out (the check above is not vacuous)."""
        self._m.d.comb += Cover(self.left, f"{self._name} passes through")
