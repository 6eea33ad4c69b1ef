"""Failing commands for random programs: one recipe per error cause of the ISA.

`ErrorInjector` is the part of `accel.verify.randprog`'s program builder that provokes errors. Each
recipe appends a command that fails with its cause (checks run in the golden model's order, so
the recipe makes every earlier check pass), then a tail: a command that must be discarded, a
status read, an ERROR_INDEX read, ``clear_error`` and another status read. A recipe is a method
named after the cause (``_sp_range`` for ``SP_RANGE``); causes without a recipe (e.g. added to
the ISA later) are not provoked, which the fuzzer's coverage report shows. The MEM_RANGE and
MEM_WINDOW recipes sometimes use an EXEC_BUFFER (misaligned, past memory, before the window).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from accel.config import MAX_BLOCK_ROWS, Dataflow
from accel.isa.encoding import Command, encode
from accel.isa.spec import BY_CODE, BY_NAME, INSTRUCTIONS, Counter, ErrorCause

if TYPE_CHECKING:
    from accel.verify.randprog import ProgramSpace, _Builder

__all__ = ["ErrorInjector", "ErrorRounds"]

_TRANSFERS = ("load_sp", "load_sp_t", "load_acc", "store_sp", "store_acc", "store_act")
_ACC_TRANSFERS = ("load_acc", "store_acc", "store_act")
_WINDOW_CAUSES = ("MEM_WINDOW", "WINDOW_LOCKED", "WINDOW_INVALID")


class ErrorRounds:
    """Which error causes the current round still has to provoke; shared by the programs of a
    run (pass one to every `accel.verify.randprog.random_program` call) or private to one program.

    Failing commands provoke causes in rounds, every cause once per round in a random order, so
    that a short run already meets every cause. A cause that cannot be provoked when its turn
    comes (``BUS_ERROR`` without a bus error window) keeps its place for a later command.
    ``NO_WEIGHTS`` and ``WINDOW_LOCKED`` are not in the rounds: programs made right after a
    reset or that lock the DMA window provoke them once each.
    """

    def __init__(self) -> None:
        self.pending: list[ErrorCause] = []


class ErrorInjector:
    """Appends failing commands (and their tails) to a program builder.

    Parameters
    ----------
    builder : accel.verify.randprog._Builder
        Supplies the configuration, the random generator, the output list and the tracked
        state (strides, weights, DMA window).
    rounds : ErrorRounds
    """

    def __init__(self, builder: "_Builder", rounds: ErrorRounds):
        self.b = builder
        self.rounds = rounds

    @classmethod
    def causes(cls, space: "ProgramSpace", *, fresh: bool, lock: bool) -> list[ErrorCause]:
        """Causes the recipes can provoke in programs of ``space`` (see `random_program`)."""
        windows = space.windows and "config_window" in BY_NAME
        out = []
        for cause in ErrorCause:
            if cause == ErrorCause.NONE or not hasattr(cls, f"_{cause.name.lower()}"):
                continue
            if cause.name in _WINDOW_CAUSES and not windows:
                continue
            if (cause.name == "NO_WEIGHTS" and not fresh
                    or cause.name == "WINDOW_LOCKED" and not lock
                    or cause.name == "BUS_ERROR" and not space.fault_size):
                continue
            out.append(cause)
        return out

    def inject(self, cause: ErrorCause | None = None) -> bool:
        """Append a command failing with ``cause`` (the next one of the round when None) and
        its tail; return False when that cause cannot be provoked at this point."""
        b = self.b
        if cause is None:
            pending = self.rounds.pending
            for _ in range(2):
                for index, candidate in enumerate(pending):
                    if self.inject(candidate):
                        del pending[index]
                        return True
                fresh = [c for c in self.causes(b.space, fresh=False, lock=False)
                         if c not in pending]
                b.rng.shuffle(fresh)
                pending += fresh
            return False
        recipe = getattr(self, f"_{cause.name.lower()}", None)
        if recipe is None or not recipe():
            return False
        if cause != ErrorCause.BUS_ERROR:
            # Discarded while the error is set; if it ran, later loads would use a wrong stride.
            b.out.append(encode("config_load", stride=b.rng.randint(0, 64)))
            b.load_stride = None
            b.out += [encode("status"), *self._error_index(), encode("clear_error"),
                      encode("status")]
        return True

    @staticmethod
    def _error_index() -> list[Command]:
        return [encode("error_index")] if "error_index" in BY_NAME else []

    def _exec_buffer(self, mem_addr: int) -> bool:
        """An EXEC_BUFFER of 1..4 records at ``mem_addr`` that fails its own checks (its
        records are never read; in a program run from a buffer it is a nested one)."""
        b = self.b
        if "exec_buffer" not in BY_NAME or not 0 <= mem_addr <= 0xFFFF_FFFF:
            return False
        b.out.append(encode("exec_buffer", mem_addr=mem_addr, count=b.rng.randint(1, 4)))
        return True

    # -- recipes ------------------------------------------------------------------------------

    def _illegal_instruction(self) -> bool:
        b, rng = self.b, self.b.rng
        kind = rng.randrange(4)
        if kind == 0:  # an unknown code
            while True:
                cmd = Command(rng.randrange(128), rng.randrange(8), rng.getrandbits(32),
                              rng.getrandbits(32))
                if (cmd.funct7, cmd.funct3) not in BY_CODE:
                    break
        elif kind == 1:  # a reserved operand bit
            ins, reg, mask = rng.choice([(i, r, i.reserved_mask(r)) for i in INSTRUCTIONS
                                         for r in ("rs1", "rs2") if i.reserved_mask(r)])
            bits = [n for n in range(32) if mask >> n & 1]
            value = 1 << rng.choice(bits)
            cmd = Command(ins.funct7, ins.funct3, value if reg == "rs1" else 0,
                          value if reg == "rs2" else 0)
        elif kind == 2:  # a reserved value of a field with choices
            ins, field = rng.choice([(i, f) for i in INSTRUCTIONS for f in i.fields
                                     if f.choices is not None])
            stored = rng.choice([v for v in range(1 << field.width) if v not in field.choices])
            value = stored << field.lsb
            cmd = Command(ins.funct7, ins.funct3, value if field.reg == "rs1" else 0,
                          value if field.reg == "rs2" else 0)
        else:  # an unknown counter
            cmd = encode(rng.choice(["read_counter", "read_counter_hi"]),
                         counter=rng.randint(len(Counter), 255))
        b.out.append(cmd)
        return True

    def _past_end(self, depth: int, count: int) -> int | None:
        """A first row that puts ``count`` rows past ``depth``, or None (16-bit field)."""
        addr = min(depth - count + self.b.rng.randint(1, 3), 0xFFFF)
        return addr if addr + count > depth else None

    def _sp_range(self) -> bool:
        b, cfg, rng = self.b, self.b.cfg, self.b.rng
        kind = rng.choice(["load_sp", "store_sp", "load_sp_t", "preload", "compute"])
        if kind == "preload":
            k = rng.randint(1, min(cfg.tile_limits[1], 8))
            addr = self._past_end(cfg.sp_rows, k)
            cmd = None if addr is None else encode("preload", b_addr=addr, k=k,
                                                   n=rng.randint(1, cfg.cols))
        elif kind == "compute":
            if b.weights is None:
                b.preload()
            m = b.rows(cfg.tile_limits[0])
            addr = self._past_end(cfg.sp_rows, m if cfg.dataflow is Dataflow.WS else b.weights[1])
            cmd = None if addr is None else encode(rng.choice(["compute", "compute_acc"]),
                                                   a_addr=addr, m=m, c_addr=0)
        else:
            rows, cols, _, _, target_rows = b.transfer_shape(kind)
            addr = self._past_end(cfg.sp_rows, target_rows)
            cmd = None if addr is None else b.transfer(kind, 0, addr, rows, cols)
        if cmd is None:
            return False
        b.out.append(cmd)
        return True

    def _acc_range(self) -> bool:
        b, cfg, rng = self.b, self.b.cfg, self.b.rng
        if rng.random() < 0.2:          # config_act_channels: its two rows past the end
            addr = self._past_end(cfg.acc_rows, 2)
            cmd = None if addr is None else encode("config_act_channels", acc_addr=addr,
                                                   act=rng.randint(0, 1), zero_point=0)
        elif rng.random() < 0.3:
            if b.weights is None:
                b.preload()
            m = b.rows(cfg.tile_limits[0])
            a_rows = m if cfg.dataflow is Dataflow.WS else b.weights[1]
            addr = self._past_end(cfg.acc_rows, m)
            cmd = None if addr is None else encode(
                rng.choice(["compute", "compute_acc"]),
                a_addr=b.row_addr(b.sp_pool, cfg.sp_rows, a_rows), m=m, c_addr=addr)
        else:
            kind = rng.choice(_ACC_TRANSFERS)
            rows, cols, _, _, _ = b.transfer_shape(kind)
            addr = self._past_end(cfg.acc_rows, rows)
            cmd = None if addr is None else b.transfer(kind, 0, addr, rows, cols)
        if cmd is None:
            return False
        b.out.append(cmd)
        return True

    def _mem_range(self) -> bool:
        b, cfg, rng = self.b, self.b.cfg, self.b.rng
        if rng.random() < 0.25:  # a buffer past the end of memory, or not word-aligned
            if rng.random() < 0.5:
                return self._exec_buffer(cfg.mem_size_limit - 4 * rng.randint(1, 2))
            return self._exec_buffer(4 * rng.randrange(b.space.data_size // 4)
                                     + rng.randint(1, 3))
        kind = rng.choice(_TRANSFERS)
        rows, cols, elem, addr, _ = b.transfer_shape(kind)
        rows = max(rows, 2)
        if kind == "load_sp_t":
            rows = min(rows, cfg.dim)
        else:
            addr = min(addr, (cfg.acc_rows if kind in _ACC_TRANSFERS else cfg.sp_rows) - rows)
        stride = cols * elem
        b.set_stride(kind.startswith("load"), stride)
        span = (rows - 1) * stride + cols * elem
        # The block ends past the addressable memory, so no bus word of it may be read.
        mem_addr = cfg.mem_size_limit - rng.randint(1, span - 1)
        if mem_addr > 0xFFFF_FFFF:
            return False
        b.out.append(b.transfer(kind, mem_addr, addr, rows, cols))
        return True

    def _shape(self) -> bool:
        b, cfg, rng = self.b, self.b.cfg, self.b.rng
        options = []
        if cfg.dim < MAX_BLOCK_ROWS:
            options += ["load_sp", "store_sp", "load_sp_t"]
        if cfg.cols < MAX_BLOCK_ROWS:
            options += list(_ACC_TRANSFERS) + ["preload_n"]
        if cfg.tile_limits[1] < MAX_BLOCK_ROWS:
            options.append("preload_k")
        if cfg.tile_limits[0] < MAX_BLOCK_ROWS:
            options.append("compute")
        if not options:
            return False
        kind = rng.choice(options)
        if kind == "preload_k":
            b.out.append(encode("preload", b_addr=0, k=cfg.tile_limits[1] + 1, n=1))
        elif kind == "preload_n":
            b.out.append(encode("preload", b_addr=0, k=1, n=cfg.cols + 1))
        elif kind == "compute":
            if b.weights is None:
                b.preload()
            b.out.append(encode("compute", a_addr=0, m=cfg.tile_limits[0] + 1, c_addr=0))
        elif kind == "load_sp_t":
            b.out.append(encode(kind, mem_addr=0, sp_addr=0, rows=cfg.dim + 1, cols=1))
        else:
            limit = cfg.cols if kind in _ACC_TRANSFERS else cfg.dim
            b.out.append(b.transfer(kind, 0, 0, 1, rng.randint(limit + 1,
                                                               min(limit + 4, MAX_BLOCK_ROWS))))
        return True

    def _no_weights(self) -> bool:
        b = self.b
        if not b.fresh:
            return False
        b.out.append(encode(b.rng.choice(["compute", "compute_acc"]), a_addr=0, m=1, c_addr=0))
        return True

    def _bus_error(self) -> bool:
        """A transfer meeting the bus error window, fenced, its error read and cleared.

        Stores stay inside the window (the bus writes nothing); a load's destination rows are
        then loaded again from the data region (their contents are unspecified after a bus
        error). Counters are reset: the hardware may have counted the failed transfer.
        """
        b, rng = self.b, self.b.rng
        windows = b.space.error_windows(b.cfg)
        if not windows:
            return False
        lo, hi = windows[0]
        if not (b.window[0] <= lo and hi - 1 <= b.window[1]):
            return False
        kind = rng.choice(_TRANSFERS)
        rows, cols, elem, addr, _ = b.transfer_shape(kind)
        row_bytes = cols * elem
        stride = rng.choice([0, row_bytes])
        span = (rows - 1) * stride + row_bytes
        if span > hi - lo:
            stride, span = 0, row_bytes
        if span > hi - lo:
            return False
        is_load = kind.startswith("load")
        if is_load:  # may straddle either edge of the window
            mem_addr = rng.randint(lo - span + 1, hi - 1)
            scrub = b.mem_block(rows, row_bytes, stride)
            if scrub < 0 or mem_addr < b.window[0] or mem_addr + span - 1 > b.window[1]:
                return False
        else:
            mem_addr = rng.randint(lo, hi - span)
        b.set_stride(is_load, stride)
        b.out.append(b.transfer(kind, mem_addr, addr, rows, cols))
        b.out += [encode("fence"), encode("status"), encode("clear_error"),
                  encode("reset_counters")]
        if is_load:
            b.out.append(b.transfer(kind, scrub, addr, rows, cols))
        return True

    def _mem_window(self) -> bool:
        """A transfer inside main memory but outside the DMA window (narrowed first if need)."""
        b, rng = self.b, self.b.rng
        if b.window[0] == 0:
            if b.locked:
                return False
            b.set_window(64 * rng.randint(1, max(1, b.space.data_size // 256)), b.window[1])
        if rng.random() < 0.25:  # a buffer starting before the window
            return self._exec_buffer(4 * rng.randrange(b.window[0] // 4))
        kind = rng.choice(_TRANSFERS)
        rows, cols, elem, addr, _ = b.transfer_shape(kind)
        stride = cols * elem
        b.set_stride(kind.startswith("load"), stride)
        mem_addr = rng.randrange(0, b.window[0])  # starts before the window
        b.out.append(b.transfer(kind, mem_addr, addr, rows, cols))
        return True

    def _window_locked(self) -> bool:
        b = self.b
        if not b.locked:
            return False
        b.out.append(encode("config_window", base=0, last=b.full_window[1]))
        return True

    def _window_invalid(self) -> bool:
        b, rng = self.b, self.b.rng
        if b.locked:
            return False
        word = b.cfg.bus_bytes
        kind = rng.randrange(3 if word > 1 else 1)
        if kind == 0:  # base above last
            base = word * rng.randint(3, 64)
            last = base - word * rng.randint(1, 2) - 1
        elif kind == 1:  # base not on a bus word
            base, last = word * rng.randint(0, 8) + rng.randint(1, word - 1), 4095
        else:  # the window ends inside a bus word
            base, last = 0, word * rng.randint(1, 64) + rng.randint(0, word - 2)
        b.out.append(encode("config_window", base=base, last=last))
        return True
