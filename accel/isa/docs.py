"""Render the Markdown ISA reference (`docs/isa.md`) from the ISA spec.

The committed page is checked against this renderer by a test; regenerate it with
``accelgen isa docs > docs/isa.md``.
"""

from __future__ import annotations

from accel.isa.spec import (
    ALWAYS_EXECUTED, COUNTER_DOCS, CUSTOM0_OPCODE, ERROR_CAUSE_DOCS, INSTRUCTIONS, ISA_VERSION,
    STATUS_BITS, Activation, Counter, ErrorCause,
)

__all__ = ["render_markdown"]


def _bits(lsb: int, width: int) -> str:
    return f"[{lsb}]" if width == 1 else f"[{lsb + width - 1}:{lsb}]"


def render_markdown() -> str:
    """The ISA reference page."""
    out = [
        "# accelgen ISA reference",
        "",
        f"ISA version {ISA_VERSION}. Generated from `accel/isa/spec.py` by "
        "`python -m accel.isa.docs`; do not edit by hand.",
        "",
        "## Encoding",
        "",
        f"Every instruction is a RISC-V R-type word with major opcode custom-0 "
        f"(`{CUSTOM0_OPCODE:#09b}`): `funct7[31:25] rs2[24:20] rs1[19:15] funct3[14:12] "
        "rd[11:7] opcode[6:0]`. `funct7` and `funct3` select the operation; the 32-bit values "
        "of `rs1` and `rs2` carry the operand fields below; `rd` receives the result where an "
        "instruction has one (otherwise write `x0`). Operand bits not covered by a field are "
        "reserved and must be zero. Counts are stored minus one (a count field of 8 bits holds "
        "1..256). In C: `.insn r CUSTOM_0, funct3, funct7, rd, rs1, rs2`.",
        "",
        "## Programmer's model",
        "",
        "- Scratchpad: `sp_rows` rows of `dim = max(rows, cols)` signed `input_width` elements.",
        "- Accumulator: `acc_rows` rows of `cols` signed `acc_width` elements. Every write wraps "
        "modulo `2**acc_width` (`wrap_acc`); scratchpad writes wrap modulo `2**input_width` "
        "(`wrap_in`).",
        "- Main memory: byte addressed, little endian. Input elements take `in_bytes` (1 for "
        "int8), accumulator elements `acc_bytes` (4 for int32); stored values are "
        "sign-extended.",
        "- DMA window: loads and stores may touch only the main-memory bytes inside a window "
        "of whole bus words, set by `config_window` and locked until reset by `lock_window`. "
        "At reset the window is the whole addressable memory, unlocked.",
        "- Programs have sequential semantics: the result is that of executing the "
        "instructions one at a time, in order. Hardware may overlap loads, computes and stores "
        "only where that cannot change a result.",
        "- Errors are sticky: an instruction that fails has no effect at all, and sets "
        "`error`, `cause` and the failing instruction's codes in the status word. While the "
        "error is set, every instruction except "
        + ", ".join(f"`{n}`" for n in sorted(ALWAYS_EXECUTED))
        + " is discarded; `clear_error` resumes normal execution.",
        "- Dataflow. Weight-stationary (`ws`): PRELOAD holds a `k x n` tile (`k <= rows`, "
        "`n <= cols`) in the array and COMPUTE streams up to 256 rows of A. Output-stationary "
        "(`os`): the `m x n` output tile (`m <= rows`, `n <= cols`) is held in the array and "
        "COMPUTE streams `k <= 256`; A is stored transposed (see `load_sp_t`).",
        "",
        "## Instructions",
        "",
        "| mnemonic | funct7 | funct3 | unit | rd | summary |",
        "|---|---|---|---|---|---|",
    ]
    for ins in INSTRUCTIONS:
        out.append(f"| `{ins.name}` | `{ins.funct7:#04x}` | `{ins.funct3}` | {ins.unit} | "
                   f"{'yes' if ins.has_result else '-'} | {ins.summary} |")
    for ins in INSTRUCTIONS:
        out += ["", f"### `{ins.name}`", "", ins.summary, ""]
        if ins.fields:
            out += ["| field | register bits | range | meaning |", "|---|---|---|---|"]
            for f in ins.fields:
                rng = f"{f.min_value}..{f.max_value}"
                extra = " (stored minus one)" if f.offset == 1 else ""
                extra += " (signed)" if f.signed else ""
                out.append(f"| `{f.name}` | `{f.reg}{_bits(f.lsb, f.width)}` | {rng}{extra} | "
                           f"{f.doc} |")
            out.append("")
        else:
            out += ["No operands.", ""]
        out.append(f"Semantics: {ins.semantics}")
    out += ["", "## Status word", "", "| field | bits |", "|---|---|"]
    out += [f"| `{name}` | `{_bits(lsb, width)}` |" for name, (lsb, width) in STATUS_BITS.items()]
    out += ["", "## Error causes", "", "| code | name | meaning |", "|---|---|---|"]
    for cause in ErrorCause:
        doc = ERROR_CAUSE_DOCS[cause]
        out.append(f"| {cause.value} | `{cause.name}` | {doc} |")
    out += ["", "## Performance counters", "", "| number | name | meaning |", "|---|---|---|"]
    for counter in Counter:
        out.append(f"| {counter.value} | `{counter.name}` | {COUNTER_DOCS[counter]} |")
    out += ["", "## Activation functions", "", "| code | name |", "|---|---|"]
    out += [f"| {a.value} | `{a.name}` |" for a in Activation]
    out.append("")
    return "\n".join(out)


if __name__ == "__main__":
    print(render_markdown(), end="")
