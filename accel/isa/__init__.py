"""The accelgen ISA: one spec (`spec`) and everything derived from it."""

from accel.isa.assembler import (AssemblyError, assemble, disassemble, disassemble_one,
                                 from_records, records)
from accel.isa.cheader import render_c_header
from accel.isa.docs import render_markdown
from accel.isa.encoding import Command, IllegalInstruction, decode, encode, riscv_word, split_word
from accel.isa.spec import (
    BY_CODE, BY_NAME, CUSTOM0_OPCODE, INSTRUCTIONS, ISA_VERSION, RECORD_BYTES, STATUS_BITS,
    Activation, Counter, ErrorCause, Field, Instruction, Unit,
)
from accel.isa.status import STATUS_FIELDS, decode_status, status_word

__all__ = [
    "Activation", "AssemblyError", "BY_CODE", "BY_NAME", "CUSTOM0_OPCODE", "Command", "Counter",
    "ErrorCause", "Field", "IllegalInstruction", "INSTRUCTIONS", "ISA_VERSION", "Instruction",
    "RECORD_BYTES", "STATUS_BITS", "STATUS_FIELDS", "assemble", "decode", "decode_status",
    "disassemble", "disassemble_one", "encode", "from_records", "records", "Unit",
    "render_c_header", "render_markdown", "riscv_word", "split_word", "status_word",
]
