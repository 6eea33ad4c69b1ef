"""Text assembler and disassembler for accelerator programs, derived from the ISA spec.

Syntax, one instruction per line, ``#`` starts a comment::

    config_load stride=64
    load_sp mem_addr=0x100, sp_addr=0, rows=4, cols=4
    load_sp 0x100, 0, 4, 4          # positional operands in field order
    .raw 0x7f, 0, 0x0, 0x0          # funct7, funct3, rs1, rs2 as given (may be illegal)

The disassembler writes the keyword form (``.raw`` for commands no instruction accepts), and
assembling its output gives back the same commands.

`records` turns a program into EXEC_BUFFER records (the bytes a command buffer holds in main
memory) and `from_records` reads them back.
"""

from __future__ import annotations

from typing import Iterable

import struct

from accel.isa.encoding import Command, IllegalInstruction, decode, encode, riscv_word, split_word
from accel.isa.spec import BY_NAME, CUSTOM0_OPCODE, RECORD_BYTES

__all__ = ["AssemblyError", "assemble", "disassemble", "disassemble_one", "records",
           "from_records"]


class AssemblyError(ValueError):
    """A line of assembly text cannot be assembled; the message names the line."""


def _parse_int(text: str) -> int:
    return int(text.strip().replace("_", ""), 0)


def _assemble_line(line: str) -> Command | None:
    code = line.split("#", 1)[0].strip()
    if not code:
        return None
    mnemonic, _, rest = code.replace("\t", " ").partition(" ")
    mnemonic = mnemonic.strip().lower()
    args = [a.strip() for a in rest.split(",")] if rest.strip() else []
    if mnemonic == ".raw":
        if len(args) != 4:
            raise ValueError(".raw takes funct7, funct3, rs1, rs2")
        return Command(*(_parse_int(a) for a in args))
    if mnemonic not in BY_NAME:
        raise ValueError(f"unknown instruction {mnemonic!r}")
    ins = BY_NAME[mnemonic]
    operands: dict[str, int] = {}
    for position, arg in enumerate(args):
        if "=" in arg:
            key, _, value = arg.partition("=")
            key = key.strip()
        else:
            if position >= len(ins.fields):
                raise ValueError(f"{mnemonic} takes {len(ins.fields)} operands, "
                                 f"not {len(args)}")
            key, value = ins.fields[position].name, arg
        if key in operands:
            raise ValueError(f"operand {key!r} given twice")
        operands[key] = _parse_int(value)
    return encode(mnemonic, **operands)


def assemble(text: str) -> list[Command]:
    """Assemble program text into commands.

    Raises
    ------
    AssemblyError
        Naming the line number and the problem.
    """
    program: list[Command] = []
    for number, line in enumerate(text.splitlines(), start=1):
        try:
            cmd = _assemble_line(line)
        except ValueError as exc:
            raise AssemblyError(f"line {number}: {exc}") from None
        if cmd is not None:
            program.append(cmd)
    return program


def disassemble_one(cmd: Command) -> str:
    """One command as a line of assembly."""
    try:
        ins, values = decode(cmd)
    except IllegalInstruction:
        return f".raw {cmd.funct7:#04x}, {cmd.funct3}, {cmd.rs1:#010x}, {cmd.rs2:#010x}"
    parts = []
    for f in ins.fields:
        value = values[f.name]
        parts.append(f"{f.name}={value:#x}" if f.name == "mem_addr" else f"{f.name}={value}")
    return ins.name + (" " + ", ".join(parts) if parts else "")


def disassemble(program: Iterable[Command]) -> str:
    """A program as assembly text, one instruction per line."""
    return "".join(disassemble_one(cmd) + "\n" for cmd in program)


def records(program: Iterable[Command]) -> bytes:
    """A program as EXEC_BUFFER records: per command, 12 bytes holding three little-endian
    32-bit words (the custom-0 instruction word with zero register fields, rs1, rs2)."""
    return b"".join(struct.pack("<III", riscv_word(cmd.funct7, cmd.funct3, 0, 0, 0), cmd.rs1,
                                cmd.rs2) for cmd in program)


def from_records(data: bytes) -> list[Command]:
    """The commands of EXEC_BUFFER records (the inverse of `records`).

    Raises
    ------
    ValueError
        When the length is not a whole number of records, or a record's word is not a custom-0
        R-type word with zero register fields (a record the accelerator would refuse).
    """
    if len(data) % RECORD_BYTES:
        raise ValueError(f"record data must be a multiple of {RECORD_BYTES} bytes, "
                         f"not {len(data)}")
    program = []
    for index in range(len(data) // RECORD_BYTES):
        word, rs1, rs2 = struct.unpack_from("<III", data, index * RECORD_BYTES)
        fields = split_word(word)
        if fields["opcode"] != CUSTOM0_OPCODE or fields["rd"] or fields["rs1"] or fields["rs2"]:
            raise ValueError(f"record {index}: word {word:#010x} is not a custom-0 R-type word "
                             f"with zero register fields")
        program.append(Command(fields["funct7"], fields["funct3"], rs1, rs2))
    return program
