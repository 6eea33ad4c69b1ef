"""Build small RV32IM programs for the SoC tests with Debian's riscv64-unknown-elf-gcc."""

import subprocess
import tempfile
from pathlib import Path

from accel.soc.memory_map import memory_map
from tests.support.riscv import GCC, OBJCOPY

PROGRAMS = Path(__file__).resolve().parent / "programs"
FLAGS = ["-march=rv32im", "-mabi=ilp32", "-nostdlib", "-nostartfiles", "-ffreestanding"]


def map_defines(config) -> list[str]:
    """``-DSOC_<NAME>_BASE=...`` and ``_SIZE`` for every region of the memory map."""
    defines = []
    for r in memory_map(config):
        defines += [f"-DSOC_{r.name.upper()}_BASE={r.base:#x}",
                    f"-DSOC_{r.name.upper()}_SIZE={r.size:#x}"]
    return defines


def build(config, units, *, include_dirs=(), linker_script=PROGRAMS / "link.ld") -> bytes:
    """Compile and link ``units`` (a list of ``(source path, extra flags)``) into a flat binary
    image at address 0; return its bytes."""
    with tempfile.TemporaryDirectory(prefix="rv32-") as tmp:
        tmp = Path(tmp)
        objects = []
        for index, (source, extra) in enumerate(units):
            obj = tmp / f"{index}_{Path(source).stem}.o"
            cmd = [GCC, *FLAGS, *map_defines(config),
                   *(f"-I{d}" for d in include_dirs), *extra, "-c", str(source), "-o", str(obj)]
            subprocess.run(cmd, check=True, capture_output=True, text=True)
            objects.append(str(obj))
        elf = tmp / "program.elf"
        subprocess.run([GCC, *FLAGS, "-T", str(linker_script), *objects, "-o", str(elf)],
                       check=True, capture_output=True, text=True)
        binary = tmp / "program.bin"
        subprocess.run([OBJCOPY, "-O", "binary", str(elf), str(binary)], check=True)
        return binary.read_bytes()
