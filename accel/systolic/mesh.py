"""The rows x cols grid of PEs, wired for one dataflow (no skew, no flow control)."""

from __future__ import annotations

from amaranth.hdl import Cat, Module, Signal, signed
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from accel.config import DATAFLOWS, INT_RANGES, Dataflow
from accel.hdl.checked import CheckedConstruction
from accel.systolic.pe import check_widths, os_pe_logic, ws_pe_logic

__all__ = ["Mesh", "check_shape"]


def check_shape(rows: int, cols: int, dataflow: Dataflow | str) -> None:
    """Validate the mesh geometry shared by every systolic block.

    Raises
    ------
    ValueError
        If ``rows`` or ``cols`` is not an integer in its `accel.config.INT_RANGES` range
        (1..128) or ``dataflow`` is not a `Dataflow` ("ws" or "os").
    """
    for name, value in (("rows", rows), ("cols", cols)):
        lo, hi = INT_RANGES[name]
        if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi:
            raise ValueError(f"{name} must be an integer between {lo} and {hi}, not {value!r}")
    if not isinstance(dataflow, str) or dataflow not in DATAFLOWS:
        raise ValueError(f"dataflow must be one of {', '.join(DATAFLOWS)}, not {dataflow!r}")


class Mesh(CheckedConstruction, wiring.Component):
    """A ``rows`` x ``cols`` grid of PEs; lane inputs must already be skewed.

    The grid is emitted flat (one module; PE registers named ``pe_{i}_{j}_*``) from the same
    logic as :class:`~.pe.WeightStationaryPE` / :class:`~.pe.OutputStationaryPE`.

    ``a`` enters row ``i`` at the left edge and moves one PE right per cycle. In "ws" partial sums
    move one PE down per cycle and leave at the bottom, and shadow weights shift up from the
    bottom edge when ``w_shift`` is high (the ``k``-th of ``rows`` shifts ends in row ``k``).
    In "os" ``b`` enters column ``j`` at the top and moves one PE down per cycle; each PE keeps
    its own sum, and the finished sums of column ``j`` are OR-ed onto ``col_out[j]`` (at most one
    PE of a column may present a result in any cycle: the array throttles ``last``).

    Parameters
    ----------
    rows, cols : int
        Grid size (1..128 each).
    dataflow : {"ws", "os"}
        Which PE to build.
    input_width, acc_width : int
        Element widths (see :class:`WeightStationaryPE`).

    Members
    -------
    a_in : In(ArrayLayout(signed(input_width), rows))
        Activation (ws) or ``A`` element (os) entering each row.
    a_flag : In(rows)
        Per-row flag travelling with ``a_in``: switch weights (ws) or end of reduction (os).
    b_in : In(ArrayLayout(signed(input_width), cols))
        Shadow weights entering the bottom row (ws) or ``B`` elements entering the top row (os).
    w_shift : In(1)
        ws only: shift the shadow-weight chains up by one row (ignored in os).
    col_out : Out(ArrayLayout(signed(acc_width), cols))
        ws: registered partial sums leaving the bottom row. os: the finished sum presented in
        column ``j`` this cycle (zero if none).
    out_valid, out_last : Out(1)
        os only: the last column presents a sum this cycle, and it comes from the last row.

    Raises
    ------
    ValueError
        If a geometry or width argument is out of range.
    """

    @classmethod
    def check_parameters(cls, *, rows, cols, dataflow, input_width, acc_width) -> None:
        """Raise ``ValueError`` for a geometry or width out of range (before construction)."""
        check_shape(rows, cols, dataflow)
        check_widths(input_width, acc_width)

    def __init__(self, *, rows: int, cols: int, dataflow: Dataflow | str, input_width: int,
                 acc_width: int) -> None:
        self.rows, self.cols, self.dataflow = rows, cols, Dataflow(dataflow)
        self.input_width, self.acc_width = input_width, acc_width
        super().__init__({
            "a_in": In(data.ArrayLayout(signed(input_width), rows)),
            "a_flag": In(rows),
            "b_in": In(data.ArrayLayout(signed(input_width), cols)),
            "w_shift": In(1),
            "col_out": Out(data.ArrayLayout(signed(acc_width), cols)),
            "out_valid": Out(1),
            "out_last": Out(1),
        })

    def elaborate(self, platform) -> Module:
        m = Module()
        if self.dataflow is Dataflow.WS:
            self._elaborate_ws(m)
        else:
            self._elaborate_os(m)
        return m

    def _grid(self, name: str, shape, *, reset_less: bool = False) -> list[list[Signal]]:
        return [[Signal(shape, name=f"pe_{i}_{j}_{name}", reset_less=reset_less)
                 for j in range(self.cols)] for i in range(self.rows)]

    def _elaborate_ws(self, m: Module) -> None:
        rows, cols = self.rows, self.cols
        a = self._grid("a", signed(self.input_width), reset_less=True)
        sw = self._grid("sw", 1)
        psum = self._grid("psum", signed(self.acc_width), reset_less=True)
        shadow = self._grid("shadow", signed(self.input_width), reset_less=True)
        weight = self._grid("weight", signed(self.input_width))
        for i in range(rows):
            for j in range(cols):
                ws_pe_logic(
                    m,
                    a_in=a[i][j - 1] if j else self.a_in[i],
                    sw_in=sw[i][j - 1] if j else self.a_flag[i],
                    psum_in=psum[i - 1][j] if i else 0,
                    w_in=shadow[i + 1][j] if i + 1 < rows else self.b_in[j],
                    w_shift=self.w_shift,
                    a_out=a[i][j], sw_out=sw[i][j], psum_out=psum[i][j],
                    w_out=shadow[i][j], weight=weight[i][j])
        m.d.comb += self.col_out.eq(Cat(psum[-1]))

    def _elaborate_os(self, m: Module) -> None:
        rows, cols = self.rows, self.cols
        a = self._grid("a", signed(self.input_width), reset_less=True)
        last = self._grid("last", 1)
        b = self._grid("b", signed(self.input_width), reset_less=True)
        result = self._grid("result", signed(self.acc_width))
        done = self._grid("done", 1)
        for i in range(rows):
            for j in range(cols):
                os_pe_logic(
                    m,
                    a_in=a[i][j - 1] if j else self.a_in[i],
                    last_in=last[i][j - 1] if j else self.a_flag[i],
                    b_in=b[i - 1][j] if i else self.b_in[j],
                    a_out=a[i][j], last_out=last[i][j], b_out=b[i][j],
                    result=result[i][j], result_valid=done[i][j])
        columns = []
        for j in range(cols):
            # One-hot (or all-zero) select: an AND-OR tree instead of a priority mux chain.
            columns.append(_or_tree([result[i][j].as_unsigned() &
                                     done[i][j].replicate(self.acc_width)
                                     for i in range(rows)]))
        m.d.comb += [
            self.col_out.eq(Cat(columns)),
            self.out_valid.eq(_or_tree([done[i][-1] for i in range(rows)])),
            self.out_last.eq(done[-1][-1]),
        ]


def _or_tree(terms):
    """Balanced OR of ``terms`` (keeps the logic depth logarithmic in the emitted netlist)."""
    while len(terms) > 1:
        terms = [terms[k] | terms[k + 1] if k + 1 < len(terms) else terms[k]
                 for k in range(0, len(terms), 2)]
    return terms[0]
