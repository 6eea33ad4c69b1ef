"""Formal: every command decodes to exactly one operation, or to ILLEGAL, as the ISA spec says.

The property is built from `accel.isa.spec.INSTRUCTIONS` alone — select codes, field masks,
signedness, offsets and reserved values — not from the decoder's code: an instruction is
expected exactly when its funct7/funct3 match, every bit of rs1/rs2 outside its fields is zero
and every field with ``choices`` holds one of them. The solver checks all 2**74 inputs the
decoder sees (funct7, funct3 and the two 32-bit operand values; the opcode is checked before
the decoder, by the PCPI bridge, see test_pcpi.py). The decoder is combinational: prove mode at
depth 1 is a complete proof.
"""

import pytest
from amaranth.asserts import AnySeq
from amaranth.hdl import Assert, Cat, Cover, Elaboratable, Module, Signal

from accel.isa.decoder import COMMAND_LAYOUT, OPERANDS_LAYOUT, Decoder, Op
from accel.isa.spec import BY_NAME, INSTRUCTIONS
from accel.verify.formal import run_sby

pytestmark = pytest.mark.formal

MASK32 = 0xFFFF_FFFF


def _spec_match(command, ins):
    """True when the spec says ``command`` is a legal ``ins``."""
    regs = {"rs1": command.rs1, "rs2": command.rs2}
    match = (command.funct7 == ins.funct7) & (command.funct3 == ins.funct3)
    for reg, value in regs.items():
        used = 0
        for f in ins.fields:
            if f.reg == reg:
                used |= f.mask
        match &= (value & (MASK32 & ~used)) == 0
    for f in ins.fields:
        if f.choices is not None:
            raw = (regs[f.reg] >> f.lsb)[:f.width]
            match &= Cat(*(raw == choice for choice in f.choices)).any()
    return match


def _spec_value(command, field):
    """The operand value the spec assigns to ``field`` of ``command``."""
    raw = (getattr(command, field.reg) >> field.lsb)[:field.width]
    return (raw.as_signed() if field.signed else raw) + field.offset


class DecoderProperties(Elaboratable):
    """Any command into ``decoder``; its op and operands checked against the spec.

    ``feed`` maps the free command to what the decoder is given (identity for the real proof;
    the failing test passes a corrupting one).
    """

    def __init__(self, decoder, feed=None):
        self.decoder = decoder
        self.feed = feed

    def elaborate(self, platform):
        m = Module()
        m.submodules.decoder = decoder = self.decoder
        command = Signal(COMMAND_LAYOUT)
        m.d.comb += command.eq(AnySeq(COMMAND_LAYOUT.size))
        fed = command if self.feed is None else self.feed(m, command)
        m.d.comb += decoder.command.eq(fed)
        op, operands = decoder.op, decoder.operands

        hits = Cat(*(op == member for member in Op))
        m.d.comb += Assert((hits != 0) & ((hits & (hits - 1)) == 0),
                           "exactly one of the operations or ILLEGAL")

        matches = []
        for ins in INSTRUCTIONS:
            member = Op[ins.name.upper()]
            match = Signal(name=f"spec_{ins.name}")
            m.d.comb += match.eq(_spec_match(command, ins))
            matches.append(match)
            m.d.comb += [
                Assert((op == member) == match, f"{ins.name}: decoded exactly when the spec "
                                                 f"says so"),
                Cover(op == member, f"{ins.name} decodes"),
            ]
            own = {f.name for f in ins.fields}
            with m.If(op == member):
                for f in ins.fields:
                    m.d.comb += Assert(getattr(operands, f.name) == _spec_value(command, f),
                                       f"{ins.name}.{f.name}: the spec's value")
                for name in OPERANDS_LAYOUT.members:
                    if name not in own:
                        m.d.comb += Assert(getattr(operands, name) == 0,
                                           f"{ins.name}: operand {name} it lacks reads 0")
        m.d.comb += [
            Assert((op == Op.ILLEGAL) == ~Cat(*matches).any(),
                   "ILLEGAL exactly when no instruction matches"),
            Cover(op == Op.ILLEGAL, "ILLEGAL decodes"),
        ]
        return m


def test_every_command_decodes_as_the_spec_says(tmp_path):
    result = run_sby(DecoderProperties(Decoder()), mode="prove", depth=1, name="decoder",
                     workdir=tmp_path)
    assert result.passed, result.report()


def test_every_operation_and_illegal_is_reachable(tmp_path):
    result = run_sby(DecoderProperties(Decoder()), mode="cover", depth=1,
                     name="decoder_cover", workdir=tmp_path)
    assert result.passed, result.report()
    assert len(result.covered) == len(INSTRUCTIONS) + 1, result.report()


def _ignore_act_high_bit(m, command):
    """A wrong front end: clears the high bit of CONFIG_ACT's ``act`` field, so the reserved
    values 2 and 3 decode as 0 and 1."""
    act = BY_NAME["config_act"].field("act")
    fed = Signal(COMMAND_LAYOUT)
    m.d.comb += fed.eq(command)
    with m.If((command.funct7 == BY_NAME["config_act"].funct7) &
              (command.funct3 == BY_NAME["config_act"].funct3)):
        m.d.comb += fed.rs2[act.lsb + act.width - 1].eq(0)
    return fed


def test_decoder_that_ignores_a_reserved_value_fails(tmp_path):
    result = run_sby(DecoderProperties(Decoder(), feed=_ignore_act_high_bit), mode="prove",
                     depth=1, name="decoder_broken", workdir=tmp_path)
    assert result.status == "FAIL", result.report()
    assert result.failures[0].message.startswith("config_act"), result.report()
    assert result.failures[0].trace.is_file(), result.report()
