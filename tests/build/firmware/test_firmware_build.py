"""Firmware builds: ``accelgen firmware build``, the image's placement, determinism, errors, and
the tiled matmul driver run on the host against a C model of the accelerator."""

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from accel import AccelConfig
from accel.cli import main
from accel.build.firmware import (
    FIRMWARE_DIR, INSTALL_HINT, STACK_MIN, FirmwareError, build_firmware, elf_sections, list_apps,
    load_hex, render_mmio_header, render_soc_header,
)
from accel.isa import INSTRUCTIONS, render_c_header
from accel.soc.memory_map import memory_map, region
from accel.soc.registers import UART_RX_DEPTH

OBJDUMP = "riscv64-unknown-elf-objdump"
CONFIGS = {
    "ws8x8": ["--rows", "8", "--cols", "8"],
    "os4x4": ["--rows", "4", "--cols", "4", "--dataflow", "os"],
}


def _cli(*args: str):
    return CliRunner().invoke(main, list(args))


@pytest.fixture(scope="module")
def builds(tmp_path_factory):
    """One selftest build per configuration, through the CLI: {name: out dir}."""
    out = {}
    for name, flags in CONFIGS.items():
        path = tmp_path_factory.mktemp(name)
        result = _cli("firmware", "build", *flags, "--app", "selftest", "--out", str(path))
        assert result.exit_code == 0, result.output
        assert "selftest" in result.output and "SRAM" in result.output
        out[name] = path
    return out


def _objdump_sections(elf: Path) -> list[tuple[str, int, int, bool]]:
    """(name, vma, size, alloc) from ``objdump -h``."""
    text = subprocess.run([OBJDUMP, "-h", str(elf)], capture_output=True, text=True,
                          check=True).stdout
    lines = text.splitlines()
    sections = []
    for i, line in enumerate(lines):
        m = re.match(r"\s*\d+\s+(\S+)\s+([0-9a-f]+)\s+([0-9a-f]+)\s+[0-9a-f]+", line)
        if m:
            flags = lines[i + 1] if i + 1 < len(lines) else ""
            sections.append((m.group(1), int(m.group(3), 16), int(m.group(2), 16),
                             "ALLOC" in flags))
    return sections


@pytest.mark.parametrize("name", CONFIGS)
@pytest.mark.soc  # riscv64-unknown-elf-gcc
def test_build_writes_images_inside_sram(builds, name):
    out = builds[name]
    info = json.loads((out / "selftest.json").read_text())
    config = AccelConfig(**info["config"])
    assert (config.rows, config.dataflow) == ((8, "ws") if name == "ws8x8" else (4, "os"))
    sram = region(config, "sram")
    for suffix in (".elf", ".bin", ".hex", ".json"):
        assert (out / f"selftest{suffix}").is_file()
    for header in ("accelgen.h", "soc.h", "accel_mmio.h"):
        assert (out / "include" / header).is_file()
    assert (out / "include" / "accelgen.h").read_text() == render_c_header(config)
    assert (out / "link.ld").is_file()

    sections = _objdump_sections(out / "selftest.elf")
    names = {s[0] for s in sections}
    assert {".text", ".bss", ".stack"} <= names
    for sec_name, addr, size, alloc in sections:
        if alloc and size:
            assert sram.base <= addr and addr + size <= sram.end, sec_name
    # The pure-Python reader agrees with objdump.
    ours = {s.name: (s.addr, s.size) for s in elf_sections(out / "selftest.elf") if s.alloc}
    assert ours == {s[0]: (s[1], s[2]) for s in sections if s[3]}
    # The stack reservation ends below the top of SRAM, .text starts at the reset vector.
    text = next(s for s in sections if s[0] == ".text")
    assert text[1] == sram.base
    stack = next(s for s in sections if s[0] == ".stack")
    assert stack[2] == STACK_MIN and stack[1] + stack[2] <= sram.end

    words = load_hex(out / "selftest.hex")
    binary = (out / "selftest.bin").read_bytes()
    assert len(words) == (len(binary) + 3) // 4
    padded = binary + b"\0" * (-len(binary) % 4)
    assert words == [int.from_bytes(padded[i:i + 4], "little") for i in range(0, len(padded), 4)]
    assert info["entry"] == sram.base and info["stack_top"] == sram.end
    assert info["used_bytes"] + STACK_MIN <= sram.size


@pytest.mark.parametrize("name", CONFIGS)
@pytest.mark.soc  # riscv64-unknown-elf-gcc
def test_disassembly_has_custom0_instructions(builds, name):
    text = subprocess.run([OBJDUMP, "-d", str(builds[name] / "selftest.elf")],
                          capture_output=True, text=True, check=True).stdout
    words = [int(m.group(1), 16) for m in re.finditer(r"^\s*[0-9a-f]+:\s+([0-9a-f]{8})\s",
                                                      text, re.MULTILINE)]
    custom0 = [w for w in words if w & 0x7F == 0x0B]
    codes = {(w >> 25, (w >> 12) & 7) for w in custom0}
    # PCPI path: the tiling loop's loads, preload, computes, store, fence and status; plus the
    # deliberately illegal funct7 0x7f of the error test.
    for mnemonic in ("load_sp", "preload", "compute", "compute_acc", "store_acc", "fence",
                     "status", "clear_error"):
        ins = next(i for i in INSTRUCTIONS if i.name == mnemonic)
        assert (ins.funct7, ins.funct3) in codes, mnemonic
    transposed = next(i for i in INSTRUCTIONS if i.name == "load_sp_t")
    assert ((transposed.funct7, transposed.funct3) in codes) == (name == "os4x4")
    assert (0x7F, 5) in codes
    # The bss zeroing loop and the stack pointer set-up of crt0 are at the reset vector.
    assert "<_start>:" in text and "__stack_top" in text


@pytest.mark.soc  # riscv64-unknown-elf-gcc
def test_build_is_deterministic(builds, tmp_path):
    again = tmp_path / "again"
    result = _cli("firmware", "build", *CONFIGS["ws8x8"], "--out", str(again))
    assert result.exit_code == 0, result.output
    for suffix in (".elf", ".bin", ".hex", ".json"):
        first = (builds["ws8x8"] / f"selftest{suffix}").read_bytes()
        assert first == (again / f"selftest{suffix}").read_bytes(), suffix


@pytest.mark.soc  # riscv64-unknown-elf-gcc
def test_too_small_sram_is_a_one_line_error(tmp_path):
    # 4 KiB cannot hold the selftest (code, three result matrices) plus the minimum stack.
    result = _cli("firmware", "build", "--rows", "8", "--cols", "8", "--sram-kib", "4",
                  "--out", str(tmp_path / "small"))
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert lines[0].startswith("Error: ") and "does not fit the 4 KiB SRAM" in lines[0]
    assert not (tmp_path / "small" / "selftest.elf").exists()


@pytest.mark.soc  # riscv64-unknown-elf-gcc
def test_big_static_buffer_does_not_fit(tmp_path):
    app = tmp_path / "big.c"
    app.write_text("static char buffer[8192];\n"
                   "int main(void) { buffer[100] = 1; return buffer[200]; }\n")
    config = AccelConfig(rows=4, cols=4, soc_sram_kib=8)
    with pytest.raises(FirmwareError, match="does not fit the 8 KiB SRAM") as info:
        build_firmware(config, str(app), tmp_path / "out")
    assert "\n" not in str(info.value)
    elf = build_firmware(config.replace(soc_sram_kib=16), str(app), tmp_path / "out16")
    bss = next(s for s in elf_sections(elf) if s.name == ".bss")
    assert bss.size >= 8192


def test_missing_compiler_gives_install_hint(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty directory: no cross compiler
    with pytest.raises(FirmwareError) as info:
        build_firmware(AccelConfig(rows=4, cols=4), "selftest", tmp_path / "out")
    message = str(info.value)
    assert "\n" not in message and INSTALL_HINT in message
    result = _cli("firmware", "build", "--out", str(tmp_path / "out"))
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [f"Error: {message}"]


def test_unknown_app_is_a_one_line_usage_error(tmp_path):
    result = _cli("firmware", "build", "--app", "nope", "--out", str(tmp_path))
    assert result.exit_code == 2
    apps = ", ".join(list_apps())
    assert "selftest" in apps
    assert result.output.strip().splitlines() == [
        f"Error: unknown firmware app 'nope'; choose from {apps} or give a .c file"]


def test_generated_headers_follow_the_specs():
    config = AccelConfig(rows=4, cols=8)
    soc = render_soc_header(config)
    for r in memory_map(config):
        assert f"#define SOC_{r.name.upper()}_BASE {r.base:#010x}u" in soc
        assert f"#define SOC_{r.name.upper()}_SIZE {r.size:#x}u" in soc
    for macro in ("SOC_UART_DATA 0x00u", "SOC_UART_STATUS 0x04u", "SOC_UART_RX 0x08u",
                  "SOC_UART_DIVISOR 0x0cu", "SOC_TIMER_CYCLE_LO 0x00u", "SOC_TIMER_CYCLE_HI 0x04u",
                  "SOC_LEDS_OUT 0x00u", "SOC_ACCEL_RS1 0x00u", "SOC_ACCEL_RS2 0x04u",
                  "SOC_ACCEL_ISSUE 0x08u", "SOC_ACCEL_RESULT 0x0cu", "SOC_ACCEL_STATUS 0x10u",
                  "SOC_ACCEL_ISSUE_FUNCT3_LSB 7", "SOC_ACCEL_STATUS_IN_FLIGHT (1u << 0)",
                  "SOC_ACCEL_STATUS_RESULT_VALID (1u << 1)", "SOC_UART_STATUS_RX_VALID (1u << 1)",
                  "SOC_UART_STATUS_RX_OVERRUN (1u << 2)", "SOC_UART_STATUS_RX_LEVEL (1u << 16)",
                  "SOC_UART_RX_POPPED (1u << 8)",
                  f"SOC_UART_RX_DEPTH {UART_RX_DEPTH}u"):
        assert f"#define {macro}" in soc, macro
    mmio = render_mmio_header(config)
    for ins in INSTRUCTIONS:
        ret = "uint32_t" if ins.has_result else "void"
        assert f"static inline {ret} accel_mmio_{ins.name}(" in mmio
        assert f"accel_mmio_issue(ACCEL_{ins.name.upper()}_FUNCT7, " in mmio
    assert render_soc_header(config) == soc and render_mmio_header(config) == mmio


def _host_cc() -> str | None:
    return shutil.which("gcc") or shutil.which("cc")


HOST_CONFIGS = {
    "ws8x8": AccelConfig(rows=8, cols=8),
    "os4x4": AccelConfig(rows=4, cols=4, dataflow="os"),
    "ws4x8": AccelConfig(rows=4, cols=8),
    "os8x4": AccelConfig(rows=8, cols=4, dataflow="os"),
    # Minimal scratchpad/accumulator: single-slot and tight-capacity tilings.
    "ws64_tight": AccelConfig(rows=64, cols=64, sp_kib=8, acc_kib=32),
    "os16x64_tight": AccelConfig(rows=16, cols=64, sp_kib=8, acc_kib=8, dataflow="os"),
}


@pytest.mark.parametrize("name", HOST_CONFIGS)
def test_matmul_tiling_on_host_model(tmp_path, name):
    """accel/build/firmware/src/matmul.c, compiled for the host against host/accelgen.h (a C model
    of the golden semantics that checks every operand limit), equals the core reference."""
    cc = _host_cc()
    assert cc is not None, "no host C compiler (apt-get install gcc)"
    config = HOST_CONFIGS[name]
    header = render_c_header(config)
    head = header.split("/* One wrapper per instruction")[0] + "#endif\n"
    (tmp_path / "accel_config.h").write_text(head.replace("ACCELGEN_H", "ACCEL_CONFIG_H"))
    exe = tmp_path / "host_matmul_test"
    subprocess.run([cc, "-O2", "-std=gnu11", "-Wall", "-Wextra", "-Werror",
                    "-DHOST_MEM_BYTES=(1u<<22)", f"-I{FIRMWARE_DIR / 'host'}", f"-I{tmp_path}",
                    f"-I{FIRMWARE_DIR}", "-o", str(exe),
                    str(FIRMWARE_DIR / "host" / "host_matmul_test.c"),
                    str(FIRMWARE_DIR / "matmul.c")], check=True)
    for seed in ("1", "2"):
        run = subprocess.run([str(exe), seed], capture_output=True, text=True)
        assert run.returncode == 0 and run.stdout.startswith("ok "), run.stdout


@pytest.mark.soc  # riscv64-unknown-elf-gcc
def test_build_without_picolibc(tmp_path, monkeypatch):
    """Without picolibc the build is freestanding (-nostdlib) and still links: the runtime
    brings memset/memcpy and libgcc the rest."""
    import accel.build.firmware as firmware

    real = firmware._toolchain()
    monkeypatch.setattr(firmware, "_toolchain",
                        lambda: firmware._Toolchain(real.gcc, real.objcopy, False))
    elf = build_firmware(AccelConfig(rows=4, cols=4, dataflow="os"), "selftest", tmp_path)
    info = json.loads(elf.with_suffix(".json").read_text())
    assert info["picolibc"] is False and info["image_bytes"] > 0
