"""Render the firmware C header from the ISA spec and a configuration.

The header holds the configuration's geometry, the instruction codes, field macros, status and
error-cause constants, counter numbers, and one ``static inline`` wrapper per instruction that
issues it with ``.insn r CUSTOM_0`` (GNU assembler syntax, RV32), plus ``accel_issue`` and
``accel_issue_code``, which issue any instruction given by its codes (for command tables built
on the host). Output is deterministic.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from accel.isa.spec import (
    CUSTOM0_OPCODE, INSTRUCTIONS, ISA_VERSION, RECORD_BYTES, Activation, Counter, ErrorCause,
    Instruction,
)
from accel.isa.status import STATUS_FIELDS

if TYPE_CHECKING:
    from accel.config import AccelConfig

__all__ = ["render_c_header"]

_GEOMETRY = ("rows", "cols", "dim", "input_width", "acc_width", "in_bytes", "acc_bytes",
             "sp_rows", "acc_rows", "bus_width")


def _field_macros(ins: Instruction) -> list[str]:
    lines = []
    for f in ins.fields:
        base = f"ACCEL_{ins.name.upper()}_{f.name.upper()}"
        mask = (1 << f.width) - 1
        offset = f" - {f.offset}u" if f.offset else ""
        lines.append(f"#define {base}_LSB {f.lsb}")
        lines.append(f"#define {base}_WIDTH {f.width}")
        lines.append(f"#define {base}(v) ((((uint32_t)(v){offset}) & {mask:#x}u) << {f.lsb})")
    return lines


def _insn(ins: Instruction) -> str:
    """The ``.insn`` template (a C string-literal expression) issuing ``ins``."""
    upper = ins.name.upper()
    return (f'".insn r " ACCEL_STR(ACCEL_CUSTOM0) ", " ACCEL_STR(ACCEL_{upper}_FUNCT3) ", " '
            f'ACCEL_STR(ACCEL_{upper}_FUNCT7)')


def _wrapper(ins: Instruction) -> list[str]:
    params = ", ".join(("int32_t " if f.signed else "uint32_t ") + f.name for f in ins.fields)
    regs = {}
    for reg in ("rs1", "rs2"):
        parts = [f"ACCEL_{ins.name.upper()}_{f.name.upper()}({f.name})"
                 for f in ins.fields if f.reg == reg]
        regs[reg] = " | ".join(parts) if parts else "0u"
    ret = "uint32_t" if ins.has_result else "void"
    insn = _insn(ins)
    lines = [f"/** {ins.summary} */",
             f"static inline {ret} accel_{ins.name}({params or 'void'})", "{",
             f"    uint32_t rs1 = {regs['rs1']};",
             f"    uint32_t rs2 = {regs['rs2']};"]
    if ins.has_result:
        lines += ["    uint32_t rd;",
                  f'    __asm__ volatile ({insn} ", %0, %1, %2"',
                  '                      : "=r"(rd) : "r"(rs1), "r"(rs2) : "memory");',
                  "    return rd;"]
    else:
        lines += [f'    __asm__ volatile ({insn} ", x0, %0, %1"',
                  '                      : : "r"(rs1), "r"(rs2) : "memory");']
    lines.append("}")
    return lines


def _dispatch() -> list[str]:
    """``accel_issue_code`` / ``accel_issue``: issue a command given by its codes (one ``case``
    per instruction: ``.insn`` needs the codes at compile time)."""
    result = '"=r"(result) : "r"(rs1), "r"(rs2) : "memory");'
    lines = [
        "/* A command's codes in one number, as accel_issue_code takes them. */",
        "#define ACCEL_CODE(funct7, funct3) ((((uint32_t)(funct7) & 0x7fu) << 3) \\",
        "                                   | ((uint32_t)(funct3) & 0x7u))",
        "",
        "/** Issue the command ACCEL_CODE(funct7, funct3) with operands rs1, rs2 through PCPI,",
        " * e.g. from a table built on the host (accel.isa.encoding.Command). Returns 0 and stores",
        " * rd in *rd (0 for instructions without a result), or -1, issuing nothing, when no",
        " * instruction has this code. */",
        "static inline int accel_issue_code(uint32_t code, uint32_t rs1, uint32_t rs2,",
        "                                   uint32_t *rd)",
        "{",
        "    uint32_t result = 0;",
        "    switch (code) {",
    ]
    for ins in INSTRUCTIONS:
        upper = ins.name.upper()
        lines.append(f"    case ACCEL_CODE(ACCEL_{upper}_FUNCT7, ACCEL_{upper}_FUNCT3):")
        if ins.has_result:
            lines += [f'        __asm__ volatile ({_insn(ins)} ", %0, %1, %2"',
                      f"                          : {result}"]
        else:
            lines += [f'        __asm__ volatile ({_insn(ins)} ", x0, %0, %1"',
                      '                          : : "r"(rs1), "r"(rs2) : "memory");']
        lines.append("        break;")
    lines += [
        "    default:", "        return -1;", "    }", "    *rd = result;", "    return 0;", "}",
        "",
        "/** accel_issue_code with separate codes (-1 also when one is out of range) */",
        "static inline int accel_issue(uint32_t funct7, uint32_t funct3, uint32_t rs1,",
        "                              uint32_t rs2, uint32_t *rd)",
        "{",
        "    if (funct7 > 0x7fu || funct3 > 0x7u)",
        "        return -1;",
        "    return accel_issue_code(ACCEL_CODE(funct7, funct3), rs1, rs2, rd);",
        "}",
        "",
    ]
    return lines


def render_c_header(config: "AccelConfig") -> str:
    """The C header text for firmware driving an accelerator of ``config``."""
    out = [
        "/* accelgen.h: generated by accelgen from its ISA spec. Do not edit. */",
        "#ifndef ACCELGEN_H",
        "#define ACCELGEN_H",
        "",
        "#include <stdint.h>",
        "",
        f'#define ACCEL_ISA_VERSION "{ISA_VERSION}"',
        f"#define ACCEL_CUSTOM0 {CUSTOM0_OPCODE:#04x}",
        f"#define ACCEL_RECORD_BYTES {RECORD_BYTES} /* bytes of one exec_buffer record */",
        "#define ACCEL_STR_(x) #x",
        "#define ACCEL_STR(x) ACCEL_STR_(x)",
        "",
        "/* Configuration */",
        f"#define ACCEL_DATAFLOW_{config.dataflow.upper()} 1",
    ]
    for name in _GEOMETRY:
        out.append(f"#define ACCEL_{name.upper()} {getattr(config, name)}")
    limits = config.tile_limits
    out += [f"#define ACCEL_TILE_M_MAX {limits[0]}", f"#define ACCEL_TILE_K_MAX {limits[1]}",
            f"#define ACCEL_TILE_N_MAX {limits[2]}", "", "/* Status word */"]
    for field in STATUS_FIELDS:
        out.append(f"#define ACCEL_STATUS_{field.name.upper()}_LSB {field.lsb}")
        out.append(f"#define ACCEL_STATUS_{field.name.upper()}_MASK {field.mask:#x}u")
    out += ["", "/* Error causes (status cause field) */"]
    out += [f"#define ACCEL_ERR_{c.name} {c.value}" for c in ErrorCause]
    out += ["", "/* Performance counters */"]
    out += [f"#define ACCEL_COUNTER_{c.name} {c.value}" for c in Counter]
    out += ["", "/* Activation functions */"]
    out += [f"#define ACCEL_ACT_{a.name} {a.value}" for a in Activation]
    out += ["", "/* Instruction codes and operand fields */"]
    for ins in INSTRUCTIONS:
        out.append(f"#define ACCEL_{ins.name.upper()}_FUNCT7 {ins.funct7:#04x}")
        out.append(f"#define ACCEL_{ins.name.upper()}_FUNCT3 {ins.funct3}")
        out += _field_macros(ins)
    out += ["", "/* One wrapper per instruction (RV32, GNU as .insn) */"]
    for ins in INSTRUCTIONS:
        out += _wrapper(ins) + [""]
    out += _dispatch()
    out += ["#endif /* ACCELGEN_H */", ""]
    return "\n".join(out)
