"""Text assembler and disassembler."""

import random

import pytest

import struct

from accel.isa import (
    BY_CODE, CUSTOM0_OPCODE, INSTRUCTIONS, RECORD_BYTES, AssemblyError, Command, assemble,
    disassemble, disassemble_one, encode, from_records, records,
)


def random_command(rng):
    if rng.random() < 0.2:  # raw, usually illegal: unknown codes or reserved bits
        return Command(rng.randrange(128), rng.randrange(8), rng.getrandbits(32),
                       rng.getrandbits(32))
    ins = rng.choice(INSTRUCTIONS)
    ops = {f.name: rng.choice(f.choices) if f.choices else rng.randint(f.min_value, f.max_value)
           for f in ins.fields}
    return encode(ins.name, **ops)


def test_round_trip_random_programs():
    rng = random.Random(2024)
    raw_seen = 0
    for _ in range(50):
        program = [random_command(rng) for _ in range(rng.randint(0, 40))]
        text = disassemble(program)
        assert assemble(text) == program
        raw_seen += text.count(".raw")
    assert raw_seen > 0


def test_illegal_commands_disassemble_raw():
    for cmd in (Command(0x7F, 7, 0, 0), Command(0x16, 0, 1, 0),  # reserved bit of status
                Command(0x10, 2, 1, 2 << 6)):                    # reserved activation
        line = disassemble_one(cmd)
        assert line.startswith(".raw ")
        assert assemble(line) == [cmd]
    assert str(Command(0x15, 0)) == "fence"


def test_keyword_and_positional_forms():
    want = encode("load_sp", mem_addr=0x100, sp_addr=2, rows=4, cols=3)
    for text in ("load_sp mem_addr=0x100, sp_addr=2, rows=4, cols=3",
                 "load_sp cols=3, rows=4, sp_addr=2, mem_addr=256",
                 "load_sp 0x100, 2, 4, 3",
                 "LOAD_SP 0x100,2,4,3",
                 "  load_sp   0x1_00 ,  2 , 0b100 , 3  # trailing comment",
                 "load_sp\t0x100, 2, 4, 3"):
        assert assemble(text) == [want], text
    assert assemble("config_act 7, 3, 1, -5") == [
        encode("config_act", multiplier=7, shift=3, act=1, zero_point=-5)]
    assert assemble("fence\nstatus\n") == [encode("fence"), encode("status")]


def test_comments_and_blank_lines():
    text = """
    # a program
    config_load stride=16   # row stride

    fence
       # indented comment
    .raw 0x7f, 0, 0, 0
    """
    assert assemble(text) == [encode("config_load", stride=16), encode("fence"),
                              Command(0x7F, 0, 0, 0)]
    assert assemble("") == []
    assert assemble("# nothing\n\n") == []


@pytest.mark.parametrize("text, line, needle", [
    ("fence\nfrobnicate 1", 2, "frobnicate"),
    ("fence\n\nload_sp 0, 0, 4", 3, "cols"),
    ("load_sp 0, 0, 4, 300", 1, "cols"),
    ("# c\nconfig_load stride=1, stride=2", 2, "twice"),
    ("config_load 1, 2", 1, "operands"),
    ("config_load stride=zz", 1, "zz"),
    ("fence\nfence\nfence\ncompute a_addr=0, m=1, c_addr=0, x=1", 4, "x"),
    (".raw 1, 2, 3", 1, ".raw"),
    (".raw 0x80, 0, 0, 0", 1, "funct7"),
    ("status 1", 1, "operands"),
])
def test_errors_name_line(text, line, needle):
    with pytest.raises(AssemblyError) as exc:
        assemble(text)
    msg = str(exc.value)
    assert msg.startswith(f"line {line}: ")
    assert needle in msg
    assert "\n" not in msg
    assert isinstance(exc.value, ValueError)


def test_every_instruction_has_a_disassembly():
    rng = random.Random(5)
    for ins in INSTRUCTIONS:
        ops = {f.name: 1 if f.choices else rng.randint(f.min_value, f.max_value)
               for f in ins.fields}
        line = disassemble_one(encode(ins.name, **ops))
        assert line.split()[0] == ins.name
        assert assemble(line)[0].instruction is BY_CODE[(ins.funct7, ins.funct3)]


def test_records_round_trip_and_layout():
    rng = random.Random(17)
    program = [random_command(rng) for _ in range(30)]
    data = records(program)
    assert len(data) == RECORD_BYTES * len(program)
    assert from_records(data) == program
    word, rs1, rs2 = struct.unpack_from("<III", data, RECORD_BYTES * 3)
    cmd = program[3]
    assert word == (cmd.funct7 << 25) | (cmd.funct3 << 12) | CUSTOM0_OPCODE
    assert (rs1, rs2) == (cmd.rs1, cmd.rs2)
    assert records([]) == b"" and from_records(b"") == []


@pytest.mark.parametrize("data, needle", [
    (b"\0" * 13, "multiple of 12"),
    (struct.pack("<III", 0x33, 0, 0), "record 0"),
    (records([encode("fence")]) + struct.pack("<III", CUSTOM0_OPCODE | (5 << 7), 0, 0),
     "record 1"),
])
def test_from_records_refuses_bad_records(data, needle):
    with pytest.raises(ValueError, match=needle):
        from_records(data)
