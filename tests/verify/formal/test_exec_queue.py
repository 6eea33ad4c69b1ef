"""Formal: the execute unit's command queue (`accel.control.exec_unit._Queue`) passes every
command exactly once, in order, unchanged, holds at most its depth and offers what it holds.

Mode: BMC (bounded). The queue wraps ``amaranth.lib.fifo.SyncFIFOBuffered``, whose storage is
private: no invariant can tie a stored command to the witness, so k-induction cannot close (a
consumer stalling for k cycles keeps arbitrary, unobservable storage around). Unrolling costs
grow steeply with the bound — the solver must relate the witness to the FIFO's pointers
through every interleaving — so two runs split the work:

* the queue as the execute unit builds it (77-bit commands) to ``REAL_BMC_DEPTH`` cycles;
* the same queue with a 1-bit payload to ``NARROW_BMC_DEPTH`` cycles. The queue and the FIFO
  only move payload bits, never look at them, so each payload bit of the real queue is this
  1-bit datapath under the same control; one bit suffices for the witness (the solver gives the
  witness a different bit than its neighbours).

The covers show both bounds reach a full queue and the witness passing through it.
"""

import pytest
from amaranth.hdl import Assert, Cover, Elaboratable, Module, Value
from amaranth.lib import data

from accel.config import AccelConfig
from accel.control.exec_unit import _Queue
from accel.control.layouts import exec_command_layout
from accel.verify.formal import run_sby
from tests.support.formal import OrderWitness, bounded, drive_sink, drive_source, stream_rules

pytestmark = pytest.mark.formal

CONFIG = AccelConfig(rows=2, cols=2, sp_kib=1, acc_kib=1, sp_banks=1, acc_banks=1)
DEPTH = 4           # ExecUnit's default queue_depth
REAL_BMC_DEPTH = 8
NARROW_BMC_DEPTH = 12
#: A held command is offered on ``o`` within this many cycles of being accepted.
OFFER_WITHIN = 2


class QueueProperties(Elaboratable):
    """The queue with a free producer and consumer, a witness command and occupancy checks."""

    def __init__(self, queue, depth: int):
        self.queue = queue
        self.depth = depth

    def elaborate(self, platform):
        m = Module()
        m.submodules.queue = queue = self.queue
        drive_source(m, queue.i, name="i")
        drive_sink(m, queue.o)
        stream_rules(m, queue.o, Assert, name="o")

        witness = OrderWitness(m, item_width=len(Value.cast(queue.i.payload)),
                               capacity=self.depth)
        witness.enter(queue.i.valid & queue.i.ready, queue.i.payload)
        witness.leave(queue.o.valid & queue.o.ready, queue.o.payload)
        witness.cover_passage()

        held = witness.occupancy
        unoffered = bounded(m, (held != 0) & ~queue.o.valid, 3, name="unoffered")
        m.d.comb += [
            Assert(unoffered < OFFER_WITHIN, "a held command is offered within OFFER_WITHIN"),
            Assert(~queue.o.valid | (held != 0), "offers only commands it holds"),
            Cover(held == self.depth, "fills up"),
            Cover(witness.left & (witness.ahead == 0) & (held == self.depth),
                  "the witness passes and the queue is full again"),
        ]
        return m


class _LossyQueue(_Queue):
    """A broken queue: accepts a command even when full (and so loses it)."""

    def elaborate(self, platform):
        m = super().elaborate(platform)
        m.d.comb += self.i.ready.eq(1)
        return m


def _real(queue_class=_Queue):
    return QueueProperties(queue_class(exec_command_layout(CONFIG), DEPTH), DEPTH)


def _narrow():
    return QueueProperties(_Queue(data.StructLayout({"bit": 1}), DEPTH), DEPTH)


def test_queue_passes_each_command_once_in_order(tmp_path):
    result = run_sby(_real(), mode="bmc", depth=REAL_BMC_DEPTH, name="exec_queue",
                     workdir=tmp_path)
    assert result.passed, result.report()


def test_queue_datapath_deeper(tmp_path):
    result = run_sby(_narrow(), mode="bmc", depth=NARROW_BMC_DEPTH, name="exec_queue_narrow",
                     workdir=tmp_path)
    assert result.passed, result.report()


def test_queue_bounds_reach_a_full_queue(tmp_path):
    for name, design, depth in (("real", _real(), REAL_BMC_DEPTH),
                                ("narrow", _narrow(), NARROW_BMC_DEPTH)):
        result = run_sby(design, mode="cover", depth=depth, name=f"exec_queue_cover_{name}",
                         workdir=tmp_path)
        assert result.passed, result.report()


def test_lossy_queue_fails(tmp_path):
    result = run_sby(_real(_LossyQueue), mode="bmc", depth=REAL_BMC_DEPTH,
                     name="exec_queue_lossy", workdir=tmp_path)
    assert result.status == "FAIL", result.report()
    assert result.failures[0].trace.is_file(), result.report()
