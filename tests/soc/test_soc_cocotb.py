"""The SoC (PicoRV32 + SRAM + peripherals [+ accelerator]) on Verilator, running real programs.

PicoRV32 is an Instance, so these runs use cocotb on the emitted Verilog plus ``picorv32.v``.
"""

import re
import tempfile
from pathlib import Path

import pytest

from accel.config import AccelConfig
from accel.soc.memory_map import region
from sim.soc_runner import run_soc_image
from tests.soc.rv32 import PROGRAMS, build
from tests.support.configs import SOC_TEST_CONFIG as CONFIG
from tests.support.riscv import require_toolchain

pytestmark = [pytest.mark.rtl, pytest.mark.soc]

DIVISOR = 8
#: A small SoC whose accelerator DMA port (the SRAM's Wishbone port) is 128 bits wide.
WIDE_CONFIG = AccelConfig(rows=2, cols=2, sp_kib=1, acc_kib=1, sp_banks=1, acc_banks=1,
                          bus_width=128, soc_sram_kib=16)


def run_soc(image, *, with_accelerator, env, baked=False, simulator="verilator", config=CONFIG):
    """Run ``sim.bench_soc`` on the SoC with ``image`` in SRAM; return the UART transcript.

    ``baked``: emit (and build) the SoC with the image as the SRAM's initial contents, one build
    per image. Otherwise one build of an SoC with empty SRAM serves every image: the bench
    loads it into the SRAM during reset (``SOC_IMAGE``).
    """
    return run_soc_image(config, image, env=env, with_accelerator=with_accelerator,
                         uart_divisor=DIVISOR, baked=baked, simulator=simulator).transcript


@pytest.mark.parametrize("simulator", ["verilator", "icarus"])
def test_hello_over_uart(simulator):
    require_toolchain()
    image = build(CONFIG, [(PROGRAMS / "hello.S", [])])
    text = run_soc(image, with_accelerator=False, baked=True, simulator=simulator,
                   env={"SOC_END": "^hello$", "SOC_EXPECT": "^hello$", "SOC_MAX_CYCLES": "20000",
                        "SOC_EXPECT_LEDS": "0xA5"})
    assert "hello\n" in text


#: PicoRV32's own instruction tests run on the SoC (one image, one simulation).
RISCV_TESTS = ("add", "addi", "and", "sub", "xor", "lui", "auipc", "sll", "srai", "slt", "beq",
               "bltu", "jal", "jalr", "lw", "lbu", "sw", "sb", "mul", "mulh", "div", "remu")


def riscv_tests_image(names) -> bytes:
    """One image running PicoRV32's ``tests/<name>.S`` in turn, then printing ``PASS``.

    Each test prints ``<name>..OK`` to the UART's DATA register (the package's ``riscv_test.h``
    writes to 0x10000000, which is our UART DATA) and jumps to ``<name>_ret``; a failing test
    prints ``ERROR`` and executes ``ebreak`` (the core traps).
    """
    import pythondata_cpu_picorv32

    tests_dir = Path(pythondata_cpu_picorv32.data_location) / "tests"
    with tempfile.TemporaryDirectory(prefix="rvtests-") as tmp:
        start = Path(tmp) / "start.S"
        lines = ["    .section .text.start", "    .global _start", "_start:"]
        for name in names:
            lines += [f"    jal zero, rvtest_{name}", f"    .global rvtest_{name}_ret",
                      f"rvtest_{name}_ret:"]
        lines += ["    li t0, SOC_UART_BASE", "    la a0, done",
                  "1:  lbu a1, 0(a0)", "    beqz a1, 2f", "    sw a1, 0(t0)",
                  "    addi a0, a0, 1", "    j 1b", "2:  j 2b",
                  "    .section .rodata", "done: .asciz \"PASS\\n\""]
        start.write_text("\n".join(lines) + "\n")
        units = [(start, [])]
        for name in names:
            units.append((tests_dir / f"{name}.S",
                          [f"-DTEST_FUNC_NAME=rvtest_{name}", f"-DTEST_FUNC_TXT=\"{name}\"",
                           f"-DTEST_FUNC_RET=rvtest_{name}_ret"]))
        return build(CONFIG, units, include_dirs=[tests_dir])


def test_picorv32_instruction_tests():
    """On the SoC with the accelerator (a Harvard core): the tests' fetches, loads and stores
    never reach the SRAM's Wishbone port, which the accelerator DMA has to itself."""
    require_toolchain()
    assert region(CONFIG, "uart").base == 0x1000_0000, \
        "PicoRV32's riscv_test.h prints to 0x10000000, which must be the UART DATA register"
    image = riscv_tests_image(RISCV_TESTS)
    text = run_soc(image, with_accelerator=True,
                   env={"SOC_END": "^(PASS|.*ERROR)", "SOC_EXPECT": "^PASS$",
                        "SOC_REJECT": "ERROR", "SOC_MAX_CYCLES": "400000",
                        "SOC_EXPECT_SRAM_BUS_IDLE": "1"})
    for name in RISCV_TESTS:
        assert f"{name}..OK" in text, name


@pytest.mark.parametrize("config", [CONFIG, WIDE_CONFIG], ids=["bus32", "bus128"])
def test_firmware_selftest_with_accelerator(config):
    """The firmware engineer's selftest app: matmuls through PCPI and MMIO, error paths; also
    with a DMA port four times as wide as the core's."""
    require_toolchain()
    from accel.build.firmware import build_firmware

    with tempfile.TemporaryDirectory(prefix="selftest-") as tmp:
        elf = build_firmware(config, "selftest", tmp)
        image = elf.with_suffix(".bin").read_bytes()
    text = run_soc(image, with_accelerator=True, config=config,
                   env={"SOC_END": "^(PASS|FAIL)", "SOC_EXPECT": "^PASS$", "SOC_REJECT": "FAIL",
                        "SOC_MAX_CYCLES": "3000000", "SOC_EXPECT_LEDS": "0xf"})
    assert "PASS" in text
    # Both paths computed the matmul right (checked on the core) and read the error status.
    for path in ("pcpi", "mmio"):
        assert re.search(rf"^{path}: \d+x\d+x\d+ status 0x00000000, 0 of \d+ wrong, \d+ MACs, "
                         rf"\d+ cycles$", text, re.M), text
        assert re.search(rf"^{path}: illegal instruction -> status 0x[0-9a-f]+ \(cause 1, "
                         rf"funct7 0x7f", text, re.M), text


@pytest.mark.parametrize("line,env", [
    ("hi there", {"SOC_EXPECT": "^echo: hi there$"}),
    ("trap", {"SOC_EXPECT_TRAP": "1", "SOC_EXPECT": "^ready$", "SOC_REJECT": "PASS"}),
    ("bus", {"SOC_EXPECT_BUS_ERROR": "1"}),
])
def test_console_uart_input_trap_and_bus_error(line, env):
    """UART receive path (driver -> uart_rx -> RX register), trap detection, unmapped access."""
    require_toolchain()
    image = build(CONFIG, [(PROGRAMS / "console.S", [])])
    run_soc(image, with_accelerator=False,
            env={"SOC_UART_INPUT": line + "\\n", "SOC_UART_INPUT_AFTER": "^ready$",
                 "SOC_END": "^PASS$", "SOC_MAX_CYCLES": "40000", **env})
