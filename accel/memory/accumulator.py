"""The accumulator: a banked SRAM that overwrites or adds on write, one write per cycle.

Rows are interleaved across banks by the low address bits, as in the scratchpad. Writes go
through a two-stage read-modify-write pipeline with a forwarding register, so that back-to-back
accumulating writes to the same row run at full rate.
"""

from amaranth.hdl import Module, Mux, Signal, signed, unsigned
from amaranth.lib import data
from amaranth.lib.memory import Memory

from accel.memory.banked import BankedMemory, bank_of, row_of
from accel.memory.ports import AccWritePortSignature

__all__ = ["Accumulator"]


class Accumulator(BankedMemory):
    """Banked accumulator SRAM: ``read_ports`` read ports and ``write_ports`` arbitrated
    overwrite-or-accumulate write ports.

    Addressing: row ``a`` (``0 <= a < depth``) is stored in bank ``a % banks`` at bank row
    ``a // banks`` (low-bit interleaving). Writes to addresses ``>= depth`` (possible when
    ``depth`` is not a power of two) are accepted and dropped; reads of them return an
    unspecified value.

    Writes. In each cycle at most one write is accepted: ``write{j}.ready`` is high when no port
    of lower index has ``en`` high (fixed priority, lower index first; ``ready`` depends
    combinationally on the ``en`` of lower-indexed ports only, never on the port's own ``en``).
    A write is accepted in a cycle with ``en & ready``; a writer holds ``en`` and its payload
    until then. A port that keeps ``en`` high continuously starves every higher-indexed port.
    An accepted write sets every element ``k`` with ``mask[k]`` to ``data[k]``
    (``accumulate=0``) or to ``stored[k] + data[k]`` wrapped modulo ``2**elem_width``
    (``accumulate=1``); other elements are unchanged. Accepted writes take effect in acceptance
    order, exactly as if executed one at a time: the memory sustains one accepted write per
    cycle in any pattern, including back-to-back accumulating writes to the same row (the sum
    in flight is forwarded, never re-read stale). It never stalls: a lone writer is always
    ready.

    Timing. A write accepted in cycle ``t`` lands at the end of cycle ``t + 1``: it is visible
    to reads issued in cycle ``t + 2`` or later. A read issued in cycle ``t + 1`` of the same row
    returns the row as it was before that write (reads are not transparent). ``busy`` is
    registered: it is high in cycle ``t + 1`` for a write accepted in cycle ``t`` (so it is low in
    the acceptance cycle itself) and low in any cycle in which no accepted write is still in
    flight; a read issued in a cycle with ``busy`` low sees every write accepted before that
    cycle. All write ports share the one ``busy`` signal.

    Reads have a latency of one cycle: ``read{i}.data`` holds the row at ``read{i}.addr`` from
    the cycle after ``read{i}.en`` was high and stays unchanged until the cycle after the next
    ``en``. Every read port may read any address in every cycle.

    Parameters
    ----------
    depth : int
        Rows; a multiple of ``banks``.
    lanes : int
        Elements per row.
    elem_width : int
        Bits of one signed element; sums wrap modulo ``2**elem_width``.
    banks : int
        Number of banks, a power of two.
    read_ports : int
        Number of user read ports (at least 1).
    write_ports : int
        Number of user write ports (at least 1).

    Members
    -------
    read0, read1, ... : In(ReadPortSignature(addr_width=..., elem_width=..., lanes=...))
        One per read port.
    write0, write1, ... : In(AccWritePortSignature(addr_width=..., elem_width=..., lanes=...))
        One per write port.

    Attributes
    ----------
    addr_width : int
        ``max(1, ceil(log2(depth)))``.
    bank_depth : int
        ``depth // banks``.

    Raises
    ------
    ValueError
        If an argument is not a positive integer, ``banks`` is not a power of two, or ``depth`` is
        not a multiple of ``banks``.

    Notes
    -----
    Cost: storage is ``depth * lanes * elem_width`` bits in ``banks`` memories of
    ``depth // banks`` rows. Each bank has ``read_ports + 1`` read ports (the extra one is the
    internal read of the read-modify-write) and one write port; on FPGAs whose block RAM has one
    read port Yosys replicates every bank ``read_ports + 1`` times (measured with
    ``synth_ecp5``: 512 rows x 4 x 32 bits, 2 banks, 1 read port: 16 DP16KD, 954 flip-flops,
    64 CCU2C; banks shallower than 512 rows leave DP16KD partly unused). The datapath adds ``lanes``
    ``elem_width``-bit adders, two row-wide pipeline registers (request and forwarded row), one
    address comparator and a ``banks``-to-1 row multiplexer per read port. The critical path is
    block RAM output -> forward mux -> adder -> block RAM write data.
    """

    def __init__(self, *, depth: int, lanes: int, elem_width: int, banks: int, read_ports: int,
                 write_ports: int) -> None:
        super().__init__(depth=depth, lanes=lanes, elem_width=elem_width, banks=banks,
                         read_ports=read_ports, write_ports=write_ports,
                         write_signature=AccWritePortSignature)

    def elaborate(self, platform) -> Module:
        m = Module()
        banks = self.banks
        bank_bits = (banks - 1).bit_length()
        row_layout = data.ArrayLayout(signed(self.elem_width), self.lanes)
        row_bits = self.lanes * self.elem_width
        reads = [self.read_port(i) for i in range(self.read_ports)]
        writes = [self.write_port(j) for j in range(self.write_ports)]

        # -- stage 0: fixed-priority arbitration; issue the read of the row to modify ----------
        accept = Signal()
        req_addr = Signal(self.addr_width)
        req_data = Signal(row_layout)
        req_mask = Signal(self.lanes)
        req_acc = Signal()
        blocked = 0
        for wp in writes:
            m.d.comb += wp.ready.eq(~blocked)
            blocked = blocked | wp.en
        with m.If(writes[0].en):
            m.d.comb += [
                accept.eq(1), req_addr.eq(writes[0].addr), req_data.eq(writes[0].data),
                req_mask.eq(writes[0].mask), req_acc.eq(writes[0].accumulate),
            ]
        for wp in writes[1:]:
            with m.Elif(wp.en):
                m.d.comb += [
                    accept.eq(1), req_addr.eq(wp.addr), req_data.eq(wp.data),
                    req_mask.eq(wp.mask), req_acc.eq(wp.accumulate),
                ]

        # -- stage 1: registered request, modify, write back -----------------------------------
        s1_valid = Signal()
        s1_addr = Signal(self.addr_width)
        s1_data = Signal(row_layout)
        s1_mask = Signal(self.lanes)
        s1_acc = Signal()
        valid = accept
        if self.depth != (1 << self.addr_width):
            valid = accept & (req_addr < self.depth)
        m.d.sync += [
            s1_valid.eq(valid), s1_addr.eq(req_addr), s1_data.eq(req_data),
            s1_mask.eq(req_mask), s1_acc.eq(req_acc),
        ]
        for wp in writes:
            m.d.comb += wp.busy.eq(s1_valid)

        # The row written in the previous cycle: a stage-0 read issued in that cycle missed it.
        fwd_valid = Signal()
        fwd_addr = Signal(self.addr_width)
        fwd_data = Signal(row_layout)

        rmw_rdata, rmw_wdata = [], []
        user_rdata = [[None] * banks for _ in reads]
        for b in range(banks):
            mem = Memory(shape=unsigned(row_bits), depth=self.bank_depth, init=[])
            m.submodules[f"bank{b}"] = mem
            wport = mem.write_port(granularity=self.elem_width)
            hit = (bank_of(s1_addr, banks) == b) if bank_bits else 1
            rport = mem.read_port(transparent_for=())
            req_hit = (bank_of(req_addr, banks) == b) if bank_bits else 1
            m.d.comb += [
                rport.addr.eq(row_of(req_addr, banks)),
                rport.en.eq(accept & req_hit),
                wport.addr.eq(row_of(s1_addr, banks)),
                wport.en.eq(Mux(s1_valid & hit, s1_mask, 0)),
            ]
            rmw_rdata.append(rport.data)
            rmw_wdata.append(wport.data)
            for i, rp in enumerate(reads):
                port = mem.read_port(transparent_for=())
                hit_r = (bank_of(rp.addr, banks) == b) if bank_bits else 1
                m.d.comb += [
                    port.addr.eq(row_of(rp.addr, banks)),
                    port.en.eq(rp.en & hit_r),
                ]
                user_rdata[i][b] = port.data

        stored = Signal(row_layout)
        if bank_bits:
            with m.Switch(bank_of(s1_addr, banks)):
                for b in range(banks):
                    with m.Case(b):
                        m.d.comb += stored.eq(rmw_rdata[b])
        else:
            m.d.comb += stored.eq(rmw_rdata[0])
        old = Signal(row_layout)
        m.d.comb += old.eq(Mux(fwd_valid & (fwd_addr == s1_addr), fwd_data, stored))

        new = Signal(row_layout)
        for k in range(self.lanes):
            total = Mux(s1_acc, old[k] + s1_data[k], s1_data[k])
            m.d.comb += new[k].eq(Mux(s1_mask[k], total, old[k]))
        for wdata in rmw_wdata:
            m.d.comb += wdata.eq(new.as_value())
        m.d.sync += [fwd_valid.eq(s1_valid), fwd_addr.eq(s1_addr), fwd_data.eq(new)]

        # -- user reads ------------------------------------------------------------------------
        for i, rp in enumerate(reads):
            if bank_bits:
                sel = Signal(bank_bits, name=f"read{i}_bank")
                with m.If(rp.en):
                    m.d.sync += sel.eq(bank_of(rp.addr, banks))
                with m.Switch(sel):
                    for b in range(banks):
                        with m.Case(b):
                            m.d.comb += rp.data.eq(user_rdata[i][b])
            else:
                m.d.comb += rp.data.eq(user_rdata[i][0])
        return m
