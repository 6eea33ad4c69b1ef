"""The RISC-V GCC (Debian's riscv64-unknown-elf-gcc) that the SoC tests build programs with."""

import shutil

import pytest

__all__ = ["GCC", "OBJCOPY", "require_toolchain"]

GCC = "riscv64-unknown-elf-gcc"
OBJCOPY = "riscv64-unknown-elf-objcopy"


def require_toolchain():
    """Fail the calling test, saying how to install it, when the RISC-V GCC is missing
    (scripts/test.sh installs it; a missing compiler must not turn into a silent skip)."""
    if shutil.which(GCC) is None or shutil.which(OBJCOPY) is None:
        pytest.fail(f"{GCC} not installed (apt-get install gcc-riscv64-unknown-elf)")
