"""The accelgen instruction set, defined once, as data.

Everything else derives from the tables in this file: the hardware decoder, the Python
encoder/assembler and disassembler, the golden model's dispatch, the firmware C header and the
Markdown ISA reference. Adding an instruction is one entry here plus its hardware and model
behaviour.

Instructions travel as RISC-V R-type words in the custom-0 major opcode: ``funct7`` and ``funct3``
select the operation, the values of ``rs1`` and ``rs2`` (32 bits each) carry the operands, and
``rd`` receives a result for instructions that have one.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

__all__ = [
    "ISA_VERSION", "CUSTOM0_OPCODE", "Unit", "Field", "Instruction", "INSTRUCTIONS", "BY_NAME",
    "BY_CODE", "ErrorCause", "ERROR_CAUSE_DOCS", "Counter", "COUNTER_DOCS", "Activation",
    "STATUS_BITS", "ALWAYS_EXECUTED", "RECORD_BYTES",
]

#: Bumped whenever an encoding or a semantic changes.
ISA_VERSION = "1.3"

#: RISC-V major opcode "custom-0". funct7 codes start at 0x10 so that PicoRV32's own custom-0
#: IRQ instructions (funct7 0..5, present when its IRQ support is enabled) never collide.
CUSTOM0_OPCODE = 0b0001011


class Unit(str, enum.Enum):
    """The part of the accelerator that executes an instruction.

    ``LOAD``, ``EXECUTE`` and ``STORE`` are the queued units that run concurrently (hazards are
    tracked between them); ``CONFIG`` and ``CONTROL`` instructions complete in the dispatcher.
    Members compare equal to, print and serialise as their strings.
    """

    __str__ = str.__str__
    __format__ = str.__format__

    CONFIG = "config"
    LOAD = "load"
    EXECUTE = "execute"
    STORE = "store"
    CONTROL = "control"


class ErrorCause(enum.IntEnum):
    """Codes of the sticky error cause, reported in STATUS bits [15:8]."""

    NONE = 0
    ILLEGAL_INSTRUCTION = 1
    SP_RANGE = 2
    ACC_RANGE = 3
    MEM_RANGE = 4
    SHAPE = 5
    NO_WEIGHTS = 6
    BUS_ERROR = 7
    MEM_WINDOW = 8
    WINDOW_LOCKED = 9
    WINDOW_INVALID = 10


#: One-line meaning of each member, for the docs and the C header.
ERROR_CAUSE_DOCS: dict[ErrorCause, str] = {
    ErrorCause.NONE: 'No error.',
    ErrorCause.ILLEGAL_INSTRUCTION:
        'Unknown funct7/funct3, a reserved field value, or a nonzero reserved operand bit.',
    ErrorCause.SP_RANGE: 'A scratchpad row address outside ``[0, sp_rows)``.',
    ErrorCause.ACC_RANGE: 'An accumulator row address outside ``[0, acc_rows)``.',
    ErrorCause.MEM_RANGE:
        'A load or store touching a main-memory byte outside the addressable memory.',
    ErrorCause.SHAPE: 'A row or column count beyond what the configuration allows.',
    ErrorCause.NO_WEIGHTS: 'COMPUTE issued before any PRELOAD.',
    ErrorCause.BUS_ERROR:
        "The DMA's bus transaction ended with an error, or the DMA's own window guard refused a "
        "bus word (hardware only; imprecise: later instructions may already have run).",
    ErrorCause.MEM_WINDOW:
        'A load or store touching a main-memory byte outside the DMA window (checked after '
        'MEM_RANGE).',
    ErrorCause.WINDOW_LOCKED:
        'CONFIG_WINDOW after LOCK_WINDOW (the window stays locked until reset).',
    ErrorCause.WINDOW_INVALID:
        'CONFIG_WINDOW operands that do not form a window: base > last, last beyond the '
        'addressable memory, or base or last + 1 not a multiple of the bus word '
        '(bus_width / 8 bytes).',
}


class Counter(enum.IntEnum):
    """Performance counters (64-bit) read by READ_COUNTER."""

    CYCLES = 0
    BUSY_CYCLES = 1
    MACS = 2
    INSTRUCTIONS = 3
    LOAD_BYTES = 4
    STORE_BYTES = 5


#: One-line meaning of each member, for the docs and the C header.
COUNTER_DOCS: dict[Counter, str] = {
    Counter.CYCLES:
        'Clock cycles since the last counter reset (golden model: always 0).',
    Counter.BUSY_CYCLES:
        'Cycles in which any unit was busy (golden model: always 0).',
    Counter.MACS: 'Useful multiply-accumulates performed by COMPUTE (m * k * n per instruction).',
    Counter.INSTRUCTIONS:
        "Instructions executed (not discarded), including this READ_COUNTER's predecessors.",
    Counter.LOAD_BYTES: 'Main-memory bytes read by loads (useful bytes, not bus beats).',
    Counter.STORE_BYTES: 'Main-memory bytes written by stores.',
}


class Activation(enum.IntEnum):
    """Activation function selected by CONFIG_ACT."""

    NONE = 0
    RELU = 1


#: STATUS word layout: name -> (lsb, width).
STATUS_BITS: dict[str, tuple[int, int]] = {
    "busy": (0, 1),
    "error": (1, 1),
    "cause": (8, 8),
    "err_funct7": (16, 7),
    "err_funct3": (23, 3),
}


@dataclass(frozen=True)
class Field:
    """One operand field packed into ``rs1`` or ``rs2``.

    Parameters
    ----------
    name : str
        Operand name used by the assembler, the C macros and the golden model.
    reg : {"rs1", "rs2"}
        Which source register value carries the field.
    lsb, width : int
        Bit position and width inside that 32-bit value.
    offset : int
        Stored value is ``value - offset`` (counts are stored minus one, so a count of 1..256
        fits in 8 bits).
    signed : bool
        Stored as two's complement.
    doc : str
        One-line meaning.
    choices : tuple of int, optional
        The only legal values (others are reserved: the instruction is illegal).
    """

    name: str
    reg: str
    lsb: int
    width: int
    doc: str
    offset: int = 0
    signed: bool = False
    choices: tuple[int, ...] | None = None

    @property
    def min_value(self) -> int:
        return (-(1 << (self.width - 1)) if self.signed else 0) + self.offset

    @property
    def max_value(self) -> int:
        return ((1 << (self.width - 1)) - 1 if self.signed else (1 << self.width) - 1) \
            + self.offset

    @property
    def mask(self) -> int:
        return ((1 << self.width) - 1) << self.lsb


@dataclass(frozen=True)
class Instruction:
    """One operation of the ISA.

    Parameters
    ----------
    name : str
        Mnemonic (lower case); the C wrapper is ``accel_<name>``.
    funct7, funct3 : int
        The selecting codes.
    unit : Unit
        Which controller unit executes it (hazard tracking and overlap are per unit).
    fields : tuple of Field
        Operands. Bits of rs1/rs2 not covered by a field are reserved and must be zero.
    has_result : bool
        Whether the instruction writes ``rd``.
    summary : str
        One line.
    semantics : str
        The exact meaning, as the golden model implements it.
    """

    name: str
    funct7: int
    funct3: int
    unit: Unit
    fields: tuple[Field, ...]
    has_result: bool
    summary: str
    semantics: str

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(f"{self.name} has no field {name!r}")

    def reserved_mask(self, reg: str) -> int:
        used = 0
        for f in self.fields:
            if f.reg == reg:
                used |= f.mask
        return 0xFFFF_FFFF & ~used


def _count(name: str, reg: str, lsb: int, doc: str) -> Field:
    return Field(name, reg, lsb, 8, doc, offset=1)


_MEM = Field("mem_addr", "rs1", 0, 32, "main-memory byte address of the first element")

INSTRUCTIONS: tuple[Instruction, ...] = (
    Instruction(
        "config_load", 0x10, 0, Unit.CONFIG,
        (Field("stride", "rs1", 0, 32, "byte distance between consecutive rows in main memory"),),
        False, "Set the main-memory row stride used by every load.",
        "load_stride := stride. A stride of 0 reads the same row again for every row "
        "(broadcast, e.g. a bias row into every accumulator row). Reset value: 0."),
    Instruction(
        "config_store", 0x10, 1, Unit.CONFIG,
        (Field("stride", "rs1", 0, 32, "byte distance between consecutive rows in main memory"),),
        False, "Set the main-memory row stride used by every store.",
        "store_stride := stride. Reset value: 0 (rows then overwrite each other; the last wins)."),
    Instruction(
        "config_act", 0x10, 2, Unit.CONFIG,
        (Field("multiplier", "rs1", 0, 31, "requantization multiplier (unsigned)"),
         Field("shift", "rs2", 0, 6, "requantization right shift (0..63)"),
         Field("act", "rs2", 6, 2, "activation: 0 none, 1 ReLU (2, 3 reserved)",
               choices=tuple(int(a) for a in Activation)),
         Field("zero_point", "rs2", 16, 16, "output zero point (signed)", signed=True)),
        False, "Set the activation unit used by STORE_ACT (per tensor).",
        "act_multiplier, act_shift, act_function, act_zero_point := operands; mode := "
        "per-tensor. An act value of 2 or 3 is illegal. Reset values: multiplier 1, shift 0, "
        "act none, zero point 0, per-tensor (identity with saturation)."),
    Instruction(
        "config_window", 0x10, 3, Unit.CONFIG,
        (Field("base", "rs1", 0, 32, "first main-memory byte address of the window"),
         Field("last", "rs2", 0, 32, "last main-memory byte address of the window (inclusive)")),
        False, "Set the main-memory window that loads and stores may touch.",
        "Fails with WINDOW_LOCKED once LOCK_WINDOW has run (checked first), and with "
        "WINDOW_INVALID unless base <= last < 2**mem_addr_width and base and last + 1 are "
        "multiples of the bus word (bus_width / 8 bytes, so that the DMA never reads a bus word "
        "reaching outside the window). Otherwise window := [base, last]. Every later load and "
        "store must lie inside the window: each byte it touches, mem_addr .. mem_addr + "
        "(rows - 1) * stride + cols * elem_bytes - 1, must be within [base, last], else it "
        "fails with MEM_WINDOW (checked after MEM_RANGE). Waits until every earlier instruction "
        "has completed, like FENCE. Reset value: the whole addressable memory, "
        "[0, 2**mem_addr_width - 1], unlocked."),
    Instruction(
        "lock_window", 0x10, 4, Unit.CONFIG,
        (),
        False, "Lock the main-memory window until reset.",
        "window_locked := 1: every later CONFIG_WINDOW fails with WINDOW_LOCKED. Only a reset "
        "of the accelerator unlocks the window. Locking a locked window changes nothing."),
    Instruction(
        "load_sp", 0x11, 0, Unit.LOAD,
        (_MEM,
         Field("sp_addr", "rs2", 0, 16, "first scratchpad row"),
         _count("rows", "rs2", 16, "rows to move (1..256)"),
         _count("cols", "rs2", 24, "elements per row (1..dim)")),
        False, "DMA a 2-D block from main memory into scratchpad rows.",
        "for r < rows, c < cols: sp[sp_addr + r][c] := wrap_in(mem_in[mem_addr + r * load_stride "
        "+ c * in_bytes]). Elements c >= cols of those rows are unchanged. Requires cols <= dim, "
        "sp_addr + rows <= sp_rows and the whole block inside main memory."),
    Instruction(
        "load_sp_t", 0x11, 1, Unit.LOAD,
        (_MEM,
         Field("sp_addr", "rs2", 0, 16, "first scratchpad row"),
         _count("rows", "rs2", 16, "main-memory rows to read (1..dim)"),
         _count("cols", "rs2", 24, "elements per main-memory row (1..256)")),
        False, "DMA a 2-D block into the scratchpad transposed.",
        "for r < rows, c < cols: sp[sp_addr + c][r] := wrap_in(mem_in[mem_addr + r * "
        "load_stride + c * in_bytes]). Elements r >= rows of those scratchpad rows are "
        "unchanged. Requires rows <= dim, sp_addr + cols <= sp_rows and the block inside main "
        "memory. Used to lay out the A operand for the output-stationary dataflow."),
    Instruction(
        "load_acc", 0x11, 2, Unit.LOAD,
        (_MEM,
         Field("acc_addr", "rs2", 0, 16, "first accumulator row"),
         _count("rows", "rs2", 16, "rows to move (1..256)"),
         _count("cols", "rs2", 24, "elements per row (1..array cols)")),
        False, "DMA a 2-D block of accumulator-width integers into accumulator rows.",
        "for r < rows, c < cols: acc[acc_addr + r][c] := wrap_acc(mem_acc[mem_addr + r * "
        "load_stride + c * acc_bytes]). Elements c >= cols unchanged. Requires cols <= cols of "
        "the array and acc_addr + rows <= acc_rows. With load_stride 0 this broadcasts a bias "
        "row."),
    Instruction(
        "store_sp", 0x12, 0, Unit.STORE,
        (_MEM,
         Field("sp_addr", "rs2", 0, 16, "first scratchpad row"),
         _count("rows", "rs2", 16, "rows to move (1..256)"),
         _count("cols", "rs2", 24, "elements per row (1..dim)")),
        False, "DMA scratchpad rows out to main memory.",
        "for r < rows, c < cols: mem_in[mem_addr + r * store_stride + c * in_bytes] := "
        "sp[sp_addr + r][c] (sign-extended to in_bytes). Requires cols <= dim and "
        "sp_addr + rows <= sp_rows."),
    Instruction(
        "store_acc", 0x12, 1, Unit.STORE,
        (_MEM,
         Field("acc_addr", "rs2", 0, 16, "first accumulator row"),
         _count("rows", "rs2", 16, "rows to move (1..256)"),
         _count("cols", "rs2", 24, "elements per row (1..array cols)")),
        False, "DMA raw accumulator rows out to main memory.",
        "for r < rows, c < cols: mem_acc[mem_addr + r * store_stride + c * acc_bytes] := "
        "acc[acc_addr + r][c] (sign-extended to acc_bytes)."),
    Instruction(
        "store_act", 0x12, 2, Unit.STORE,
        (_MEM,
         Field("acc_addr", "rs2", 0, 16, "first accumulator row"),
         _count("rows", "rs2", 16, "rows to move (1..256)"),
         _count("cols", "rs2", 24, "elements per row (1..array cols)")),
        False, "DMA accumulator rows out through the activation unit.",
        "for r < rows, c < cols: mem_in[mem_addr + r * store_stride + c * in_bytes] := "
        "activate(acc[acc_addr + r][c]), where activate(x) = saturate_in(relu?(round_shift(x * "
        "act_multiplier, act_shift)) + act_zero_point); round_shift(p, 0) = p and "
        "round_shift(p, s) = floor((p + 2**(s-1)) / 2**s) (round half up); relu?(y) = max(y, 0) "
        "when act is ReLU; saturate_in clamps to the signed input_width range. In per-channel mode "
        "(after CONFIG_ACT_CHANNELS) column c uses act_multiplier[c] and act_shift[c]; in "
        "per-tensor mode (after CONFIG_ACT, and at reset) every column uses act_multiplier and "
        "act_shift."),
    Instruction(
        "config_act_channels", 0x12, 3, Unit.STORE,
        (Field("act", "rs1", 6, 2, "activation: 0 none, 1 ReLU (2, 3 reserved)",
               choices=tuple(int(a) for a in Activation)),
         Field("zero_point", "rs1", 16, 16, "output zero point (signed)", signed=True),
         Field("acc_addr", "rs2", 0, 16, "accumulator row of the multipliers (the shifts "
               "follow in the next row)")),
        False, "Set per-column requantization for STORE_ACT from two accumulator rows.",
        "for c < array cols: act_multiplier[c] := acc[acc_addr][c] & (2**31 - 1); "
        "act_shift[c] := acc[acc_addr + 1][c] & 63 (two's complement bits of the "
        "sign-extended accumulator value); act_function, act_zero_point := operands; mode := "
        "per-channel. Executed by the store unit in program order with the other stores, so it "
        "never changes the settings of an earlier STORE_ACT. Requires acc_addr + 2 <= acc_rows "
        "(else ACC_RANGE). An act value of 2 or 3 is illegal. CONFIG_ACT sets mode := per-tensor. "
        "A LOAD_ACC of rows 2, cols n, with load_stride 4 * n, from a table of int32 multipliers "
        "followed by int32 shifts fills the two rows."),
    Instruction(
        "preload", 0x13, 0, Unit.EXECUTE,
        (Field("b_addr", "rs1", 0, 16, "first scratchpad row of the B (weight) operand"),
         _count("k", "rs1", 16, "reduction length (rows of B)"),
         _count("n", "rs1", 24, "output columns (elements of each B row)")),
        False, "Select the B operand of the following COMPUTEs.",
        "weights := (b_addr, k, n): B[kk][j] = sp[b_addr + kk][j] for kk < k, j < n, read when "
        "each COMPUTE executes. Requires k <= tile k limit (ws: rows; os: 256), n <= cols and "
        "b_addr + k <= sp_rows."),
    Instruction(
        "compute", 0x14, 0, Unit.EXECUTE,
        (Field("a_addr", "rs1", 0, 16, "first scratchpad row of the A operand"),
         _count("m", "rs1", 16, "output rows"),
         Field("c_addr", "rs2", 0, 16, "first accumulator row of the result")),
        False, "Multiply A by the preloaded B and overwrite accumulator rows.",
        "For i < m, j < n: acc[c_addr + i][j] := wrap_acc(sum over kk < k of A[i][kk] * "
        "B[kk][j]). A's layout follows the dataflow: ws: A[i][kk] = sp[a_addr + i][kk] "
        "(row-major, requires a_addr + m <= sp_rows, m <= 256); os: A[i][kk] = "
        "sp[a_addr + kk][i] (stored transposed, requires a_addr + k <= sp_rows, m <= rows). "
        "Requires c_addr + m <= acc_rows and a preceding PRELOAD. Elements j >= n unchanged."),
    Instruction(
        "compute_acc", 0x14, 1, Unit.EXECUTE,
        (Field("a_addr", "rs1", 0, 16, "first scratchpad row of the A operand"),
         _count("m", "rs1", 16, "output rows"),
         Field("c_addr", "rs2", 0, 16, "first accumulator row of the result")),
        False, "Multiply A by the preloaded B and add into accumulator rows.",
        "As COMPUTE, but acc[c_addr + i][j] := wrap_acc(acc[c_addr + i][j] + sum ...)."),
    Instruction(
        "fence", 0x15, 0, Unit.CONTROL,
        (),
        False, "Wait until every earlier instruction has completed.",
        "No architectural effect: returns once all earlier loads, computes and stores are "
        "complete and their main-memory writes are visible to the core."),
    Instruction(
        "status", 0x16, 0, Unit.CONTROL,
        (),
        True, "Read the status word.",
        "rd := busy | error << 1 | cause << 8 | err_funct7 << 16 | err_funct3 << 23, where cause "
        "and err_funct7/err_funct3 identify the first instruction that failed since the error "
        "was last cleared. The golden model reports busy = 0."),
    Instruction(
        "clear_error", 0x16, 1, Unit.CONTROL,
        (),
        False, "Clear the sticky error.",
        "error, cause, err_funct7, err_funct3, error_index := 0. While the error is set, every "
        "instruction other than status, clear_error, error_index, read_counter, "
        "read_counter_hi and reset_counters is discarded "
        "(no effect at all)."),
    Instruction(
        "read_counter", 0x17, 0, Unit.CONTROL,
        (Field("counter", "rs1", 0, 8, "counter number (see Counter)"),),
        True, "Read the low 32 bits of a performance counter.",
        "rd := counters[counter] mod 2**32. An unknown counter number is illegal."),
    Instruction(
        "read_counter_hi", 0x17, 1, Unit.CONTROL,
        (Field("counter", "rs1", 0, 8, "counter number (see Counter)"),),
        True, "Read the high 32 bits of a performance counter.",
        "rd := counters[counter] >> 32 (mod 2**32). An unknown counter number is illegal."),
    Instruction(
        "reset_counters", 0x17, 2, Unit.CONTROL,
        (),
        False, "Zero every performance counter.",
        "counters[*] := 0."),
    Instruction(
        "exec_buffer", 0x18, 0, Unit.CONTROL,
        (Field("mem_addr", "rs1", 0, 32, "main-memory byte address of the first record (a "
               "multiple of 4)"),
         Field("count", "rs2", 0, 16, "records to execute (1..65536)", offset=1)),
        False, "Execute a program of records fetched from main memory (a command buffer).",
        "A record is 12 bytes, three little-endian 32-bit words: an R-type custom-0 instruction "
        "word (opcode CUSTOM0_OPCODE, its funct3 and funct7; its rd, rs1 and rs2 register "
        "fields zero), the rs1 value and the rs2 value. For i < count, record i (at mem_addr + "
        "12 * i) is executed exactly as if the core had issued it, in order, except that its rd "
        "result is discarded. A record that is not a custom-0 word, has a nonzero register "
        "field, is unknown or is itself EXEC_BUFFER (no nesting) fails with "
        "ILLEGAL_INSTRUCTION. When record i fails, the sticky error is set as usual (cause, "
        "err_funct7/err_funct3 of the record) and error_index := i + 1; the remaining records "
        "are discarded like every instruction while the error is set (a CLEAR_ERROR record "
        "still clears it). Checked when EXEC_BUFFER itself executes (it then fails like any "
        "instruction, error_index 0, and runs no record): MEM_RANGE unless mem_addr is a "
        "multiple of 4 and the buffer [mem_addr, mem_addr + 12 * count) lies inside main "
        "memory, then MEM_WINDOW unless it lies inside the DMA window. The accelerator fetches "
        "the records over its own bus master, prefetching ahead of the dispatcher; EXEC_BUFFER "
        "returns once every record has been dispatched (not necessarily completed: FENCE waits "
        "for that). It sees every earlier store; its records must not be overwritten by the "
        "buffer's own stores. INSTRUCTIONS counts EXEC_BUFFER itself (first) and then every "
        "record executed."),
    Instruction(
        "error_index", 0x16, 2, Unit.CONTROL,
        (),
        True, "Read the buffer position of the instruction that set the sticky error.",
        "rd := error_index: 0 when no error is set or the failing instruction was issued "
        "directly (or the error is a BUS_ERROR), else 1 + the index in its buffer of the "
        "EXEC_BUFFER record that failed. CLEAR_ERROR sets it to 0. Never discarded."),
)

BY_NAME: dict[str, Instruction] = {ins.name: ins for ins in INSTRUCTIONS}
BY_CODE: dict[tuple[int, int], Instruction] = {(ins.funct7, ins.funct3): ins
                                               for ins in INSTRUCTIONS}

#: Instructions that still execute while the sticky error is set.
ALWAYS_EXECUTED = frozenset({"status", "clear_error", "read_counter", "read_counter_hi",
                             "reset_counters", "error_index"})

#: Bytes of one EXEC_BUFFER record (instruction word, rs1 value, rs2 value).
RECORD_BYTES = 12


def _check_tables() -> None:
    assert len(BY_NAME) == len(INSTRUCTIONS), "duplicate mnemonic"
    assert len(BY_CODE) == len(INSTRUCTIONS), "duplicate (funct7, funct3)"
    for ins in INSTRUCTIONS:
        assert 0 <= ins.funct7 < 128 and 0 <= ins.funct3 < 8
        for reg in ("rs1", "rs2"):
            used = 0
            for f in ins.fields:
                if f.reg == reg:
                    assert f.lsb + f.width <= 32, (ins.name, f.name)
                    assert not used & f.mask, (ins.name, f.name)
                    used |= f.mask


_check_tables()
