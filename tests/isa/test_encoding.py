"""Encoding and decoding of accelerator commands against the ISA spec tables."""

import random

import pytest

from accel.isa import (
    BY_CODE, BY_NAME, CUSTOM0_OPCODE, INSTRUCTIONS, Command, IllegalInstruction,
    decode, encode, riscv_word, split_word,
)


def random_operands(ins, rng):
    """Random legal operand values (a field with choices takes one of them)."""
    return {f.name: rng.choice(f.choices) if f.choices else rng.randint(f.min_value, f.max_value)
            for f in ins.fields}


@pytest.mark.parametrize("ins", INSTRUCTIONS, ids=lambda i: i.name)
def test_round_trip_random(ins):
    rng = random.Random(f"rt-{ins.name}")
    for _ in range(200):
        ops = random_operands(ins, rng)
        cmd = encode(ins.name, **ops)
        assert (cmd.funct7, cmd.funct3) == (ins.funct7, ins.funct3)
        assert cmd.instruction is ins
        got_ins, got_ops = decode(cmd)
        assert got_ins is ins
        assert got_ops == ops
        # no reserved bit is ever set by the encoder
        assert cmd.rs1 & ins.reserved_mask("rs1") == 0
        assert cmd.rs2 & ins.reserved_mask("rs2") == 0


@pytest.mark.parametrize("ins", INSTRUCTIONS, ids=lambda i: i.name)
def test_field_extremes(ins):
    for f in ins.fields:
        for value in (f.min_value, f.max_value):
            if f.choices is not None and value not in f.choices:
                continue
            ops = {g.name: (g.min_value if g is not f else value) for g in ins.fields}
            cmd = encode(ins.name, **ops)
            assert decode(cmd)[1] == ops
            reg = getattr(cmd, f.reg)
            stored = (reg >> f.lsb) & ((1 << f.width) - 1)
            assert stored == (value - f.offset) & ((1 << f.width) - 1)
        if f.width < 32 or f.offset or f.signed:
            assert f.max_value - f.min_value == (1 << f.width) - 1


@pytest.mark.parametrize("ins", [i for i in INSTRUCTIONS if i.fields], ids=lambda i: i.name)
def test_out_of_range_raises(ins):
    for f in ins.fields:
        base = {g.name: g.min_value for g in ins.fields}
        for bad in (f.min_value - 1, f.max_value + 1):
            with pytest.raises(ValueError) as exc:
                encode(ins.name, **(base | {f.name: bad}))
            msg = str(exc.value)
            assert "\n" not in msg
            assert f.name in msg and str(bad) in msg
            assert not isinstance(exc.value, IllegalInstruction)


def test_counts_stored_minus_one():
    cmd = encode("load_sp", mem_addr=0, sp_addr=0, rows=1, cols=256)
    assert (cmd.rs2 >> 16) & 0xFF == 0
    assert (cmd.rs2 >> 24) & 0xFF == 255
    cmd = encode("preload", b_addr=3, k=4, n=5)
    assert cmd.rs1 == 3 | (3 << 16) | (4 << 24)
    counts = [(i.name, f.name) for i in INSTRUCTIONS for f in i.fields if f.offset]
    assert ("compute", "m") in counts and ("load_sp_t", "rows") in counts
    for ins in INSTRUCTIONS:
        for f in ins.fields:
            if f.offset:
                assert (f.offset, f.min_value, f.max_value) == (1, 1, 1 << f.width)
    with pytest.raises(ValueError):
        encode("compute", a_addr=0, m=0, c_addr=0)


def test_signed_field():
    cmd = encode("config_act", multiplier=5, shift=3, act=1, zero_point=-1)
    assert cmd.rs1 == 5
    assert cmd.rs2 == 3 | (1 << 6) | (0xFFFF << 16)
    assert decode(cmd)[1]["zero_point"] == -1
    f = BY_NAME["config_act"].field("zero_point")
    assert (f.min_value, f.max_value) == (-32768, 32767)


def test_unknown_mnemonic_and_operands():
    with pytest.raises(ValueError, match="unknown instruction"):
        encode("frobnicate")
    with pytest.raises(ValueError, match="needs operand 'cols'"):
        encode("load_sp", mem_addr=0, sp_addr=0, rows=1)
    with pytest.raises(ValueError, match="no operand 'bogus'"):
        encode("fence", bogus=1)
    with pytest.raises(ValueError, match="integer"):
        encode("config_load", stride=1.5)
    with pytest.raises(ValueError, match="integer"):
        encode("config_load", stride=True)


def test_decode_unknown_code():
    rng = random.Random(1)
    unknown = [(f7, f3) for f7 in range(128) for f3 in range(8) if (f7, f3) not in BY_CODE]
    for f7, f3 in rng.sample(unknown, 50) + [(0, 0), (0x10, 3), (0x17, 3), (0x7F, 7)]:
        if (f7, f3) in BY_CODE:
            continue
        with pytest.raises(IllegalInstruction):
            decode(Command(f7, f3, 0, 0))


@pytest.mark.parametrize("ins", INSTRUCTIONS, ids=lambda i: i.name)
def test_decode_reserved_bits(ins):
    for reg in ("rs1", "rs2"):
        mask = ins.reserved_mask(reg)
        for bit in range(32):
            if mask >> bit & 1:
                kwargs = {"rs1": 0, "rs2": 0, reg: 1 << bit}
                with pytest.raises(IllegalInstruction, match="reserved"):
                    decode(Command(ins.funct7, ins.funct3, **kwargs))
    # instructions without operands: any nonzero register value is illegal
    if not ins.fields:
        assert ins.reserved_mask("rs1") == ins.reserved_mask("rs2") == 0xFFFF_FFFF


@pytest.mark.parametrize("name", ["config_act", "config_act_channels"])
def test_config_act_reserved_activation(name):
    ins = BY_NAME[name]
    act = ins.field("act")
    other = "rs1" if act.reg == "rs2" else "rs2"
    for value in (2, 3):
        with pytest.raises(IllegalInstruction, match="reserved"):
            decode(Command(ins.funct7, ins.funct3, **{act.reg: value << act.lsb, other: 1}))
    for value in (0, 1):
        cmd = Command(ins.funct7, ins.funct3, **{act.reg: value << act.lsb, other: 1})
        assert decode(cmd)[1]["act"] == value


def test_riscv_word_layout():
    rng = random.Random(7)
    for _ in range(200):
        f7, f3 = rng.randrange(128), rng.randrange(8)
        rd, rs1, rs2 = rng.randrange(32), rng.randrange(32), rng.randrange(32)
        word = riscv_word(f7, f3, rd, rs1, rs2)
        assert 0 <= word < 1 << 32
        expect = 0
        for value, lsb, width in ((CUSTOM0_OPCODE, 0, 7), (rd, 7, 5), (f3, 12, 3),
                                  (rs1, 15, 5), (rs2, 20, 5), (f7, 25, 7)):
            assert value < 1 << width
            expect += value * 2 ** lsb
        assert word == expect
        assert split_word(word) == {"opcode": CUSTOM0_OPCODE, "rd": rd, "funct3": f3,
                                    "rs1": rs1, "rs2": rs2, "funct7": f7}
    assert CUSTOM0_OPCODE == 0b0001011
    # hand-computed: .insn r CUSTOM_0, 2, 0x17, a0, a1, a2 -> 0x2EC5A50B
    assert riscv_word(0x17, 2, 10, 11, 12) == 0x2EC5A50B
    assert Command(0x10, 1).word(rd=0, rs1_reg=10, rs2_reg=11) == riscv_word(0x10, 1, 0, 10, 11)
    for bad in ((0, 0, 32, 0, 0), (0, 0, 0, -1, 0), (0, 0, 0, 0, 32), (128, 0, 0, 0, 0),
                (0, 8, 0, 0, 0)):
        with pytest.raises(ValueError):
            riscv_word(*bad)


def test_codes_unique_and_in_range():
    codes = [(i.funct7, i.funct3) for i in INSTRUCTIONS]
    assert len(set(codes)) == len(codes)
    assert len({i.name for i in INSTRUCTIONS}) == len(INSTRUCTIONS)
    for f7, f3 in codes:
        assert 0x10 <= f7 < 128 and 0 <= f3 < 8  # clear of PicoRV32's IRQ custom-0 ops
    for ins in INSTRUCTIONS:
        assert ins.name == ins.name.lower()
        for reg in ("rs1", "rs2"):
            used = 0
            for f in ins.fields:
                if f.reg == reg:
                    assert not used & f.mask
                    used |= f.mask
            assert used | ins.reserved_mask(reg) == 0xFFFF_FFFF


def test_command_validation():
    for bad in ((128, 0), (0, 8), (-1, 0)):
        with pytest.raises(ValueError):
            Command(*bad)
    with pytest.raises(ValueError, match="rs1"):
        Command(0x10, 0, 1 << 32, 0)
    with pytest.raises(ValueError, match="rs2"):
        Command(0x10, 0, 0, -1)
