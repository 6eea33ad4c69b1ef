"""Encode and decode accelerator commands, derived from `accel.isa.spec`.

A `Command` is what the accelerator's command port receives: ``funct7``, ``funct3`` and the
32-bit values of ``rs1`` and ``rs2``. `Command.word` gives the RISC-V custom-0 instruction word
that carries it from a core (given the register numbers).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from accel.isa.spec import BY_CODE, BY_NAME, CUSTOM0_OPCODE, Instruction

__all__ = ["Command", "IllegalInstruction", "encode", "decode", "riscv_word", "split_word"]

MASK32 = 0xFFFF_FFFF


class IllegalInstruction(ValueError):
    """A command that no instruction of the ISA accepts (unknown code or reserved bits)."""


@dataclass(frozen=True)
class Command:
    """One accelerator command.

    Members
    -------
    funct7, funct3 : int
        Operation select.
    rs1, rs2 : int
        Operand register values, unsigned 32-bit.
    """

    funct7: int
    funct3: int
    rs1: int = 0
    rs2: int = 0

    def __post_init__(self) -> None:
        if not 0 <= self.funct7 < 128:
            raise ValueError(f"funct7 must be between 0 and 127, not {self.funct7!r}")
        if not 0 <= self.funct3 < 8:
            raise ValueError(f"funct3 must be between 0 and 7, not {self.funct3!r}")
        for reg in ("rs1", "rs2"):
            value = getattr(self, reg)
            if not 0 <= value <= MASK32:
                raise ValueError(f"{reg} must be an unsigned 32-bit value, not {value!r}")

    @property
    def instruction(self) -> Instruction | None:
        """The instruction with this command's codes, or None."""
        return BY_CODE.get((self.funct7, self.funct3))

    def word(self, rd: int = 0, rs1_reg: int = 10, rs2_reg: int = 11) -> int:
        """The RISC-V custom-0 R-type instruction word carrying this command."""
        return riscv_word(self.funct7, self.funct3, rd, rs1_reg, rs2_reg)

    def __str__(self) -> str:
        from accel.isa.assembler import disassemble_one
        return disassemble_one(self)


def riscv_word(funct7: int, funct3: int, rd: int, rs1: int, rs2: int) -> int:
    """Pack an R-type custom-0 instruction word from register numbers."""
    if not 0 <= funct7 < 128 or not 0 <= funct3 < 8:
        raise ValueError(f"funct7 must be 0..127 and funct3 0..7, not {funct7!r}, {funct3!r}")
    for name, value, bits in (("rd", rd, 5), ("rs1", rs1, 5), ("rs2", rs2, 5)):
        if not 0 <= value < (1 << bits):
            raise ValueError(f"{name} register number must be between 0 and 31, not {value!r}")
    return ((funct7 << 25) | (rs2 << 20) | (rs1 << 15) | (funct3 << 12) | (rd << 7)
            | CUSTOM0_OPCODE)


def split_word(word: int) -> dict[str, int]:
    """Unpack an R-type word into opcode, rd, funct3, rs1, rs2, funct7 (register numbers)."""
    return {
        "opcode": word & 0x7F, "rd": (word >> 7) & 0x1F, "funct3": (word >> 12) & 0x7,
        "rs1": (word >> 15) & 0x1F, "rs2": (word >> 20) & 0x1F, "funct7": (word >> 25) & 0x7F,
    }


def encode(name: str, **operands: int) -> Command:
    """Build the command for instruction ``name`` with the given operand values.

    Every field of the instruction must be given; counts are given as counts (1..256), not minus
    one.

    Raises
    ------
    ValueError
        On an unknown mnemonic, a missing or unknown operand, or a value the field cannot hold.
    """
    try:
        ins = BY_NAME[name]
    except KeyError:
        raise ValueError(f"unknown instruction {name!r}") from None
    names = {f.name for f in ins.fields}
    for key in operands:
        if key not in names:
            raise ValueError(f"{name} has no operand {key!r}; operands: "
                             f"{', '.join(f.name for f in ins.fields) or 'none'}")
    regs = {"rs1": 0, "rs2": 0}
    for f in ins.fields:
        if f.name not in operands:
            raise ValueError(f"{name} needs operand {f.name!r}")
        value = operands[f.name]
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{name} operand {f.name} must be an integer, not {value!r}")
        if not f.min_value <= value <= f.max_value:
            raise ValueError(f"{name} operand {f.name} must be between {f.min_value} and "
                             f"{f.max_value}, not {value}")
        if f.choices is not None and value not in f.choices:
            raise ValueError(f"{name} operand {f.name} must be one of "
                             f"{', '.join(map(str, f.choices))}, not {value}")
        stored = (value - f.offset) & ((1 << f.width) - 1)
        regs[f.reg] |= stored << f.lsb
    return Command(ins.funct7, ins.funct3, regs["rs1"], regs["rs2"])


def decode(cmd: Command) -> tuple[Instruction, dict[str, int]]:
    """The instruction and operand values a command carries.

    Raises
    ------
    IllegalInstruction
        On an unknown (funct7, funct3), a nonzero reserved operand bit, or a reserved field value.
    """
    ins = BY_CODE.get((cmd.funct7, cmd.funct3))
    if ins is None:
        raise IllegalInstruction(f"no instruction has funct7={cmd.funct7:#04x} "
                                 f"funct3={cmd.funct3}")
    regs = {"rs1": cmd.rs1, "rs2": cmd.rs2}
    for reg, value in regs.items():
        if value & ins.reserved_mask(reg):
            raise IllegalInstruction(f"{ins.name}: reserved bits of {reg} are set "
                                     f"({value & ins.reserved_mask(reg):#010x})")
    values: dict[str, int] = {}
    for f in ins.fields:
        raw = (regs[f.reg] >> f.lsb) & ((1 << f.width) - 1)
        if f.signed and raw >> (f.width - 1):
            raw -= 1 << f.width
        values[f.name] = raw + f.offset
        if f.choices is not None and values[f.name] not in f.choices:
            raise IllegalInstruction(f"{ins.name}: {f.name}={values[f.name]} is reserved")
    return ins, values


def operands_of(cmd: Command) -> Mapping[str, int]:
    """Operand values of a legal command (see `decode`)."""
    return decode(cmd)[1]
