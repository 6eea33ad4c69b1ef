"""The hardware instruction decoder, generated from the ISA spec.

`Op` (an Amaranth enum with one member per instruction plus ``ILLEGAL``), `COMMAND_LAYOUT` (what
the command port carries), `OPERANDS_LAYOUT` (every operand field of every instruction, decoded:
offsets applied, signed fields sign-extended) and the combinational `Decoder` all come from
`accel.isa.spec.INSTRUCTIONS`; nothing here names an instruction by hand.
"""

import types

from amaranth import Cat, Module, Shape, signed, unsigned
from amaranth.lib import data, enum, wiring
from amaranth.lib.wiring import In, Out

from accel.isa.spec import INSTRUCTIONS, Field

__all__ = ["Op", "COMMAND_LAYOUT", "RESPONSE_LAYOUT", "OPERANDS_LAYOUT", "Decoder",
           "operand_shape"]

#: What a command port carries: the two select codes and the two operand register values.
COMMAND_LAYOUT = data.StructLayout({"funct7": 7, "funct3": 3, "rs1": 32, "rs2": 32})

#: What a response port carries: the value written to ``rd`` (0 for instructions without one).
RESPONSE_LAYOUT = data.StructLayout({"rd": 32})


def _op_enum() -> type:
    members = {ins.name.upper(): index for index, ins in enumerate(INSTRUCTIONS)}
    members["ILLEGAL"] = len(INSTRUCTIONS)
    shape = unsigned(len(members).bit_length())
    return types.new_class("Op", (enum.Enum,), {"shape": shape},
                           lambda ns: ns.update(members))


#: One member per instruction (upper-case mnemonic), plus ``ILLEGAL``.
Op = _op_enum()


def operand_shape(field: Field) -> Shape:
    """The shape that holds every decoded value of ``field``."""
    if field.signed:
        return signed(max(field.width, field.max_value.bit_length() + 1))
    return unsigned(max(1, field.max_value.bit_length()))


def _operands_layout() -> data.StructLayout:
    shapes: dict[str, Shape] = {}
    for ins in INSTRUCTIONS:
        for f in ins.fields:
            shape = operand_shape(f)
            if f.name in shapes:
                old = shapes[f.name]
                if old.signed != shape.signed:
                    raise ValueError(f"field {f.name} is signed in one instruction only")
                shape = Shape(max(old.width, shape.width), shape.signed)
            shapes[f.name] = shape
    return data.StructLayout(dict(sorted(shapes.items())))


#: Every operand field name of the ISA, holding decoded values.
OPERANDS_LAYOUT = _operands_layout()


class Decoder(wiring.Component):
    """Combinational decoder of one command.

    Members
    -------
    command : In(COMMAND_LAYOUT)
    op : Out(Op)
        The instruction, or ``Op.ILLEGAL`` when no instruction has these codes, a reserved operand
        bit is set, or a field holds a reserved value.
    operands : Out(OPERANDS_LAYOUT)
        Decoded fields of ``op`` (offsets applied); fields ``op`` does not have read as 0.
    """

    command: In(COMMAND_LAYOUT)
    op: Out(Op)
    operands: Out(OPERANDS_LAYOUT)

    def elaborate(self, platform):
        m = Module()
        cmd = self.command
        regs = {"rs1": cmd.rs1, "rs2": cmd.rs2}
        m.d.comb += self.op.eq(Op.ILLEGAL)
        with m.Switch(Cat(cmd.funct3, cmd.funct7)):
            for ins in INSTRUCTIONS:
                with m.Case(ins.funct3 | (ins.funct7 << 3)):
                    legal = ((regs["rs1"] & ins.reserved_mask("rs1")) == 0) & \
                            ((regs["rs2"] & ins.reserved_mask("rs2")) == 0)
                    for f in ins.fields:
                        raw = regs[f.reg][f.lsb:f.lsb + f.width]
                        value = raw.as_signed() if f.signed else raw
                        m.d.comb += getattr(self.operands, f.name).eq(value + f.offset)
                        if f.choices is not None:
                            allowed = 0
                            for choice in f.choices:
                                allowed = allowed | (raw == choice)
                            legal = legal & allowed
                    with m.If(legal):
                        m.d.comb += self.op.eq(Op[ins.name.upper()])
        return m
