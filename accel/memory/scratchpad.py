"""The scratchpad: a banked SRAM of ``depth`` rows of ``lanes`` signed elements.

Rows are interleaved across banks by the low address bits (row ``a`` lives in bank
``a % banks`` at bank row ``a // banks``), so a stream of consecutive rows visits every bank in
turn. Each bank is one :class:`amaranth.lib.memory.Memory` with one read port per user read port
and one write port per user write port.
"""

from amaranth.hdl import Module, Mux, Signal, unsigned
from amaranth.lib.memory import Memory

from accel.memory.banked import BankedMemory, bank_of, row_of
from accel.memory.ports import WritePortSignature

__all__ = ["Scratchpad"]


class Scratchpad(BankedMemory):
    """Banked scratchpad SRAM with ``read_ports`` independent read ports and ``write_ports``
    masked write ports.

    Addressing: row ``a`` (``0 <= a < depth``) is stored in bank ``a % banks`` at bank row
    ``a // banks`` (low-bit interleaving). Addresses ``>= depth`` (possible when ``depth`` is not
    a power of two) are ignored by writes and read as an unspecified value.

    Reads have a latency of one cycle: ``read{i}.data`` holds the row at ``read{i}.addr``
    from the cycle after ``read{i}.en`` was high, and stays unchanged until the cycle after the
    next ``en``. Every read port may read any address in every cycle; ports never conflict.
    Writes happen in the cycle ``write{j}.en`` is high, to the elements ``k`` with
    ``write{j}.mask[k]`` set; they are visible to reads issued in the next cycle or later.
    Read during write: a read issued in the same cycle as a write to the same row returns
    the *old* row (non-transparent read ports).
    Write collisions: when several write ports write the same row in the same cycle, each
    element takes the value of the lowest-indexed port whose mask enables that element; ports
    whose masks are disjoint all land.

    Parameters
    ----------
    depth : int
        Rows; a multiple of ``banks``.
    lanes : int
        Elements per row.
    elem_width : int
        Bits of one signed element.
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
    write0, write1, ... : In(WritePortSignature(addr_width=..., elem_width=..., lanes=...))
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
    Cost: storage is ``depth * lanes * elem_width`` bits in ``banks`` memories of ``depth // banks``
    rows. Each bank has one read port per user read port, so on FPGAs whose block RAM has one
    read port (iCE40, ECP5 in pseudo-dual-port mode) Yosys replicates every bank
    ``read_ports`` times: total block RAM is ``read_ports`` times the storage. More than one
    write port per bank does not map to block RAM (a true-dual-port block RAM port shares its
    address between reading and writing), so Yosys falls back to flip-flops: keep
    ``write_ports=1`` for large scratchpads. Measured with ``synth_ecp5``, 512 rows x 32 bits, 2
    read ports: 2 DP16KD with one write port, 16k flip-flops with two. Banks shallower than the
    block RAM's natural depth (512 x 36 for DP16KD) leave block RAM partly unused. Collision
    resolution costs ``write_ports * (write_ports - 1) / 2`` address comparators. Read data goes
    through a ``banks``-to-1 row multiplexer per read port whose select is registered with the
    read.
    """

    def __init__(self, *, depth: int, lanes: int, elem_width: int, banks: int, read_ports: int,
                 write_ports: int = 1) -> None:
        super().__init__(depth=depth, lanes=lanes, elem_width=elem_width, banks=banks,
                         read_ports=read_ports, write_ports=write_ports,
                         write_signature=WritePortSignature)

    def elaborate(self, platform) -> Module:
        m = Module()
        row_bits = self.lanes * self.elem_width
        bank_bits = (self.banks - 1).bit_length()
        in_range_needed = self.depth != (1 << self.addr_width)
        reads = [self.read_port(i) for i in range(self.read_ports)]
        writes = [self.write_port(j) for j in range(self.write_ports)]

        # Element enables of every write port after collision resolution (lower index wins).
        write_enables = []
        for j, wp in enumerate(writes):
            en = Signal(self.lanes, name=f"write{j}_lanes")
            valid = wp.en
            if in_range_needed:
                valid = valid & (wp.addr < self.depth)
            lanes = Mux(valid, wp.mask, 0)
            for other in writes[:j]:
                same = other.en & (other.addr == wp.addr)
                lanes = lanes & ~Mux(same, other.mask, 0)
            m.d.comb += en.eq(lanes)
            write_enables.append(en)

        bank_rdata = [[None] * self.banks for _ in reads]
        for b in range(self.banks):
            mem = Memory(shape=unsigned(row_bits), depth=self.bank_depth, init=[])
            m.submodules[f"bank{b}"] = mem
            for j, wp in enumerate(writes):
                port = mem.write_port(granularity=self.elem_width)
                hit = (bank_of(wp.addr, self.banks) == b) if bank_bits else 1
                m.d.comb += [
                    port.addr.eq(row_of(wp.addr, self.banks)),
                    port.data.eq(wp.data.as_value()),
                    port.en.eq(Mux(hit, write_enables[j], 0)),
                ]
            for i, rp in enumerate(reads):
                port = mem.read_port(transparent_for=())
                hit = (bank_of(rp.addr, self.banks) == b) if bank_bits else 1
                m.d.comb += [
                    port.addr.eq(row_of(rp.addr, self.banks)),
                    port.en.eq(rp.en & hit),
                ]
                bank_rdata[i][b] = port.data

        for i, rp in enumerate(reads):
            if bank_bits:
                sel = Signal(bank_bits, name=f"read{i}_bank")
                with m.If(rp.en):
                    m.d.sync += sel.eq(bank_of(rp.addr, self.banks))
                with m.Switch(sel):
                    for b in range(self.banks):
                        with m.Case(b):
                            m.d.comb += rp.data.eq(bank_rdata[i][b])
            else:
                m.d.comb += rp.data.eq(bank_rdata[i][0])
        return m
