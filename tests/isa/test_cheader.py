"""The firmware C header: content, determinism, host compile, RV32 encoding of the wrappers."""

import random
import re
import shutil
import subprocess

import pytest

from accel.config import AccelConfig, preset
from accel.isa import (
    CUSTOM0_OPCODE, INSTRUCTIONS, STATUS_BITS, Counter, ErrorCause, encode,
    render_c_header, split_word,
)

CONFIGS = [preset("tiny"), AccelConfig(), AccelConfig(rows=4, cols=8, dataflow="os",
                                                      input_width=6, acc_width=48, sp_kib=2,
                                                      acc_kib=2, sp_banks=1, acc_banks=1)]
RISCV_GCC = "riscv64-unknown-elf-gcc"
RISCV_OBJDUMP = "riscv64-unknown-elf-objdump"


def _args(ins, rng):
    ops = {f.name: rng.randint(f.min_value, f.max_value) for f in ins.fields}
    for f in ins.fields:
        if f.choices:
            ops[f.name] = rng.choice(f.choices)
    return ops


def _c_value(value):
    return f"({value})" if value < 0 else f"{value}u"


def _call_every_wrapper(rng):
    lines = []
    for ins in INSTRUCTIONS:
        ops = _args(ins, rng)
        call = f"accel_{ins.name}({', '.join(_c_value(ops[f.name]) for f in ins.fields)})"
        if ins.has_result:
            lines.append(f"uint32_t f_{ins.name}(void) {{ return {call}; }}")
        else:
            lines.append(f"void f_{ins.name}(void) {{ {call}; }}")
    return lines, None


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: f"{c.rows}x{c.cols}{c.dataflow}")
def test_content_and_determinism(config):
    text = render_c_header(config)
    assert text == render_c_header(config)
    assert text == render_c_header(AccelConfig(**config.to_dict()))
    assert text.endswith("#endif /* ACCELGEN_H */\n")
    for ins in INSTRUCTIONS:
        pattern = rf"^static inline (void|uint32_t) accel_{ins.name}\("
        assert len(re.findall(pattern, text, re.M)) == 1, ins.name
        assert f"#define ACCEL_{ins.name.upper()}_FUNCT7 {ins.funct7:#04x}\n" in text
        assert f"#define ACCEL_{ins.name.upper()}_FUNCT3 {ins.funct3}\n" in text
    # One wrapper per instruction plus the by-codes dispatch accel_issue(_code).
    assert len(re.findall(r"^static inline", text, re.M)) == len(INSTRUCTIONS) + 2
    for name in ("accel_issue", "accel_issue_code"):
        assert len(re.findall(rf"^static inline int {name}\(", text, re.M)) == 1
    for name in ("rows", "cols", "dim", "input_width", "acc_width", "in_bytes", "acc_bytes",
                 "sp_rows", "acc_rows"):
        assert f"#define ACCEL_{name.upper()} {getattr(config, name)}\n" in text
    m, k, n = config.tile_limits
    assert f"#define ACCEL_TILE_M_MAX {m}\n" in text and f"#define ACCEL_TILE_K_MAX {k}\n" in text
    assert f"#define ACCEL_DATAFLOW_{config.dataflow.upper()} 1\n" in text
    for cause in ErrorCause:
        assert f"#define ACCEL_ERR_{cause.name} {cause.value}\n" in text
    for counter in Counter:
        assert f"#define ACCEL_COUNTER_{counter.name} {counter.value}\n" in text
    for name, (lsb, _) in STATUS_BITS.items():
        assert f"#define ACCEL_STATUS_{name.upper()}_LSB {lsb}\n" in text


def test_configs_differ():
    assert render_c_header(CONFIGS[0]) != render_c_header(CONFIGS[1])


def _write(tmp_path, config, body):
    (tmp_path / "accelgen.h").write_text(render_c_header(config))
    src = tmp_path / "main.c"
    src.write_text('#include "accelgen.h"\n' + "\n".join(body) + "\n")
    return src


def _run(cmd, cwd):
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, f"{' '.join(map(str, cmd))} failed:\n{proc.stderr}"
    return proc.stdout


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: f"{c.rows}x{c.cols}{c.dataflow}")
def test_host_syntax_check(tmp_path, config):
    gcc = shutil.which("gcc") or shutil.which("cc")
    if gcc is None:
        pytest.fail("no host C compiler (gcc) on PATH")
    body, _ = _call_every_wrapper(random.Random(3))
    src = _write(tmp_path, config, body)
    for std in ("c99", "c11"):
        _run([gcc, "-fsyntax-only", "-Wall", "-Wextra", "-Werror", f"-std=gnu{std[1:]}",
              "-x", "c", str(src)], tmp_path)


def test_field_macros_match_encode(tmp_path):
    """Compile and run a host program that ORs the field macros; compare with `encode`."""
    gcc = shutil.which("gcc") or shutil.which("cc")
    if gcc is None:
        pytest.fail("no host C compiler (gcc) on PATH")
    rng = random.Random(11)
    body = ["#include <stdio.h>", "int main(void) {"]
    expected = []
    for _ in range(10):
        for ins in INSTRUCTIONS:
            ops = _args(ins, rng)
            # include the extremes now and then
            if rng.random() < 0.3:
                ops = {f.name: rng.choice((f.min_value, f.max_value)) for f in ins.fields}
                ops.update({f.name: 1 for f in ins.fields if f.choices})
            cmd = encode(ins.name, **ops)
            for reg in ("rs1", "rs2"):
                parts = [f"ACCEL_{ins.name.upper()}_{f.name.upper()}({_c_value(ops[f.name])})"
                         for f in ins.fields if f.reg == reg] or ["0u"]
                body.append(f'    printf("%lu\\n", (unsigned long)(uint32_t)('
                            f'{" | ".join(parts)}));')
                expected.append(getattr(cmd, reg))
            body.append(f'    printf("%d %d\\n", ACCEL_{ins.name.upper()}_FUNCT7, '
                        f'ACCEL_{ins.name.upper()}_FUNCT3);')
            expected.append((ins.funct7, ins.funct3))
    body += ["    return 0;", "}"]
    src = _write(tmp_path, AccelConfig(), body)
    exe = tmp_path / "macros"
    _run([gcc, "-Wall", "-Werror", "-O0", "-o", str(exe), str(src)], tmp_path)
    out = _run([str(exe)], tmp_path).split("\n")
    got = []
    for want, line in zip(expected, out):
        got.append(tuple(map(int, line.split())) if isinstance(want, tuple) else int(line))
    assert got == expected


def _objdump_words(text):
    """{function: [32-bit words]} from `objdump -d` output."""
    funcs, current = {}, None
    for line in text.splitlines():
        head = re.match(r"^[0-9a-f]+ <(\w+)>:$", line)
        if head:
            current = funcs.setdefault(head.group(1), [])
            continue
        m = re.match(r"^\s+[0-9a-f]+:\s+([0-9a-f]{8})\s", line)
        if m and current is not None:
            current.append(int(m.group(1), 16))
    return funcs


@pytest.mark.soc
def test_riscv_wrappers_emit_custom0(tmp_path):
    gcc, objdump = shutil.which(RISCV_GCC), shutil.which(RISCV_OBJDUMP)
    if gcc is None or objdump is None:
        pytest.fail(f"{RISCV_GCC}/{RISCV_OBJDUMP} not on PATH: install the Debian package "
                    "gcc-riscv64-unknown-elf (apt-get install gcc-riscv64-unknown-elf; the "
                    "project's test script installs it)")
    body, _ = _call_every_wrapper(random.Random(9))
    src = _write(tmp_path, preset("tiny"), body)
    obj = tmp_path / "main.o"
    _run([gcc, "-march=rv32im", "-mabi=ilp32", "-O2", "-c", "-ffreestanding", "-Wall",
          "-Werror", "-o", str(obj), str(src)], tmp_path)
    funcs = _objdump_words(_run([objdump, "-d", str(obj)], tmp_path))
    for ins in INSTRUCTIONS:
        words = [w for w in funcs[f"f_{ins.name}"] if w & 0x7F == CUSTOM0_OPCODE]
        assert len(words) == 1, (ins.name, [hex(w) for w in funcs[f"f_{ins.name}"]])
        fields = split_word(words[0])
        assert (fields["funct7"], fields["funct3"]) == (ins.funct7, ins.funct3), ins.name
        if ins.has_result:
            assert fields["rd"] != 0, ins.name
        else:
            assert fields["rd"] == 0, ins.name


@pytest.mark.soc
def test_riscv_issue_dispatch_covers_every_instruction(tmp_path):
    """``accel_issue(funct7, funct3, ...)`` issues exactly the named instruction for every code
    of the ISA (constant codes fold the switch to one custom-0 word) and nothing otherwise."""
    gcc, objdump = shutil.which(RISCV_GCC), shutil.which(RISCV_OBJDUMP)
    if gcc is None or objdump is None:
        pytest.fail(f"{RISCV_GCC}/{RISCV_OBJDUMP} not on PATH: apt-get install "
                    "gcc-riscv64-unknown-elf")
    body = []
    for ins in INSTRUCTIONS:
        body.append(f"int f_{ins.name}(uint32_t a, uint32_t b, uint32_t *rd) "
                    f"{{ return accel_issue({ins.funct7}u, {ins.funct3}u, a, b, rd); }}")
    body.append("int f_unknown(uint32_t a, uint32_t b, uint32_t *rd) "
                "{ return accel_issue(0x7fu, 7u, a, b, rd); }")
    body.append("int f_any(uint32_t f7, uint32_t f3, uint32_t *rd) "
                "{ return accel_issue(f7, f3, 1u, 2u, rd); }")
    body.append("int f_code(uint32_t code, uint32_t *rd) "
                "{ return accel_issue_code(code, 1u, 2u, rd); }")
    src = _write(tmp_path, preset("tiny"), body)
    obj = tmp_path / "main.o"
    _run([gcc, "-march=rv32im", "-mabi=ilp32", "-O2", "-c", "-ffreestanding", "-Wall",
          "-Wextra", "-Werror", "-o", str(obj), str(src)], tmp_path)
    funcs = _objdump_words(_run([objdump, "-d", str(obj)], tmp_path))
    for ins in INSTRUCTIONS:
        words = [w for w in funcs[f"f_{ins.name}"] if w & 0x7F == CUSTOM0_OPCODE]
        assert [(split_word(w)["funct7"], split_word(w)["funct3"]) for w in words] == \
            [(ins.funct7, ins.funct3)], ins.name
        assert (split_word(words[0])["rd"] != 0) == ins.has_result, ins.name
    assert not [w for w in funcs["f_unknown"] if w & 0x7F == CUSTOM0_OPCODE]
    for name in ("f_any", "f_code"):
        codes = sorted((split_word(w)["funct7"], split_word(w)["funct3"])
                       for w in funcs[name] if w & 0x7F == CUSTOM0_OPCODE)
        assert codes == sorted((ins.funct7, ins.funct3) for ins in INSTRUCTIONS), name
