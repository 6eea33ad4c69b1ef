"""Choose how a GEMM is tiled: tile shapes, loop order, and which operand stays resident.

A GEMM is cut into blocks: A blocks (one m tile x one k step), B blocks (one k step x one n
tile) and C tiles (one m tile x one n tile, in the accumulator). The loops run over C tiles,
m-major (``"mn"``) or n-major (``"nm"``), and over the k steps innermost. An operand's blocks
are either

- ``"panel"``: the blocks of the current outer tile (A's of one m tile in ``"mn"``, B's of one
  n tile in ``"nm"``) stay in the scratchpad while the inner loop reuses them, one or two panels
  (the next loads while the current is used);
- ``"whole"``: every block of the operand stays in the scratchpad once loaded;
- ``"stream"``: each use loads the block again into a ring of slots.

An operand that is ``"panel"`` or ``"whole"`` is read from main memory exactly once; a streamed
A is read once per n tile and a streamed B once per m tile. `choose_schedule` evaluates every
arrangement that fits the scratchpad with a small cost model (the larger of the array's and the
bus's busy cycles) and keeps the cheapest, so that traffic approaches the minimum (every operand
read once) whenever the scratchpad allows it.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from accel.config import MAX_BLOCK_ROWS, AccelConfig, Dataflow
from accel.compiler.gemm import ChannelRequant, Gemm

__all__ = ["KStep", "Schedule", "BlockPlacer", "choose_schedule", "last_c_row", "placers"]

#: Most ring slots a streamed operand gets (the load unit keeps 4 commands in flight).
MAX_STREAM_SLOTS = 4


@dataclass(frozen=True)
class KStep:
    """One step of the reduction: columns ``k0 .. k0 + rows`` of A part ``part``, which are
    rows ``b_row .. b_row + rows`` of B."""

    part: int
    k0: int
    rows: int
    b_row: int


@dataclass(frozen=True)
class Schedule:
    """How one GEMM is tiled and where its blocks live.

    Members
    -------
    order : {"mn", "nm"}
        Outer loop over m tiles then n tiles (``"mn"``), or the reverse.
    m_tiles, n_tiles : tuple of (start, size)
    k_steps : tuple of KStep
    a_mode, b_mode : {"panel", "whole", "stream"}
    panel_bufs : int
        Panels of the panel operand held at once (1 or 2).
    slots : int
        Ring slots of each streamed operand.
    acc_slots : int
        C tiles the accumulator holds at once (up to 3: a tile is stored while the next ones
        compute).
    a_rows, b_rows : int
        Scratchpad rows given to A (from row 0) and to B (after A's).
    defer_stores : bool
        A C tile's store may follow the next tile's first compute (two accumulator slots, and
        C overlaps neither operand in main memory).
    cost : tuple
        (estimated cycles, bus words, commands): what the choice minimised.
    """

    order: str
    m_tiles: tuple[tuple[int, int], ...]
    n_tiles: tuple[tuple[int, int], ...]
    k_steps: tuple[KStep, ...]
    a_mode: str
    b_mode: str
    panel_bufs: int
    slots: int
    acc_slots: int
    a_rows: int
    b_rows: int
    defer_stores: bool = False
    cost: tuple = ()

    @property
    def tm(self) -> int:
        return max(size for _, size in self.m_tiles)


def _ranges(total: int, step: int) -> tuple[tuple[int, int], ...]:
    return tuple((start, min(step, total - start)) for start in range(0, total, step))


def _balanced(total: int, limit: int) -> tuple[tuple[int, int], ...]:
    """Tiles of at most ``limit`` covering ``total``, as even as possible."""
    count = -(-total // limit)
    return _ranges(total, -(-total // count))


def _k_steps(gemm: Gemm, tk: int) -> tuple[KStep, ...]:
    out, b_row = [], 0
    for index, part in enumerate(gemm.a_parts):
        out += [KStep(index, k0, rows, b_row + k0) for k0, rows in _ranges(part.k, tk)]
        b_row += part.k
    return tuple(out)


class BlockPlacer:
    """Scratchpad rows of one operand's blocks, and which uses must load them.

    Parameters
    ----------
    mode : {"panel", "whole", "stream"}
    base : int
        First scratchpad row of the operand's region.
    blocks : dict
        Every block key (in the order of first use) -> its rows.
    panel_of : callable
        Block key -> the outer tile it belongs to (``"panel"`` only).
    bufs : int
        Panels held at once (``"panel"``) or ring slots (``"stream"``).
    """

    def __init__(self, mode: str, base: int, blocks: dict, panel_of, bufs: int) -> None:
        self.mode, self.base, self.bufs = mode, base, bufs
        self.panel_of = panel_of
        self.offset: dict = {}
        self.span = 0
        fill: dict = {}
        for key, rows in blocks.items():
            group = panel_of(key) if mode == "panel" else None
            at = fill.get(group, 0)
            self.offset[key] = at
            fill[group] = at + rows
            self.span = max(self.span, rows if mode == "stream" else fill[group])
        self.loaded: set = set()
        self.turn = 0

    @property
    def rows(self) -> int:
        """Scratchpad rows of the region."""
        return self.span * (1 if self.mode == "whole" else self.bufs)

    def needs_load(self, key) -> bool:
        """Whether the next `place` of ``key`` loads it."""
        return self.mode == "stream" or key not in self.loaded

    def place(self, key) -> tuple[int, bool]:
        """(first scratchpad row, whether it must be loaded now) of block ``key``."""
        if self.mode == "stream":
            self.turn += 1
            return self.base + (self.turn - 1) % self.bufs * self.span, True
        fresh = key not in self.loaded
        self.loaded.add(key)
        if self.mode == "whole":
            return self.base + self.offset[key], fresh
        panel = self.panel_of(key) % self.bufs
        return self.base + panel * self.span + self.offset[key], fresh


def _words(rows: int, nbytes: int, bus_bytes: int) -> int:
    return rows * -(-nbytes // bus_bytes)


def _evaluate(config: AccelConfig, gemm: Gemm, order: str, a_mode: str, b_mode: str,
              m_tiles, n_tiles, k_steps, slots: int, acc_slots: int) -> tuple:
    """(estimated cycles, bus words, commands) of one arrangement."""
    cfg, ws = config, config.dataflow is Dataflow.WS
    eb, bb = cfg.in_bytes, max(1, cfg.bus_width // 8)
    nm, nn = len(m_tiles), len(n_tiles)
    a_words = sum(_words(tm, ks.rows * eb, bb) for _, tm in m_tiles for ks in k_steps)
    b_words = sum(_words(ks.rows, tn * eb, bb) for _, tn in n_tiles for ks in k_steps)
    a_loads = 1 if a_mode != "stream" else nn
    b_loads = 1 if b_mode != "stream" else nm
    out_bytes = eb if gemm.requant is not None else cfg.acc_bytes
    words = a_words * a_loads + b_words * b_loads + sum(
        _words(tm, tn * out_bytes, bb) for _, tm in m_tiles for _, tn in n_tiles)
    if isinstance(gemm.requant, ChannelRequant) and nn > 1:
        tables = nn * (nm if order == "mn" else 1)
        words += tables * _words(2, cfg.cols * 4, bb)
    period = 2 * cfg.rows + cfg.cols - 1  # a weight switch's shortest period (ws)
    compute = sum((max(tm, period) if ws else max(ks.rows, cfg.rows)) * nn
                  for _, tm in m_tiles for ks in k_steps)
    nk = len(k_steps)
    commands = 2 * nm * nn * nk + nm * nk * a_loads + nn * nk * b_loads + nm * nn
    return (max(compute, words, commands), words, commands)


def last_c_row(gemm: Gemm) -> int:
    """Address of the last stored row of C (``c_addr`` when none is)."""
    for r in range(gemm.m - 1, max(-1, gemm.m - 1 - (gemm.c_rows or (1,))[0]), -1):
        addr = gemm.c_row_addr(r)
        if addr is not None:
            return addr
    return gemm.c_addr


def _aliases(gemm: Gemm, config: AccelConfig) -> bool:
    """Whether C's bytes may overlap an operand's (then loads must follow stores in order)."""
    eb = config.in_bytes
    out_bytes = eb if gemm.requant is not None else config.acc_bytes
    lo, hi = gemm.c_addr, last_c_row(gemm) + gemm.n * out_bytes
    spans = [(p.addr, p.addr + (gemm.m - 1) * p.stride + p.k * eb) for p in gemm.a_parts]
    spans.append((gemm.b_addr, gemm.b_addr + (gemm.k - 1) * gemm.b_stride + gemm.n * eb))
    return any(a < hi and lo < b for a, b in spans)


def _arrangements(order_ok, aliased: bool):
    """(order, a_mode, b_mode, panel_bufs) to consider."""
    if aliased:
        return [("nm", "stream", "stream", 1)]
    out = []
    for order in order_ok:
        for inner_mode, outer_mode in itertools.product(("panel", "stream"),
                                                        ("whole", "stream")):
            for bufs in ((2, 1) if inner_mode == "panel" else (1,)):
                modes = (inner_mode, outer_mode) if order == "mn" else (outer_mode, inner_mode)
                out.append((order, *modes, bufs))
    return out


def choose_schedule(config: AccelConfig, gemm: Gemm, acc_rows: int) -> Schedule:
    """The cheapest arrangement of ``gemm`` on ``config`` that fits its scratchpad and
    accumulator rows ``[0, acc_rows)``.

    Loads may run ahead of stores only when C cannot overlap A or B in main memory; otherwise
    the schedule is n-major with both operands streamed (every tile's loads after the previous
    tile's store, as the program's sequential semantics then require). A `ChannelRequant` over
    several column tiles is n-major, so each slice of its table is loaded once.
    """
    cfg, ws = config, config.dataflow is Dataflow.WS
    sp, m_total = cfg.sp_rows, gemm.m
    max_k, k_total = max(p.k for p in gemm.a_parts), gemm.k
    n_tiles = _ranges(gemm.n, min(cfg.cols, gemm.n))
    nn = len(n_tiles)
    orders = ("nm",) if isinstance(gemm.requant, ChannelRequant) and nn > 1 else ("mn", "nm")
    aliased = _aliases(gemm, cfg)
    best = None
    for order, a_mode, b_mode, bufs in _arrangements(orders, aliased):
        for slots in range(MAX_STREAM_SLOTS, 0, -1):
            if ws:
                tk = min(cfg.rows, max_k)
                k_steps = _k_steps(gemm, tk)
                nks = len(k_steps)
                acc_slots = 2 if acc_rows >= 2 else 1
                b_rows = {"panel": bufs * k_total, "whole": k_total * nn,
                          "stream": slots * tk}[b_mode]
                coef, fixed = {"panel": (bufs * nks, 0), "whole": (0, nks * m_total),
                               "stream": (slots, 0)}[a_mode]
                room = sp - b_rows - fixed
                tm = min(MAX_BLOCK_ROWS, m_total, acc_rows // acc_slots,
                         room // coef if coef else MAX_BLOCK_ROWS)
                if room < 0 or tm < 1:
                    continue
                m_tiles = _balanced(m_total, tm)
                a_rows = coef * max(s for _, s in m_tiles) + fixed
                if acc_rows // 3 >= max(s for _, s in m_tiles):
                    acc_slots = 3
            else:
                tm = min(cfg.rows, m_total, acc_rows)
                acc_slots = max(1, min(3, acc_rows // tm))
                m_tiles = _ranges(m_total, tm)
                nm = len(m_tiles)
                a_fixed = {"panel": bufs * k_total, "whole": nm * k_total, "stream": 0}[a_mode]
                b_fixed = {"panel": bufs * k_total, "whole": nn * k_total, "stream": 0}[b_mode]
                streams = (a_mode == "stream") + (b_mode == "stream")
                room = sp - a_fixed - b_fixed
                tk = min(MAX_BLOCK_ROWS, max_k, room // (slots * streams) if streams else
                         MAX_BLOCK_ROWS)
                if room < 0 or tk < 1:
                    continue
                k_steps = _k_steps(gemm, tk)
                tk = max(ks.rows for ks in k_steps)
                a_rows = a_fixed or slots * tk
                b_rows = b_fixed or slots * tk
            cost = _evaluate(cfg, gemm, order, a_mode, b_mode, m_tiles, n_tiles, k_steps,
                             slots, acc_slots)
            if best is None or cost < best.cost:
                best = Schedule(order, m_tiles, n_tiles, k_steps, a_mode, b_mode, bufs, slots,
                                acc_slots, a_rows, b_rows, acc_slots > 1 and not aliased,
                                cost)
            break
    if best is None:
        raise ValueError(f"no tiling of a {gemm.m}x{gemm.k} @ {gemm.k}x{gemm.n} GEMM fits "
                         f"{sp} scratchpad rows")
    return best


def placers(config: AccelConfig, schedule: Schedule) -> tuple[BlockPlacer, BlockPlacer]:
    """The `BlockPlacer` of A (rows from 0) and of B (after A's region) of ``schedule``."""
    ws = config.dataflow is Dataflow.WS
    s = schedule
    a_blocks = {(mi, ki): (tm if ws else ks.rows)
                for mi, (_, tm) in enumerate(s.m_tiles) for ki, ks in enumerate(s.k_steps)}
    b_blocks = {(ki, ni): ks.rows
                for ni in range(len(s.n_tiles)) for ki, ks in enumerate(s.k_steps)}
    a_bufs = s.slots if s.a_mode == "stream" else s.panel_bufs
    b_bufs = s.slots if s.b_mode == "stream" else s.panel_bufs
    a = BlockPlacer(s.a_mode, 0, a_blocks, lambda key: key[0], a_bufs)
    b = BlockPlacer(s.b_mode, a.rows, b_blocks, lambda key: key[1], b_bufs)
    return a, b
