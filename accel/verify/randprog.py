"""Random accelerator programs for differential testing (golden model vs RTL).

Programs are built to provoke what a sequential-semantics bug would get wrong: operands chosen
from a few small pools of addresses, so that loads, computes and stores keep touching rows and
bytes that an earlier, possibly still running, instruction reads or writes; k-tiled products
chain COMPUTE_ACCs into the same accumulator rows. Failing commands are mixed in at a chosen
rate, taking turns over the error causes of `accel.isa.spec.ErrorCause` that the generator knows
how to provoke (`error_causes`, `ErrorRounds`, recipes in `accel.verify.randprog_errors`); each is
followed by a command that must be discarded, a read of the status word and a clear. Every
program ends by dumping the whole scratchpad and accumulator to a reserved region of main
memory, so comparing main memory compares all architectural state.

Bus errors need a bus that answers ``err``: with ``ProgramSpace.fault_size`` > 0 a window of that
many bytes past the dump region is reserved for it (`ProgramSpace.error_windows`), and only
dedicated sequences touch it (see `accel.verify.fuzz.reference` for why they look as they do). When
the ISA has a DMA window (``config_window``, ``lock_window``), programs sometimes narrow the window
and restore it before the dump; a program made with ``lock=True`` locks it (only a reset unlocks
it, so such a program should be the last one before a reset).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from accel.arch.microarch import MEM_ALIGN, align_up
from accel.config import MAX_BLOCK_ROWS, AccelConfig, Dataflow
from accel.isa.encoding import Command, encode
from accel.isa.spec import BY_NAME, Counter, ErrorCause
from accel.verify.randprog_errors import ErrorInjector, ErrorRounds
from accel.verify.randprog_pool import PoolRecipes

__all__ = ["ErrorRounds", "ProgramSpace", "ZeroState", "dump_commands", "error_causes",
           "random_program", "zero_state_commands"]


@dataclass(frozen=True)
class ProgramSpace:
    """Where random programs may roam.

    Parameters
    ----------
    data_size : int
        Bytes of main memory (from address 0) that loads and stores use.
    dump_addr : int
        Start of the region that receives the final scratchpad and accumulator dump.
    max_rows : int
        Largest row count of one transfer or compute (keeps programs short).
    fault_size : int
        Bytes of the bus error window placed after the dump (0: no bus errors). A region of the
        same size follows it, so transfers can straddle either edge.
    windows : bool
        Use the DMA-window instructions (when the ISA has them).
    """

    data_size: int = 4096
    dump_addr: int = 4096
    max_rows: int = 8
    fault_size: int = 0
    windows: bool = True

    def dump_end(self, config: AccelConfig) -> int:
        dump = (config.sp_rows * config.dim * config.in_bytes
                + config.acc_rows * config.cols * config.acc_bytes)
        return align_up(self.dump_addr + dump)

    def error_windows(self, config: AccelConfig) -> tuple[tuple[int, int], ...]:
        """The bus error windows (``[lo, hi)`` byte ranges) this space's programs expect."""
        if not self.fault_size:
            return ()
        start = self.dump_end(config)
        return ((start, start + align_up(self.fault_size)),)

    def memory_size(self, config: AccelConfig) -> int:
        """Main-memory bytes needed: data region, dump and the bus error window."""
        return self.dump_end(config) + 2 * align_up(self.fault_size)


def dump_commands(config: AccelConfig, dump_addr: int) -> list[Command]:
    """Store the whole scratchpad, then the whole accumulator, densely from ``dump_addr``."""
    out = [encode("config_store", stride=config.dim * config.in_bytes)]
    addr = dump_addr
    for start in range(0, config.sp_rows, MAX_BLOCK_ROWS):
        rows = min(MAX_BLOCK_ROWS, config.sp_rows - start)
        out.append(encode("store_sp", mem_addr=addr, sp_addr=start, rows=rows, cols=config.dim))
        addr += rows * config.dim * config.in_bytes
    out.append(encode("config_store", stride=config.cols * config.acc_bytes))
    for start in range(0, config.acc_rows, MAX_BLOCK_ROWS):
        rows = min(MAX_BLOCK_ROWS, config.acc_rows - start)
        out.append(encode("store_acc", mem_addr=addr, acc_addr=start, rows=rows,
                          cols=config.cols))
        addr += rows * config.cols * config.acc_bytes
    out.append(encode("fence"))
    return out


@dataclass(frozen=True)
class ZeroState:
    """Commands that zero every scratchpad and accumulator row, broadcasting one zero row.

    Members
    -------
    commands : list of Command
        Valid right after a reset (load stride 0, the whole memory in the DMA window).
    row_bytes : int
        Main-memory bytes from address 0 that must read as zero while they run.
    """

    commands: list[Command]
    row_bytes: int


def zero_state_commands(config: AccelConfig) -> ZeroState:
    """The commands that zero the scratchpad and accumulator (see `ZeroState`)."""
    out = [encode("config_load", stride=0)]
    for start in range(0, config.sp_rows, MAX_BLOCK_ROWS):
        out.append(encode("load_sp", mem_addr=0, sp_addr=start,
                          rows=min(MAX_BLOCK_ROWS, config.sp_rows - start), cols=config.dim))
    for start in range(0, config.acc_rows, MAX_BLOCK_ROWS):
        out.append(encode("load_acc", mem_addr=0, acc_addr=start,
                          rows=min(MAX_BLOCK_ROWS, config.acc_rows - start), cols=config.cols))
    out.append(encode("fence"))
    return ZeroState(out, max(config.dim * config.in_bytes, config.cols * config.acc_bytes))


def error_causes(space: ProgramSpace, *, fresh: bool = True, lock: bool = True
                 ) -> list[ErrorCause]:
    """The error causes random programs in ``space`` can provoke.

    ``NO_WEIGHTS`` needs a program made with ``fresh=True``, ``WINDOW_LOCKED`` one made with
    ``lock=True``, ``BUS_ERROR`` a space with a fault window.
    """
    return ErrorInjector.causes(space, fresh=fresh, lock=lock)


class _Builder:
    """Appends random commands to ``out`` while tracking the state that decides legality."""

    def __init__(self, config: AccelConfig, space: ProgramSpace, rng: random.Random, *,
                 fresh: bool):
        self.cfg, self.space, self.rng = config, space, rng
        self.out: list[Command] = []
        self.load_stride = 0 if fresh else None  # None: unknown (set by an earlier program)
        self.store_stride = 0 if fresh else None
        # Small pools make overlaps (hazards) frequent.
        self.sp_pool = [rng.randrange(0, config.sp_rows) for _ in range(4)]
        self.acc_pool = [rng.randrange(0, config.acc_rows) for _ in range(3)]
        self.mem_pool = [rng.randrange(0, space.data_size) for _ in range(4)]
        self.weights: tuple[int, int, int] | None = None  # set by a PRELOAD of this program
        self.fresh = fresh  # no PRELOAD since reset
        self.use_windows = space.windows and "config_window" in BY_NAME
        self.full_window = (0, config.mem_size_limit - 1)
        self.window = self.full_window
        self.locked = False
        self.pools = PoolRecipes(self, fresh=fresh)

    # -- operand helpers ----------------------------------------------------------------------

    def rows(self, limit: int) -> int:
        return self.rng.randint(1, max(1, min(limit, self.space.max_rows)))

    def row_addr(self, pool: list[int], depth: int, count: int) -> int:
        base = self.rng.choice(pool) + self.rng.randint(-2, 2)
        return min(max(0, base), depth - count)

    def data_range(self) -> tuple[int, int]:
        """The bytes ``[lo, hi)`` of the data region inside the current DMA window."""
        return max(0, self.window[0]), min(self.space.data_size, self.window[1] + 1)

    def mem_block(self, rows: int, row_bytes: int, stride: int) -> int:
        """A block start inside the data region and the window, near the pool; -1 if none."""
        lo, hi = self.data_range()
        span = (rows - 1) * stride + row_bytes
        if hi - lo < span:
            return -1
        base = self.rng.choice(self.mem_pool) + self.rng.randint(-8, 8)
        return min(max(lo, base), hi - span)

    def stride(self, row_bytes: int) -> int:
        return self.rng.choice([0, row_bytes, row_bytes, row_bytes + self.rng.randint(1, 9),
                                max(1, row_bytes // 2)])

    def set_stride(self, is_load: bool, stride: int) -> None:
        if is_load and stride != self.load_stride:
            self.out.append(encode("config_load", stride=stride))
            self.load_stride = stride
        if not is_load and stride != self.store_stride:
            self.out.append(encode("config_store", stride=stride))
            self.store_stride = stride

    def transfer_shape(self, name: str) -> tuple[int, int, int, int, int]:
        """(rows, cols, element bytes, target row address, target rows) of a random transfer."""
        cfg = self.cfg
        acc = name in ("load_acc", "store_acc", "store_act")
        elem = cfg.acc_bytes if name in ("load_acc", "store_acc") else cfg.in_bytes
        if name == "load_sp_t":
            rows, cols = self.rows(cfg.dim), self.rows(MAX_BLOCK_ROWS)
            target_rows = cols
        else:
            rows = self.rows(MAX_BLOCK_ROWS)
            cols = self.rng.randint(1, cfg.cols if acc else cfg.dim)
            target_rows = rows
        depth = cfg.acc_rows if acc else cfg.sp_rows
        addr = self.row_addr(self.acc_pool if acc else self.sp_pool, depth, target_rows)
        return rows, cols, elem, addr, target_rows

    @staticmethod
    def transfer(name: str, mem_addr: int, addr: int, rows: int, cols: int) -> Command:
        field = "acc_addr" if name in ("load_acc", "store_acc", "store_act") else "sp_addr"
        return encode(name, mem_addr=mem_addr, **{field: addr}, rows=rows, cols=cols)

    # -- legal instruction kinds --------------------------------------------------------------

    def random_transfer(self, name: str) -> None:
        rows, cols, elem, addr, _ = self.transfer_shape(name)
        stride = self.stride(cols * elem)
        block = self.mem_block(rows, cols * elem, stride)
        if block < 0:
            return
        self.set_stride(name.startswith("load"), stride)
        self.out.append(self.transfer(name, block, addr, rows, cols))

    def preload(self) -> None:
        cfg = self.cfg
        _, k_max, n_max = cfg.tile_limits
        k, n = self.rows(k_max), self.rng.randint(1, n_max)
        b_addr = self.row_addr(self.sp_pool, cfg.sp_rows, k)
        self.weights = (b_addr, k, n)
        self.fresh = False
        self.out.append(encode("preload", b_addr=b_addr, k=k, n=n))

    def compute(self) -> None:
        cfg = self.cfg
        if self.weights is None:
            self.preload()
        m = self.rows(cfg.tile_limits[0])
        a_rows = m if cfg.dataflow is Dataflow.WS else self.weights[1]
        a_addr = self.row_addr(self.sp_pool, cfg.sp_rows, a_rows)
        c_addr = self.row_addr(self.acc_pool, cfg.acc_rows, m)
        name = self.rng.choice(["compute", "compute_acc"])
        self.out.append(encode(name, a_addr=a_addr, m=m, c_addr=c_addr))

    def accumulate(self) -> None:
        """A k-tiled product: two or three COMPUTE(_ACC)s into the same accumulator rows, each
        after its own PRELOAD (the first may overwrite, or add to a bias or earlier result)."""
        cfg, rng = self.cfg, self.rng
        m = self.rows(cfg.tile_limits[0])
        c_addr = self.row_addr(self.acc_pool, cfg.acc_rows, m)
        for step in range(rng.randint(2, 3)):
            self.preload()
            a_rows = m if cfg.dataflow is Dataflow.WS else self.weights[1]
            a_addr = self.row_addr(self.sp_pool, cfg.sp_rows, a_rows)
            name = "compute" if step == 0 and rng.random() < 0.5 else "compute_acc"
            self.out.append(encode(name, a_addr=a_addr, m=m, c_addr=c_addr))

    def config_act(self) -> None:
        rng = self.rng
        self.out.append(encode("config_act", multiplier=rng.randrange(1 << 31),
                               shift=rng.randint(0, 40), act=rng.randint(0, 1),
                               zero_point=rng.randint(-20, 20)))

    def config_act_channels(self) -> None:
        """Per-column requantization: sometimes a plausible table loaded into two accumulator
        rows first (load_acc, rows 2), otherwise whatever the rows hold (masked to the fields)."""
        cfg, rng = self.cfg, self.rng
        acc_addr = self.row_addr(self.acc_pool, cfg.acc_rows, 2)
        if rng.random() < 0.5:
            cols = rng.randint(1, cfg.cols)
            row_bytes = cols * cfg.acc_bytes
            stride = rng.choice([row_bytes, row_bytes + cfg.acc_bytes * rng.randint(1, 3)])
            block = self.mem_block(2, row_bytes, stride)
            if block >= 0:
                self.set_stride(True, stride)
                self.out.append(self.transfer("load_acc", block, acc_addr, 2, cols))
        self.out.append(encode("config_act_channels", acc_addr=acc_addr,
                               act=rng.randint(0, 1), zero_point=rng.randint(-20, 20)))

    def query(self) -> None:
        rng = self.rng
        choice = rng.random()
        if choice < 0.3:
            self.out.append(encode("status"))
        elif choice < 0.75:
            name = rng.choice(["read_counter", "read_counter_hi"])
            self.out.append(encode(name, counter=int(rng.choice(list(Counter)))))
        elif choice < 0.85:
            self.out.append(encode("reset_counters"))
        else:
            self.out.append(encode("fence"))

    def narrow_window(self) -> None:
        """Set a DMA window that holds most of the data region (sometimes all of it)."""
        if not self.use_windows or self.locked:
            return
        data = self.space.data_size // MEM_ALIGN * MEM_ALIGN  # windows end on whole bus words
        quarter = data // MEM_ALIGN // 4
        base = self.rng.choice([0, 0, MEM_ALIGN * self.rng.randint(1, max(1, quarter))])
        last = self.rng.choice([self.full_window[1], data - 1,
                                data - 1 - MEM_ALIGN * self.rng.randint(0, quarter)])
        if last < base + MEM_ALIGN:
            return
        self.set_window(base, last)

    def set_window(self, base: int, last: int) -> None:
        self.out.append(encode("config_window", base=base, last=last))
        self.window = (base, last)

    def restore_window(self) -> None:
        if self.window != self.full_window and not self.locked:
            self.set_window(*self.full_window)

    def lock(self) -> None:
        """Lock a window holding the dump and most of the data region (never the whole)."""
        data = self.space.data_size
        base = MEM_ALIGN * self.rng.randint(1, max(1, data // MEM_ALIGN // 4))
        self.set_window(base, self.space.memory_size(self.cfg) - 1)
        self.out.append(encode("lock_window"))
        self.locked = True

    # -- the program --------------------------------------------------------------------------

    def build(self, length: int, illegal_rate: float, *, lock: bool,
              rounds: ErrorRounds) -> list[Command]:
        errors = ErrorInjector(self, rounds)
        kinds = [
            (lambda: self.random_transfer("load_sp"), 4),
            (lambda: self.random_transfer("load_sp_t"), 1),
            (lambda: self.random_transfer("load_acc"), 2),
            (lambda: self.random_transfer("store_sp"), 1),
            (lambda: self.random_transfer("store_acc"), 2),
            (lambda: self.random_transfer("store_act"), 2),
            (self.preload, 2), (self.compute, 4), (self.accumulate, 1.5), (self.config_act, 1),
            (self.config_act_channels, 1), (self.query, 2),
            (self.pools.store_pool, 1.5), (self.pools.config_pool, 0.3),
            (self.pools.config_pool_avg, 0.3),
            (self.narrow_window, 0.3 if self.use_windows else 0),
        ]
        actions, weights = zip(*kinds)
        if self.rng.random() < 0.5:
            self.out.append(encode("reset_counters"))
        if self.fresh:
            errors.inject(ErrorCause.NO_WEIGHTS)
        if lock and self.use_windows:
            self.lock()
            errors.inject(ErrorCause["WINDOW_LOCKED"])
        while len(self.out) < length:
            if self.rng.random() < illegal_rate:
                errors.inject()
            else:
                self.rng.choices(actions, weights)[0]()
        self.restore_window()
        return self.out


def random_program(config: AccelConfig, rng: random.Random, *, length: int = 24,
                   illegal_rate: float = 0.05, space: ProgramSpace = ProgramSpace(),
                   fresh: bool = False, lock: bool = False,
                   rounds: ErrorRounds | None = None) -> list[Command]:
    """A random program of about ``length`` commands, ending with the state dump.

    Parameters
    ----------
    fresh : bool
        The program runs right after a reset (no PRELOAD yet, reset strides): it may provoke
        ``NO_WEIGHTS``.
    lock : bool
        Lock the DMA window (when the ISA has one): later programs cannot change it until a
        reset, and the window excludes the start of the data region.
    rounds : ErrorRounds, optional
        Shared by the programs of a run so that their failing commands take turns over the
        error causes (see `ErrorRounds`); by default each program has its own.

    A program leaves the accelerator without a sticky error: every failing command is followed
    by ``clear_error``. It leaves the DMA window as it found it unless ``lock``.
    """
    body = _Builder(config, space, rng, fresh=fresh).build(
        length, illegal_rate, lock=lock, rounds=rounds if rounds is not None else ErrorRounds())
    return body + dump_commands(config, space.dump_addr)
