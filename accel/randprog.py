"""Random accelerator programs for differential testing (golden model vs RTL).

Programs are built to provoke what a sequential-semantics bug would get wrong: operands chosen
from a few small pools of addresses, so that loads, computes and stores keep touching rows and
bytes that an earlier, possibly still running, instruction reads or writes. Illegal commands
(unknown codes, reserved bits, out-of-range rows, shapes, main-memory blocks) are mixed in at a
chosen rate, each followed by reads of the status word and a clear. Every program ends by dumping
the whole scratchpad and accumulator to a reserved region of main memory, so comparing main
memory compares all architectural state.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from .config import MAX_BLOCK_ROWS, AccelConfig
from .isa.encoding import Command, encode
from .isa.spec import BY_NAME, Counter

__all__ = ["ProgramSpace", "random_program", "dump_commands"]


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
    """

    data_size: int = 4096
    dump_addr: int = 4096
    max_rows: int = 8

    def memory_size(self, config: AccelConfig) -> int:
        """Main-memory bytes needed: data region plus the dump."""
        dump = (config.sp_rows * config.dim * config.in_bytes
                + config.acc_rows * config.cols * config.acc_bytes)
        return (self.dump_addr + dump + 63) // 64 * 64  # whole bus words of any width


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


class _Builder:
    def __init__(self, config: AccelConfig, space: ProgramSpace, rng: random.Random):
        self.cfg, self.space, self.rng = config, space, rng
        self.out: list[Command] = []
        self.load_stride = 0
        self.store_stride = 0
        # Small pools make overlaps (hazards) frequent.
        self.sp_pool = [rng.randrange(0, config.sp_rows) for _ in range(4)]
        self.acc_pool = [rng.randrange(0, config.acc_rows) for _ in range(3)]
        self.mem_pool = [rng.randrange(0, space.data_size) for _ in range(4)]
        self.weights: tuple[int, int, int] | None = None

    def rows(self, limit: int) -> int:
        return self.rng.randint(1, max(1, min(limit, self.space.max_rows)))

    def row_addr(self, pool: list[int], depth: int, count: int) -> int:
        base = self.rng.choice(pool) + self.rng.randint(-2, 2)
        return min(max(0, base), depth - count)

    def mem_block(self, rows: int, row_bytes: int, stride: int) -> int:
        span = (rows - 1) * stride + row_bytes
        limit = self.space.data_size - span
        if limit < 0:
            return -1
        base = self.rng.choice(self.mem_pool) + self.rng.randint(-8, 8)
        return min(max(0, base), limit)

    def stride(self, row_bytes: int) -> int:
        return self.rng.choice([0, row_bytes, row_bytes, row_bytes + self.rng.randint(1, 9),
                                max(1, row_bytes // 2)])

    # -- instruction kinds --------------------------------------------------------------------

    def transfer(self, name: str) -> None:
        cfg, rng = self.cfg, self.rng
        is_load = name.startswith("load")
        acc = name in ("load_acc", "store_acc", "store_act")
        elem = cfg.acc_bytes if name in ("load_acc", "store_acc") else cfg.in_bytes
        if name == "load_sp_t":
            rows, cols = self.rows(cfg.dim), self.rows(MAX_BLOCK_ROWS)
            target_rows = cols
        else:
            rows = self.rows(MAX_BLOCK_ROWS)
            cols = rng.randint(1, cfg.cols if acc else cfg.dim)
            target_rows = rows
        depth = cfg.acc_rows if acc else cfg.sp_rows
        addr = self.row_addr(self.acc_pool if acc else self.sp_pool, depth, target_rows)
        stride = self.stride(cols * elem)
        block = self.mem_block(rows, cols * elem, stride)
        if block < 0:
            return
        if is_load and stride != self.load_stride:
            self.out.append(encode("config_load", stride=stride))
            self.load_stride = stride
        if not is_load and stride != self.store_stride:
            self.out.append(encode("config_store", stride=stride))
            self.store_stride = stride
        field = "acc_addr" if acc else "sp_addr"
        self.out.append(encode(name, mem_addr=block, **{field: addr}, rows=rows, cols=cols))

    def preload(self) -> None:
        cfg = self.cfg
        _, k_max, n_max = cfg.tile_limits
        k, n = self.rows(k_max), self.rng.randint(1, n_max)
        b_addr = self.row_addr(self.sp_pool, cfg.sp_rows, k)
        self.weights = (b_addr, k, n)
        self.out.append(encode("preload", b_addr=b_addr, k=k, n=n))

    def compute(self) -> None:
        cfg = self.cfg
        if self.weights is None:
            self.preload()
        m = self.rows(cfg.tile_limits[0])
        a_rows = m if cfg.dataflow == "ws" else self.weights[1]
        a_addr = self.row_addr(self.sp_pool, cfg.sp_rows, a_rows)
        c_addr = self.row_addr(self.acc_pool, cfg.acc_rows, m)
        name = self.rng.choice(["compute", "compute_acc"])
        self.out.append(encode(name, a_addr=a_addr, m=m, c_addr=c_addr))

    def config_act(self) -> None:
        rng = self.rng
        self.out.append(encode("config_act", multiplier=rng.randrange(1 << 31),
                               shift=rng.randint(0, 40), act=rng.randint(0, 1),
                               zero_point=rng.randint(-20, 20)))

    def query(self) -> None:
        rng = self.rng
        choice = rng.random()
        if choice < 0.4:
            self.out.append(encode("status"))
        elif choice < 0.8:
            counter = rng.choice([Counter.MACS, Counter.INSTRUCTIONS, Counter.LOAD_BYTES,
                                  Counter.STORE_BYTES, Counter.CYCLES])
            name = rng.choice(["read_counter", "read_counter_hi"])
            self.out.append(encode(name, counter=int(counter)))
        else:
            self.out.append(encode("fence"))

    def illegal(self) -> None:
        cfg, rng = self.cfg, self.rng
        kind = rng.randrange(6)
        if kind == 0:
            codes = {(i.funct7, i.funct3) for i in BY_NAME.values()}
            while True:
                cmd = Command(rng.randrange(128), rng.randrange(8), rng.getrandbits(32),
                              rng.getrandbits(32))
                if (cmd.funct7, cmd.funct3) not in codes:
                    break
        elif kind == 1:  # reserved bit set in a legal fence
            fence = BY_NAME["fence"]
            cmd = Command(fence.funct7, fence.funct3, 1 << rng.randrange(32), 0)
        elif kind == 2:
            cmd = encode("load_sp", mem_addr=0, sp_addr=cfg.sp_rows - 1, rows=2, cols=1)
        elif kind == 3:  # one column more than the accumulator has
            cmd = encode("store_acc", mem_addr=0, acc_addr=rng.randrange(cfg.acc_rows),
                         rows=1, cols=cfg.cols + 1)
        elif kind == 4:
            cmd = encode("read_counter", counter=rng.randint(len(Counter), 255))
        else:  # past the scratchpad's end, or before any preload
            cmd = encode("compute", a_addr=cfg.sp_rows - 1 if self.weights else 0, m=2,
                         c_addr=0)
        self.out.append(cmd)
        # Something that must be discarded, then the error is read and cleared.
        self.out.append(encode("config_load", stride=rng.randint(0, 64)))
        self.out.append(encode("status"))
        self.out.append(encode("clear_error"))
        self.out.append(encode("status"))

    def build(self, length: int, illegal_rate: float) -> list[Command]:
        kinds = [
            (lambda: self.transfer("load_sp"), 4), (lambda: self.transfer("load_sp_t"), 1),
            (lambda: self.transfer("load_acc"), 2), (lambda: self.transfer("store_sp"), 1),
            (lambda: self.transfer("store_acc"), 2), (lambda: self.transfer("store_act"), 2),
            (self.preload, 2), (self.compute, 5), (self.config_act, 1), (self.query, 1),
        ]
        actions, weights = zip(*kinds)
        if self.rng.random() < 0.5:
            self.out.append(encode("reset_counters"))
        while len(self.out) < length:
            if self.rng.random() < illegal_rate:
                self.illegal()
            else:
                self.rng.choices(actions, weights)[0]()
        return self.out


def random_program(config: AccelConfig, rng: random.Random, *, length: int = 24,
                   illegal_rate: float = 0.05, space: ProgramSpace = ProgramSpace()
                   ) -> list[Command]:
    """A random program of about ``length`` commands, ending with the state dump.

    A legal program stays legal: every illegal command is followed by ``clear_error``.
    """
    body = _Builder(config, space, rng).build(length, illegal_rate)
    return body + dump_commands(config, space.dump_addr)
