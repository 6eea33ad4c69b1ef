"""The systolic array top: streams in, skew, PE mesh, de-skew, stream out."""

from __future__ import annotations

from amaranth.hdl import EnableInserter, Module, Signal, signed
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from accel.arch.microarch import array_latency
from accel.config import Dataflow
from accel.hdl.checked import CheckedConstruction
from accel.systolic.mesh import Mesh, check_shape
from accel.systolic.pe import check_widths
from accel.systolic.skew import Skew, deskew_delays, skew_delays

__all__ = ["SystolicArray"]


class SystolicArray(CheckedConstruction, wiring.Component):
    """A ``rows`` x ``cols`` systolic MAC array with aligned vector streams.

    Vectors enter and leave aligned (all lanes in one beat); skew and de-skew are inside. The
    array is fully pipelined (one vector per port per cycle in steady state) and stalls as a
    whole while ``c.valid & ~c.ready`` (global enable), so it never drops or duplicates data.
    Inputs are signed; products are exact and sums wrap modulo ``2**acc_width``. Cycle counts
    below are enabled (not stalled) cycles. Every ``ready`` may depend combinationally on
    ``c.ready`` and on the payload/valid noted below; no ``valid`` depends on any ``ready``.

    Weight-stationary (``dataflow="ws"``), computing ``C[m, :] = A[m, :] @ W``:

    * ``b`` preloads a weight tile into shadow registers: exactly ``rows`` beats, beat ``k``
      carrying ``W[k, 0..cols)`` in ``b.payload.data``, ``b.payload.last`` high on beat
      ``rows - 1`` (it marks the preload complete; zero-pad unused rows). ``b.ready`` is low while
      a completed preload has not been switched to, and for ``rows + cols - 3`` cycles after a
      switch (the switch travels through the mesh with the activations); otherwise a preload
      overlaps compute.
    * ``a.payload.data`` carries ``A[m, 0..rows)``. With ``a.payload.new_weights`` high the array
      switches to the most recently completed preload before multiplying this vector;
      ``a.ready`` stays low for such a vector until a completed, not yet used preload exists
      (so ``a.ready`` depends on ``a.payload.new_weights``). Before the first switch after reset
      the weights are zero.
    * ``c`` emits, for each accepted ``a`` vector and in order, ``c.payload.data = C[m, 0..cols)``
      with ``c.payload.last = a.payload.last`` of that vector (passed through, not interpreted).
      Latency ``rows + cols`` cycles.

    Output-stationary (``dataflow="os"``), computing ``C = A @ B`` tile by tile:

    * One beat takes ``a`` (``A[0..rows, k]``, a column of ``A``) and ``b`` (``B[k, 0..cols)``)
      together; it happens only when both are valid (``a.ready``/``b.ready`` each depend on the
      other's ``valid``). ``a.payload.last`` marks the final ``k`` of a reduction (any length
      >= 1; the next reduction may start on the next beat).
    * After the last beat, ``c`` emits ``rows`` vectors ``C[0, :]`` .. ``C[rows-1, :]`` in order,
      ``c.payload.last`` high on ``C[rows-1, :]``. Latency from the last beat to ``C[0, :]`` is
      ``cols + 2`` cycles. A beat with ``last`` is held off until ``rows`` cycles after the
      previous one (the output port needs ``rows`` cycles per tile); other beats are not.
    * ``a.payload.new_weights`` and ``b.payload.last`` are ignored.

    Parameters
    ----------
    rows, cols : int
        PEs down and across (1..128 each, non-square allowed). In "ws" ``rows`` is the reduction
        length of one tile; in "os" ``rows`` x ``cols`` is the output tile.
    dataflow : {"ws", "os"}
        Weight-stationary or output-stationary.
    input_width : int
        Bits of a signed input element (2..16).
    acc_width : int
        Bits of a signed output element (4..64).

    Members
    -------
    a : In(stream.Signature(StructLayout))
        Payload ``{"data": ArrayLayout(signed(input_width), rows), "new_weights": 1, "last": 1}``.
    b : In(stream.Signature(StructLayout))
        Payload ``{"data": ArrayLayout(signed(input_width), cols), "last": 1}``.
    c : Out(stream.Signature(StructLayout))
        Payload ``{"data": ArrayLayout(signed(acc_width), cols), "last": 1}``.

    Raises
    ------
    ValueError
        If ``rows``, ``cols``, ``dataflow`` or a width is out of range.

    Notes
    -----
    In the emitted Verilog each payload is one flat port with the fields packed from bit 0 in
    the order above (``a__payload``: ``rows * input_width`` data bits, then ``new_weights``,
    then ``last``). Hardware: per PE one ``input_width`` x ``input_width`` multiplier and one
    ``acc_width`` adder; registers per PE: ws ``3 * input_width + acc_width + 1``, os
    ``2 * input_width + acc_width + 2``; plus ``rows * (rows - 1) / 2`` stages of ``a`` skew
    (os also ``cols * (cols - 1) / 2`` of ``b`` skew) and ``cols * (cols - 1) / 2`` (ws) or
    ``cols * (cols + 1) / 2`` (os) stages of de-skew.
    """

    @classmethod
    def check_parameters(cls, *, rows, cols, dataflow, input_width=8, acc_width=32) -> None:
        """Raise ``ValueError`` for a geometry or width out of range (before construction)."""
        check_shape(rows, cols, dataflow)
        check_widths(input_width, acc_width)

    def __init__(self, *, rows: int, cols: int, dataflow: Dataflow | str, input_width: int = 8,
                 acc_width: int = 32) -> None:
        self.rows, self.cols, self.dataflow = rows, cols, Dataflow(dataflow)
        self.input_width, self.acc_width = input_width, acc_width
        a_layout = data.StructLayout({
            "data": data.ArrayLayout(signed(input_width), rows),
            "new_weights": 1,
            "last": 1,
        })
        b_layout = data.StructLayout({
            "data": data.ArrayLayout(signed(input_width), cols),
            "last": 1,
        })
        c_layout = data.StructLayout({
            "data": data.ArrayLayout(signed(acc_width), cols),
            "last": 1,
        })
        super().__init__({
            "a": In(stream.Signature(a_layout)),
            "b": In(stream.Signature(b_layout)),
            "c": Out(stream.Signature(c_layout)),
        })

    @property
    def latency(self) -> int:
        """Cycles from accepting an ``a`` vector (ws) or a ``last`` beat (os) to its first
        output vector, without stalls."""
        return array_latency(self.rows, self.cols, self.dataflow)

    def elaborate(self, platform) -> Module:
        m = Module()
        rows, cols = self.rows, self.cols
        # Global enable: everything advances unless a valid output is being held.
        en = Signal()
        m.d.comb += en.eq(~self.c.valid | self.c.ready)

        lane = data.StructLayout({"data": signed(self.input_width), "flag": 1})
        mesh = Mesh(rows=rows, cols=cols, dataflow=self.dataflow,
                    input_width=self.input_width, acc_width=self.acc_width)
        a_skew = Skew(shape=lane, delays=skew_delays(rows))
        m.submodules.mesh = EnableInserter(en)(mesh)
        m.submodules.a_skew = EnableInserter(en)(a_skew)
        for i in range(rows):
            m.d.comb += [
                mesh.a_in[i].eq(a_skew.o[i].data),
                mesh.a_flag[i].eq(a_skew.o[i].flag),
            ]
        if self.dataflow is Dataflow.WS:
            self._elaborate_ws(m, en, mesh, a_skew)
        else:
            self._elaborate_os(m, en, mesh, a_skew)
        return m

    def _elaborate_ws(self, m: Module, en, mesh: Mesh, a_skew: Skew) -> None:
        rows, cols = self.rows, self.cols
        a, b, c = self.a, self.b, self.c
        shadow_full = Signal()  # a completed preload waits to be switched to
        # After a switch, PE (i, j) copies its shadow weight i + j enabled cycles later; the
        # shadow chain may shift on the edge of the last copy (which reads the old value).
        drain_cycles = max(0, rows + cols - 3)
        drain = Signal(range(drain_cycles + 1))

        a_fire = Signal()
        b_fire = Signal()
        m.d.comb += [
            a.ready.eq(en & (~a.payload.new_weights | shadow_full)),
            b.ready.eq(en & ~shadow_full & (drain == 0)),
            a_fire.eq(a.valid & a.ready),
            b_fire.eq(b.valid & b.ready),
        ]
        for i in range(rows):
            m.d.comb += [
                a_skew.i[i].data.eq(a.payload.data[i]),
                a_skew.i[i].flag.eq(a_fire & a.payload.new_weights),
            ]
        m.d.comb += [
            mesh.b_in.eq(b.payload.data),
            mesh.w_shift.eq(b_fire),
        ]
        with m.If(a_fire & a.payload.new_weights):
            m.d.sync += [shadow_full.eq(0), drain.eq(drain_cycles)]
        with m.Elif(b_fire & b.payload.last):
            m.d.sync += shadow_full.eq(1)
        with m.Elif(en & (drain != 0)):
            m.d.sync += drain.eq(drain - 1)

        # Output: de-skew the bottom partial sums; valid/last follow in a plain delay line.
        deskew = Skew(shape=signed(self.acc_width), delays=deskew_delays(cols))
        tag = data.StructLayout({"valid": 1, "last": 1})
        tags = Skew(shape=tag, delays=(rows + cols,))
        m.submodules.deskew = EnableInserter(en)(deskew)
        m.submodules.tags = EnableInserter(en)(tags)
        m.d.comb += [
            deskew.i.eq(mesh.col_out),
            tags.i[0].valid.eq(a_fire),
            tags.i[0].last.eq(a_fire & a.payload.last),
            c.payload.data.eq(deskew.o),
            c.payload.last.eq(tags.o[0].last),
            c.valid.eq(tags.o[0].valid),
        ]

    def _elaborate_os(self, m: Module, en, mesh: Mesh, a_skew: Skew) -> None:
        rows, cols = self.rows, self.cols
        a, b, c = self.a, self.b, self.c
        spacing = Signal(range(rows))  # cycles until another `last` beat may enter
        may_fire = Signal()
        fire = Signal()
        m.d.comb += [
            may_fire.eq(en & (~a.payload.last | (spacing == 0))),
            a.ready.eq(may_fire & b.valid),
            b.ready.eq(may_fire & a.valid),
            fire.eq(may_fire & a.valid & b.valid),
        ]
        with m.If(fire & a.payload.last):
            m.d.sync += spacing.eq(rows - 1)
        with m.Elif(en & (spacing != 0)):
            m.d.sync += spacing.eq(spacing - 1)

        b_skew = Skew(shape=signed(self.input_width), delays=skew_delays(cols))
        m.submodules.b_skew = EnableInserter(en)(b_skew)
        # Bubbles enter as a == b == 0, so PEs accumulate nothing from them (zeroing b as well
        # keeps a 4-state simulation free of X when an idle payload is left undefined).
        with m.If(fire):
            m.d.comb += b_skew.i.eq(b.payload.data)
            for i in range(rows):
                m.d.comb += a_skew.i[i].data.eq(a.payload.data[i])
        for i in range(rows):
            m.d.comb += a_skew.i[i].flag.eq(fire & a.payload.last)
        m.d.comb += mesh.b_in.eq(b_skew.o)

        # Output: column j presents row i at t + i + j + 2; delay it cols - j more cycles.
        deskew = Skew(shape=signed(self.acc_width), delays=deskew_delays(cols, extra=1))
        tag = data.StructLayout({"valid": 1, "last": 1})
        tags = Skew(shape=tag, delays=(1,))
        m.submodules.deskew = EnableInserter(en)(deskew)
        m.submodules.tags = EnableInserter(en)(tags)
        m.d.comb += [
            deskew.i.eq(mesh.col_out),
            tags.i[0].valid.eq(mesh.out_valid),
            tags.i[0].last.eq(mesh.out_last),
            c.payload.data.eq(deskew.o),
            c.payload.last.eq(tags.o[0].last),
            c.valid.eq(tags.o[0].valid),
        ]
