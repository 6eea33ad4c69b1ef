"""Port signatures of the scratchpad and accumulator SRAMs, from the point of view of a user.

A unit (load, execute, store) holds these as ``Out(...)`` members; the memory holds them flipped
(``In(...)``). Reads have a fixed latency of one cycle: ``data`` is valid in the cycle after the
one in which ``en`` was high, and stays valid until the next read. Scratchpad writes happen in the
cycle ``en`` is high; accumulator writes are accepted with ``en & ready`` and land later (see
``busy``).
"""

from amaranth import signed, unsigned
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

__all__ = ["ReadPortSignature", "WritePortSignature", "AccWritePortSignature"]


class ReadPortSignature(wiring.Signature):
    """One synchronous read port.

    Members
    -------
    addr : Out(addr_width)
    en : Out(1)
    data : In(ArrayLayout(signed(elem_width), lanes))
        Row at ``addr``, one cycle after ``en``.
    """

    def __init__(self, *, addr_width: int, elem_width: int, lanes: int):
        super().__init__({
            "addr": Out(unsigned(addr_width)),
            "en": Out(1),
            "data": In(data.ArrayLayout(signed(elem_width), lanes)),
        })


class WritePortSignature(wiring.Signature):
    """One write port with a per-element write mask.

    Members
    -------
    addr : Out(addr_width)
    en : Out(1)
    data : Out(ArrayLayout(signed(elem_width), lanes))
    mask : Out(lanes)
        Element ``i`` of the row is written only when ``mask[i]``.
    """

    def __init__(self, *, addr_width: int, elem_width: int, lanes: int):
        super().__init__({
            "addr": Out(unsigned(addr_width)),
            "en": Out(1),
            "data": Out(data.ArrayLayout(signed(elem_width), lanes)),
            "mask": Out(lanes),
        })


class AccWritePortSignature(wiring.Signature):
    """The accumulator's write port: overwrite or add-on-write, per element under a mask.

    Members
    -------
    addr, en, data, mask :
        As `WritePortSignature`, except that a write happens in a cycle with ``en & ready``.
    ready : In(1)
        The memory accepts the write this cycle (several writers share one accumulator; a writer
        holds ``en`` and its payload until ``ready``). ``ready`` may depend on ``en``.
    accumulate : Out(1)
        Add ``data`` to the stored row (wrapping modulo ``2**elem_width``) instead of
        overwriting it.
    busy : In(1)
        High while any accepted write has not yet landed in the array. A write accepted in cycle
        t is visible to reads issued once ``busy`` has been low for one cycle after t. Back-to-back
        accumulating writes to the same row are always exact (the memory forwards or stalls
        internally; it never drops a write).
    """

    def __init__(self, *, addr_width: int, elem_width: int, lanes: int):
        super().__init__({
            "addr": Out(unsigned(addr_width)),
            "en": Out(1),
            "data": Out(data.ArrayLayout(signed(elem_width), lanes)),
            "mask": Out(lanes),
            "accumulate": Out(1),
            "ready": In(1),
            "busy": In(1),
        })
