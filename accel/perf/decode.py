"""A fast decoder for the model's inner loop, built from the ISA spec's tables.

`accel.isa.decode` re-derives every mask per call; the model decodes thousands of commands per
prediction, so this builds, once, per (funct7, funct3) the reserved-bit masks and the field
extractors, and memoizes decoded commands. Same results as `accel.isa.decode`.
"""

from __future__ import annotations

from accel.isa.encoding import Command, IllegalInstruction
from accel.isa.spec import BY_CODE, Instruction

__all__ = ["fast_decode"]


def _plan(ins: Instruction):
    fields = tuple((f.name, f.reg == "rs2", f.lsb, (1 << f.width) - 1, f.offset,
                    1 << (f.width - 1) if f.signed else 0, f.width, f.choices)
                   for f in ins.fields)
    return ins, ins.reserved_mask("rs1"), ins.reserved_mask("rs2"), fields


_PLANS = {code: _plan(ins) for code, ins in BY_CODE.items()}
_MEMO: dict[Command, tuple[Instruction, dict[str, int]]] = {}


def fast_decode(cmd: Command) -> tuple[Instruction, dict[str, int]]:
    """`accel.isa.decode`, memoized; do not modify the returned operands.

    Raises
    ------
    IllegalInstruction
    """
    hit = _MEMO.get(cmd)
    if hit is not None:
        return hit
    plan = _PLANS.get((cmd.funct7, cmd.funct3))
    if plan is None or cmd.rs1 & plan[1] or cmd.rs2 & plan[2]:
        raise IllegalInstruction(f"illegal command {cmd!r}")
    ins, _, _, fields = plan
    values = {}
    for name, in_rs2, lsb, mask, offset, sign, width, choices in fields:
        raw = ((cmd.rs2 if in_rs2 else cmd.rs1) >> lsb) & mask
        if sign and raw & sign:
            raw -= 1 << width
        values[name] = raw + offset
        if choices is not None and values[name] not in choices:
            raise IllegalInstruction(f"{ins.name}: {name}={values[name]} is reserved")
    if len(_MEMO) > 100_000:
        _MEMO.clear()
    _MEMO[cmd] = out = (ins, values)
    return out
