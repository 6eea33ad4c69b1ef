"""The NumPy golden model: executes accelerator programs with sequential semantics.

It is the definition of a correct result. Every instruction of `accel.isa.spec` has exactly one
handler here, found by name (``_op_<mnemonic>``); a module-level check fails at import time if one
is missing.
"""

from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np

from accel.config import AccelConfig, Dataflow
from accel.isa.encoding import Command, IllegalInstruction, decode, split_word
from accel.isa.spec import (ALWAYS_EXECUTED, BY_NAME, CUSTOM0_OPCODE, INSTRUCTIONS, RECORD_BYTES,
                            Activation, Counter, ErrorCause)
from accel.isa.status import status_word
from accel.golden.arith import activate, activate_channels, wrap
from accel.golden.pooling import PoolingUnit

__all__ = ["AccelError", "BufferRecordError", "GoldenModel"]

_DTYPES = {1: "<i1", 2: "<i2", 4: "<i4", 8: "<i8"}


class AccelError(Exception):
    """An instruction failed: the accelerator would set its sticky error with ``cause``.

    Members
    -------
    cause : ErrorCause
    index : int or None
        Position of the failing command in the program run, when known.
    command : Command
    """

    def __init__(self, cause: ErrorCause, message: str, command: Command | None = None,
                 index: int | None = None):
        where = f"instruction {index}: " if index is not None else ""
        super().__init__(f"{where}{cause.name}: {message}")
        self.detail = message
        self.cause = cause
        self.command = command
        self.index = index


class BufferRecordError(AccelError):
    """A record of an EXEC_BUFFER failed (the sticky error names the record, not EXEC_BUFFER).

    Members
    -------
    record : int
        Index of the failing record in its buffer (``error_index`` is ``record + 1``).
    """

    def __init__(self, cause: ErrorCause, message: str, command: Command, record: int):
        super().__init__(cause, f"record {record} ({command}): {message}", command)
        self.record = record


class GoldenModel(PoolingUnit):
    """Architectural state of one accelerator plus its main memory, and an executor.

    Parameters
    ----------
    config : AccelConfig
    mem_size : int
        Bytes of main memory modelled (addresses ``0 .. mem_size - 1``); at most the bus's
        addressable range.

    Members
    -------
    mem : ndarray of uint8
        Main memory.
    sp : ndarray of int64, shape (sp_rows, dim)
    acc : ndarray of int64, shape (acc_rows, cols)
    counters : dict of Counter to int
    error, err_funct7, err_funct3 : sticky error state (``error`` is an ErrorCause).
    error_index : int
        0, or 1 + the buffer index of the EXEC_BUFFER record that set the sticky error.
    window_base, window_last : int
        The DMA window: loads and stores may touch only bytes ``window_base .. window_last``.
    window_locked : bool
        LOCK_WINDOW has run since the last reset.
    act_per_channel : bool
        STORE_ACT uses ``act_multipliers[c]``/``act_shifts[c]`` for column ``c`` (set by
        CONFIG_ACT_CHANNELS) instead of ``act_multiplier``/``act_shift`` (set by CONFIG_ACT).
    act_multipliers, act_shifts : tuple of int, one per array column
        The per-column requantization registers.
    pool_kh, pool_kw, pool_sh, pool_sw, pool_mode, pool_in_pitch, pool_out_w, pool_multiplier,
    pool_shift, pool_zero_point : int
        The pooling registers of STORE_POOL (see `PoolingUnit`).
    """

    def __init__(self, config: AccelConfig, mem_size: int = 1 << 20):
        if not 1 <= mem_size <= config.mem_size_limit:
            raise ValueError(f"mem_size must be between 1 and {config.mem_size_limit}, "
                             f"not {mem_size!r}")
        self.config = config
        self.mem = np.zeros(mem_size, dtype=np.uint8)
        self.sp = np.zeros((config.sp_rows, config.dim), dtype=np.int64)
        self.acc = np.zeros((config.acc_rows, config.cols), dtype=np.int64)
        self.reset()

    def reset(self) -> None:
        """Reset registers (not memories) to their reset values."""
        self.load_stride, self.load_shift, self.load_flip = 0, 0, 0
        self.store_stride = 0
        self.act_multiplier = 1
        self.act_shift = 0
        self.act_function = Activation.NONE
        self.act_zero_point = 0
        self.act_per_channel = False
        self.act_multipliers = (1,) * self.config.cols
        self.act_shifts = (0,) * self.config.cols
        self.weights: tuple[int, int, int] | None = None
        self.error = ErrorCause.NONE
        self.err_funct7 = 0
        self.err_funct3 = 0
        self.error_index = 0
        self._record_position = 0   # 1 + index of the EXEC_BUFFER record running, else 0
        self.counters = {c: 0 for c in Counter}
        self.window_base = 0
        self.window_last = self.config.mem_size_limit - 1
        self.window_locked = False
        self.reset_pooling()

    # -- running ------------------------------------------------------------------------------

    def run(self, program: Iterable[Command], *, stop_on_error: bool = True) -> list[int]:
        """Execute commands in order; return the ``rd`` values of those that have one.

        Raises
        ------
        AccelError
            With ``stop_on_error`` (default), at the first failing instruction; the sticky error
            is set as the hardware would set it. Without it, errors only set the sticky state.
        """
        results: list[int] = []
        for index, cmd in enumerate(program):
            try:
                rd = self.execute(cmd)
            except AccelError as exc:
                exc.index = index
                exc.args = (f"instruction {index} ({cmd}): {exc.args[0]}",)
                if stop_on_error:
                    raise
                continue
            if rd is not None:
                results.append(rd)
        return results

    def responses(self, program: Iterable[Command]) -> list[int]:
        """Execute commands in order and return what a command port answers for each: ``rd``,
        or 0 for instructions without a result and for failed or discarded ones."""
        out = []
        for cmd in program:
            try:
                rd = self.execute(cmd)
            except AccelError:
                rd = None
            out.append(0 if rd is None else rd)
        return out

    def execute(self, cmd: Command) -> int | None:
        """Execute one command; return its ``rd`` value, or None when it has none.

        A failing command changes nothing but the sticky error, and raises `AccelError`.
        Discarded commands (while the error is set) return None (0 for those with a result).
        """
        try:
            ins, ops = decode(cmd)
        except IllegalInstruction as exc:
            if self.error != ErrorCause.NONE:
                return None  # discarded like every other instruction while the error is set
            self._fail(ErrorCause.ILLEGAL_INSTRUCTION, str(exc), cmd)
        if self.error != ErrorCause.NONE and ins.name not in ALWAYS_EXECUTED:
            return 0 if ins.has_result else None
        try:
            rd = getattr(self, f"_op_{ins.name}")(**ops)
        except BufferRecordError:
            raise   # the record set the sticky error itself
        except AccelError as exc:
            self._fail(exc.cause, exc.detail, cmd)
        if ins.name != "exec_buffer":  # EXEC_BUFFER counts itself before its records
            self.counters[Counter.INSTRUCTIONS] += 1
        return rd if ins.has_result else None

    def _fail(self, cause: ErrorCause, message: str, cmd: Command) -> None:
        if self.error == ErrorCause.NONE:
            self.error, self.err_funct7, self.err_funct3 = cause, cmd.funct7, cmd.funct3
            self.error_index = self._record_position
        raise AccelError(cause, message, cmd)

    @property
    def status(self) -> int:
        """The STATUS word (busy is always 0 here)."""
        return status_word({"busy": 0, "error": int(self.error != ErrorCause.NONE),
                            "cause": int(self.error), "err_funct7": self.err_funct7,
                            "err_funct3": self.err_funct3})

    # -- checks -------------------------------------------------------------------------------

    def _check_rows(self, what: str, addr: int, count: int) -> None:
        depth = self.config.sp_rows if what == "sp" else self.config.acc_rows
        cause = ErrorCause.SP_RANGE if what == "sp" else ErrorCause.ACC_RANGE
        if addr + count > depth:
            raise AccelError(cause, f"{what} rows {addr}..{addr + count - 1} exceed "
                                    f"{depth} rows")

    def _check_count(self, name: str, value: int, limit: int) -> None:
        if value > limit:
            raise AccelError(ErrorCause.SHAPE, f"{name}={value} exceeds {limit}")

    def _block(self, mem_addr: int, rows: int, cols: int, stride: int,
               elem_bytes: int) -> np.ndarray:
        """Byte offsets (rows, cols * elem_bytes) of a strided block, checked against memory
        (MEM_RANGE) and then against the DMA window (MEM_WINDOW).

        Strides are unsigned, so the block's bytes span ``mem_addr .. end - 1`` with ``end``
        below; every byte in that span that the block touches must pass both checks, and
        checking the span's two ends is enough.
        """
        end = mem_addr + (rows - 1) * stride + cols * elem_bytes
        self._check_span("block", mem_addr, end)
        starts = mem_addr + stride * np.arange(rows, dtype=np.int64)
        return starts[:, None] + np.arange(cols * elem_bytes, dtype=np.int64)[None, :]

    def _check_span(self, what: str, start: int, end: int) -> None:
        """Bytes ``[start, end)`` must lie in main memory (MEM_RANGE), then in the DMA window
        (MEM_WINDOW)."""
        if end > self.mem.size:
            raise AccelError(ErrorCause.MEM_RANGE,
                             f"{what} {start:#x}..{end - 1:#x} exceeds main memory "
                             f"({self.mem.size:#x} bytes)")
        if start < self.window_base or end - 1 > self.window_last:
            raise AccelError(ErrorCause.MEM_WINDOW,
                             f"{what} {start:#x}..{end - 1:#x} leaves the DMA window "
                             f"{self.window_base:#x}..{self.window_last:#x}")

    def read_block(self, mem_addr: int, rows: int, cols: int, stride: int,
                   elem_bytes: int) -> np.ndarray:
        """Signed little-endian elements of a strided block as int64 (rows, cols)."""
        raw = self.mem[self._block(mem_addr, rows, cols, stride, elem_bytes)]
        return np.ascontiguousarray(raw).view(_DTYPES[elem_bytes]).astype(np.int64)

    def write_block(self, mem_addr: int, values: np.ndarray, stride: int,
                    elem_bytes: int) -> None:
        """Write int64 values (rows, cols) as little-endian elements of a strided block."""
        rows, cols = values.shape
        offsets = self._block(mem_addr, rows, cols, stride, elem_bytes)
        raw = np.ascontiguousarray(values.astype(_DTYPES[elem_bytes])).view(np.uint8)
        # Row by row so that overlapping rows (small strides) resolve "last row wins".
        for r in range(rows):
            self.mem[offsets[r]] = raw[r]

    # -- configuration ------------------------------------------------------------------------

    def _op_config_load(self, stride: int) -> None:
        self.load_stride = stride

    def _op_config_load_codes(self, shift: int, flip: int) -> None:
        self.load_shift, self.load_flip = shift, flip

    def _load_codes(self, block: np.ndarray) -> np.ndarray:
        """The scratchpad load transform: unsigned codes shifted, sign bit flipped, wrapped."""
        cfg = self.config
        codes = block & ((1 << (8 * cfg.in_bytes)) - 1)
        return wrap((codes >> self.load_shift) ^ (self.load_flip << (cfg.input_width - 1)),
                    cfg.input_width)

    def _op_config_store(self, stride: int) -> None:
        self.store_stride = stride

    def _op_config_act(self, multiplier: int, shift: int, act: int, zero_point: int) -> None:
        self.act_multiplier, self.act_shift = multiplier, shift
        self.act_function, self.act_zero_point = Activation(act), zero_point
        self.act_per_channel = False

    def _op_config_window(self, base: int, last: int) -> None:
        if self.window_locked:
            raise AccelError(ErrorCause.WINDOW_LOCKED, "the DMA window is locked until reset")
        granule = self.config.bus_bytes
        if not base <= last < self.config.mem_size_limit or base % granule \
                or (last + 1) % granule:
            raise AccelError(ErrorCause.WINDOW_INVALID,
                             f"window {base:#x}..{last:#x} is not a range of whole "
                             f"{granule}-byte bus words inside the "
                             f"{self.config.mem_size_limit:#x}-byte address space")
        self.window_base, self.window_last = base, last

    def _op_lock_window(self) -> None:
        self.window_locked = True

    # -- loads --------------------------------------------------------------------------------

    def _op_load_sp(self, mem_addr: int, sp_addr: int, rows: int, cols: int) -> None:
        cfg = self.config
        self._check_count("cols", cols, cfg.dim)
        self._check_rows("sp", sp_addr, rows)
        block = self.read_block(mem_addr, rows, cols, self.load_stride, cfg.in_bytes)
        self.sp[sp_addr:sp_addr + rows, :cols] = self._load_codes(block)
        self.counters[Counter.LOAD_BYTES] += rows * cols * cfg.in_bytes

    def _op_load_sp_t(self, mem_addr: int, sp_addr: int, rows: int, cols: int) -> None:
        cfg = self.config
        self._check_count("rows", rows, cfg.dim)
        self._check_rows("sp", sp_addr, cols)
        block = self.read_block(mem_addr, rows, cols, self.load_stride, cfg.in_bytes)
        self.sp[sp_addr:sp_addr + cols, :rows] = self._load_codes(block).T
        self.counters[Counter.LOAD_BYTES] += rows * cols * cfg.in_bytes

    def _op_load_acc(self, mem_addr: int, acc_addr: int, rows: int, cols: int) -> None:
        cfg = self.config
        self._check_count("cols", cols, cfg.cols)
        self._check_rows("acc", acc_addr, rows)
        block = self.read_block(mem_addr, rows, cols, self.load_stride, cfg.acc_bytes)
        self.acc[acc_addr:acc_addr + rows, :cols] = wrap(block, cfg.acc_width)
        self.counters[Counter.LOAD_BYTES] += rows * cols * cfg.acc_bytes

    # -- stores -------------------------------------------------------------------------------

    def _op_store_sp(self, mem_addr: int, sp_addr: int, rows: int, cols: int) -> None:
        cfg = self.config
        self._check_count("cols", cols, cfg.dim)
        self._check_rows("sp", sp_addr, rows)
        self.write_block(mem_addr, self.sp[sp_addr:sp_addr + rows, :cols], self.store_stride,
                         cfg.in_bytes)
        self.counters[Counter.STORE_BYTES] += rows * cols * cfg.in_bytes

    def _op_store_acc(self, mem_addr: int, acc_addr: int, rows: int, cols: int) -> None:
        cfg = self.config
        self._check_count("cols", cols, cfg.cols)
        self._check_rows("acc", acc_addr, rows)
        self.write_block(mem_addr, self.acc[acc_addr:acc_addr + rows, :cols],
                         self.store_stride, cfg.acc_bytes)
        self.counters[Counter.STORE_BYTES] += rows * cols * cfg.acc_bytes

    def _op_store_act(self, mem_addr: int, acc_addr: int, rows: int, cols: int) -> None:
        cfg = self.config
        self._check_count("cols", cols, cfg.cols)
        self._check_rows("acc", acc_addr, rows)
        out = self._activate(self.acc[acc_addr:acc_addr + rows, :cols])
        self.write_block(mem_addr, out, self.store_stride, cfg.in_bytes)
        self.counters[Counter.STORE_BYTES] += rows * cols * cfg.in_bytes

    def _activate(self, values: np.ndarray) -> np.ndarray:
        """STORE_ACT's activation of accumulator values ``(..., cols)`` (columns 0..cols-1)."""
        cfg, cols = self.config, values.shape[-1]
        common = dict(relu=self.act_function == Activation.RELU, zero_point=self.act_zero_point,
                      acc_width=cfg.acc_width, out_width=cfg.input_width)
        if self.act_per_channel:
            return activate_channels(values, multipliers=self.act_multipliers[:cols],
                                     shifts=self.act_shifts[:cols], **common)
        return activate(values, multiplier=self.act_multiplier, shift=self.act_shift, **common)

    def _op_config_act_channels(self, act: int, zero_point: int, acc_addr: int) -> None:
        self._check_rows("acc", acc_addr, 2)
        # Python's & on a negative int acts on its infinite two's complement: the bits of the
        # sign-extended accumulator value, as the hardware takes them.
        self.act_multipliers = tuple(int(v) & ((1 << 31) - 1) for v in self.acc[acc_addr])
        self.act_shifts = tuple(int(v) & 63 for v in self.acc[acc_addr + 1])
        self.act_function, self.act_zero_point = Activation(act), zero_point
        self.act_per_channel = True

    # -- execute ------------------------------------------------------------------------------

    def _op_preload(self, b_addr: int, k: int, n: int) -> None:
        _, k_max, n_max = self.config.tile_limits
        self._check_count("k", k, k_max)
        self._check_count("n", n, n_max)
        self._check_rows("sp", b_addr, k)
        self.weights = (b_addr, k, n)

    def _matmul(self, a_addr: int, m: int, c_addr: int) -> tuple[np.ndarray, int, int]:
        cfg = self.config
        if self.weights is None:
            raise AccelError(ErrorCause.NO_WEIGHTS, "compute before any preload")
        b_addr, k, n = self.weights
        self._check_count("m", m, cfg.tile_limits[0])
        if cfg.dataflow is Dataflow.WS:
            self._check_rows("sp", a_addr, m)
            a = self.sp[a_addr:a_addr + m, :k]
        else:
            self._check_rows("sp", a_addr, k)
            a = self.sp[a_addr:a_addr + k, :m].T
        self._check_rows("acc", c_addr, m)
        b = self.sp[b_addr:b_addr + k, :n]
        self.counters[Counter.MACS] += m * k * n
        return a @ b, m, n

    def _op_compute(self, a_addr: int, m: int, c_addr: int) -> None:
        product, m, n = self._matmul(a_addr, m, c_addr)
        self.acc[c_addr:c_addr + m, :n] = wrap(product, self.config.acc_width)

    def _op_compute_acc(self, a_addr: int, m: int, c_addr: int) -> None:
        product, m, n = self._matmul(a_addr, m, c_addr)
        total = self.acc[c_addr:c_addr + m, :n] + product
        self.acc[c_addr:c_addr + m, :n] = wrap(total, self.config.acc_width)

    # -- control ------------------------------------------------------------------------------

    def _op_fence(self) -> None:
        return None

    def _op_status(self) -> int:
        return self.status

    def _op_clear_error(self) -> None:
        self.error, self.err_funct7, self.err_funct3 = ErrorCause.NONE, 0, 0
        self.error_index = 0

    def _op_error_index(self) -> int:
        return self.error_index

    def _op_exec_buffer(self, mem_addr: int, count: int) -> None:
        end = mem_addr + RECORD_BYTES * count
        if mem_addr % 4:
            raise AccelError(ErrorCause.MEM_RANGE, f"buffer {mem_addr:#x} is not word-aligned")
        self._check_span("buffer", mem_addr, end)
        self.counters[Counter.INSTRUCTIONS] += 1
        first: BufferRecordError | None = None
        for index in range(count):
            base = mem_addr + RECORD_BYTES * index
            words = self.mem[base:base + RECORD_BYTES].view("<u4")
            try:
                self._run_record(index, *(int(w) for w in words))
            except AccelError as exc:
                first = first or BufferRecordError(exc.cause, exc.detail, exc.command, index)
        if first is not None:
            raise first

    def _run_record(self, index: int, word: int, rs1: int, rs2: int) -> None:
        """Execute record ``index`` of the running EXEC_BUFFER (rd discarded)."""
        fields = split_word(word)
        cmd = Command(fields["funct7"], fields["funct3"], rs1, rs2)
        self._record_position = index + 1
        try:
            nested = cmd.instruction is BY_NAME["exec_buffer"]
            if fields["opcode"] != CUSTOM0_OPCODE or fields["rd"] or fields["rs1"] \
                    or fields["rs2"] or nested:
                if self.error != ErrorCause.NONE:
                    return  # discarded like every other instruction while the error is set
                what = "nested exec_buffer" if nested else \
                    f"word {word:#010x} is not a custom-0 R-type word with zero register fields"
                self._fail(ErrorCause.ILLEGAL_INSTRUCTION, what, cmd)
            self.execute(cmd)
        finally:
            self._record_position = 0

    def _counter(self, counter: int) -> int:
        if counter not in tuple(Counter):
            raise AccelError(ErrorCause.ILLEGAL_INSTRUCTION, f"no counter number {counter}")
        return self.counters[Counter(counter)]

    def _op_read_counter(self, counter: int) -> int:
        return self._counter(counter) & 0xFFFF_FFFF

    def _op_read_counter_hi(self, counter: int) -> int:
        return (self._counter(counter) >> 32) & 0xFFFF_FFFF

    def _op_reset_counters(self) -> None:
        for c in Counter:
            self.counters[c] = 0
        self.counters[Counter.INSTRUCTIONS] = -1  # this instruction is counted after it runs


def _check_dispatch(names: Sequence[str]) -> None:
    missing = [n for n in names if not hasattr(GoldenModel, f"_op_{n}")]
    if missing:
        raise ImportError(f"golden model lacks handlers for {', '.join(missing)}")


_check_dispatch([ins.name for ins in INSTRUCTIONS])
