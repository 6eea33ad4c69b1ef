"""Build firmware for the SoC's control core (PicoRV32, RV32IM) from the C sources in ``src/``.

`build_firmware` generates, into the build directory, everything that depends on the
configuration — ``accelgen.h`` (from the ISA spec), ``soc.h`` (memory map and peripheral
registers, from `accel.soc.memory_map`), ``accel_mmio.h`` (the same ``accel_<name>`` wrappers,
issued through the memory-mapped command port instead of PCPI, also from the ISA spec) and the
linker script — then compiles the C runtime, the tiled matmul driver, the compiled-network
interpreter (``mnist_net.c``) and its host operations (``hostops.c``; unused code is dropped at
link time) and one application with
``riscv64-unknown-elf-gcc -march=rv32im -mabi=ilp32 -O2`` and writes:

``<app>.elf``
    The linked program (no debug info; byte-for-byte deterministic).
``<app>.bin``
    The SRAM image from address 0 (``objcopy -O binary``).
``<app>.hex``
    The same image as one little-endian 32-bit word per line in hex (``$readmemh`` and
    `load_hex`).
``<app>.json``
    Sizes, entry point, stack top, ``free_start`` (the linker symbol ``__free_start``: the first
    16-byte aligned byte above ``.bss``, where data loaded beside the image may start) and the
    configuration it was built for.
``.accelgen-firmware.json`` (`MANIFEST`)
    The app and every file of the build: a directory holding it (and nothing else) is an earlier
    build, which the next build into it replaces whole. Any other non-empty directory is refused.

The build happens in a temporary directory beside the build directory and is moved into place
only when it succeeded, so a failure (a compile error, an image too large for the SRAM) leaves
the build directory as it was.

The image must fit the SRAM together with a minimum stack of `STACK_MIN` bytes; the stack pointer
starts at the top of SRAM and ``start.S`` zeroes ``.bss`` before calling ``main``.

The generated files come from `accel.build.firmware.headers`; the peripheral register layouts are
the contract in `accel.soc.registers`, which the firmware reads only through the generated
``soc.h``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import struct
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from accel.config import AccelConfig
from accel.build.firmware.headers import (
    STACK_MIN, render_linker_script, render_mmio_header, render_soc_header, sram_region,
)
from accel.soc.registers import PERIPHERAL_REGISTERS

__all__ = [
    "FirmwareError", "FirmwareUsageError", "INSTALL_HINT", "MANIFEST", "STACK_MIN",
    "FIRMWARE_DIR", "PERIPHERAL_REGISTERS", "ElfSection", "build_firmware", "is_firmware_build",
    "render_soc_header", "render_mmio_header", "render_linker_script", "elf_sections",
    "elf_symbols", "load_hex", "list_apps",
]

#: How to get the cross compiler on Debian.
INSTALL_HINT = "apt-get install gcc-riscv64-unknown-elf picolibc-riscv64-unknown-elf"


#: The C sources: crt0, runtime, matmul driver, ``apps/<app>.c``.
FIRMWARE_DIR = Path(__file__).resolve().parent / "src"

_PREFIX = "riscv64-unknown-elf-"
_ARCH = ["-march=rv32im", "-mabi=ilp32"]
_CFLAGS = ["-O2", "-std=gnu11", "-Wall", "-Wextra", "-ffunction-sections", "-fdata-sections",
           "-fno-common", "-fno-tree-loop-distribute-patterns", "-mcmodel=medlow"]
_SOURCES = ("start.S", "runtime.c", "matmul.c", "hostops.c", "mnist_net.c")


class FirmwareError(RuntimeError):
    """A firmware build failed; the message is one line."""


class FirmwareUsageError(FirmwareError):
    """The request itself is wrong (an unknown app, a missing source, an ``out_dir`` a build must
    not replace), not the build; the message is one line."""


@dataclass(frozen=True)
class ElfSection:
    """One section header of an ELF32 file."""

    name: str
    addr: int
    size: int
    alloc: bool
    nobits: bool

    @property
    def end(self) -> int:
        return self.addr + self.size


# -- generated sources --------------------------------------------------------------------------

# -- the toolchain -----------------------------------------------------------------------------

@dataclass(frozen=True)
class _Toolchain:
    gcc: str
    objcopy: str
    picolibc: bool


def _toolchain() -> _Toolchain:
    gcc = shutil.which(_PREFIX + "gcc")
    objcopy = shutil.which(_PREFIX + "objcopy")
    if gcc is None or objcopy is None:
        missing = _PREFIX + ("gcc" if gcc is None else "objcopy")
        raise FirmwareError(f"{missing} not found on PATH; install it with: {INSTALL_HINT}")
    try:
        specs = subprocess.run([gcc, *_ARCH, "-print-file-name=picolibc.specs"],
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError) as exc:
        raise FirmwareError(f"{gcc} does not run ({exc}); reinstall it with: {INSTALL_HINT}") \
            from None
    return _Toolchain(gcc, objcopy, os.path.isabs(specs) and os.path.exists(specs))


def _run(args: list[str], cwd: Path, what: str) -> None:
    proc = subprocess.run(args, cwd=cwd, capture_output=True, text=True)
    if proc.returncode == 0:
        return
    output = (proc.stderr + proc.stdout).strip()
    overflow = re.search(r"region `?SRAM'? overflowed by (\d+) bytes", output)
    if overflow:
        raise _Overflow(int(overflow.group(1)))
    errors = [line for line in output.splitlines() if "error" in line.lower()]
    first = (errors or output.splitlines() or ["(no output)"])[0]
    raise FirmwareError(f"{what} failed: {first}")


class _Overflow(Exception):
    def __init__(self, by: int) -> None:
        self.by = by


# -- ELF and image helpers ---------------------------------------------------------------------

def elf_sections(path: str | os.PathLike) -> list[ElfSection]:
    """The section headers of a little-endian ELF32 file (no external tools needed)."""
    data = Path(path).read_bytes()
    if data[:4] != b"\x7fELF" or data[4] != 1 or data[5] != 1:
        raise FirmwareError(f"{path} is not a little-endian ELF32 file")
    shoff, = struct.unpack_from("<I", data, 0x20)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x2E)
    headers = [struct.unpack_from("<IIIIIIIIII", data, shoff + i * shentsize)
               for i in range(shnum)]
    strtab = headers[shstrndx][4]

    def name(offset: int) -> str:
        end = data.index(b"\0", strtab + offset)
        return data[strtab + offset:end].decode()

    return [ElfSection(name(h[0]), h[3], h[5], bool(h[2] & 0x2), h[1] == 8)
            for h in headers[1:]]


def elf_symbols(path: str | os.PathLike) -> dict[str, int]:
    """Name -> value of the named symbols in the ``.symtab`` of a little-endian ELF32 file
    (linker-script symbols such as ``__free_start`` included)."""
    data = Path(path).read_bytes()
    if data[:4] != b"\x7fELF" or data[4] != 1 or data[5] != 1:
        raise FirmwareError(f"{path} is not a little-endian ELF32 file")
    shoff, = struct.unpack_from("<I", data, 0x20)
    shentsize, shnum = struct.unpack_from("<HH", data, 0x2E)
    headers = [struct.unpack_from("<IIIIIIIIII", data, shoff + i * shentsize)
               for i in range(shnum)]
    symbols: dict[str, int] = {}
    for header in headers:
        if header[1] != 2:  # SHT_SYMTAB
            continue
        offset, size, link, entsize = header[4], header[5], header[6], header[9]
        strtab = headers[link][4]
        for pos in range(offset, offset + size, entsize):
            name_offset, value = struct.unpack_from("<II", data, pos)
            if name_offset:
                end = data.index(b"\0", strtab + name_offset)
                symbols[data[strtab + name_offset:end].decode()] = value
    return symbols


def _elf_entry(path: Path) -> int:
    return struct.unpack_from("<I", path.read_bytes(), 0x18)[0]


def load_hex(path: str | os.PathLike) -> list[int]:
    """The 32-bit words of a ``.hex`` image written by `build_firmware` (word i at byte 4*i)."""
    return [int(line, 16) for line in Path(path).read_text().split()]


def list_apps() -> list[str]:
    """Names of the applications in ``firmware/apps``."""
    return sorted(p.stem for p in (FIRMWARE_DIR / "apps").glob("*.c"))


# -- the build directory -----------------------------------------------------------------------

#: The manifest every build writes into its directory: the app and the files of the build. A
#: non-empty directory without it is not ours, and a build never replaces it.
MANIFEST = ".accelgen-firmware.json"


def _manifest_files(out: Path) -> set[str] | None:
    """The files the manifest in ``out`` lists, or None when there is no readable manifest."""
    try:
        files = json.loads((out / MANIFEST).read_text())["files"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return set(files) if isinstance(files, list) else None


def _files_under(path: Path) -> list[str]:
    """Every non-directory entry under ``path``, as sorted POSIX paths relative to it."""
    found = []
    for parent, _, names in os.walk(path):
        for name in names:
            found.append((Path(parent) / name).relative_to(path).as_posix())
    return sorted(found)


def is_firmware_build(path: str | os.PathLike) -> bool:
    """Whether ``path`` is a directory holding exactly one earlier `build_firmware` output (its
    manifest and the files it lists), which a new build may replace."""
    out = Path(path)
    listed = _manifest_files(out)
    return listed is not None and set(_files_under(out)) <= listed | {MANIFEST}


def _check_out(out: Path) -> None:
    """Refuse an ``out`` that a build must not replace: a file, the current directory (or one
    above it), or a non-empty directory that is not an earlier firmware build."""
    if out.exists() and not out.is_dir():
        raise FirmwareUsageError(f"{str(out)!r} is not a directory")
    cwd = Path.cwd().resolve()
    if out == cwd or out in cwd.parents:
        raise FirmwareUsageError(f"{str(out)!r} is the current directory or holds it; give the "
                                 f"build its own directory")
    if not out.is_dir() or not any(out.iterdir()) or is_firmware_build(out):
        return
    if _manifest_files(out) is None:
        raise FirmwareUsageError(f"{str(out)!r} is not empty and holds no earlier firmware build "
                                 f"(no {MANIFEST}); choose a new or empty directory")
    extra = sorted(set(_files_under(out)) - _manifest_files(out) - {MANIFEST})
    raise FirmwareUsageError(f"{str(out)!r} holds files that are not from its last firmware "
                             f"build ({', '.join(extra[:3])}{', ...' if len(extra) > 3 else ''}); "
                             f"move them away or choose another directory")


def _make_parents(path: Path) -> list[Path]:
    """Create the missing ancestors of ``path``; return them, innermost first."""
    missing = []
    for parent in path.parents:
        if parent.exists():
            break
        missing.append(parent)
    path.parent.mkdir(parents=True, exist_ok=True)
    return missing


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _replace_dir(staged: Path, out: Path) -> None:
    """Put ``staged`` where ``out`` is (an earlier build, removed) in two renames."""
    if not out.exists():
        os.rename(staged, out)
        return
    old = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.old-"))
    os.rename(out, old / "build")
    try:
        os.rename(staged, out)
    except OSError:
        os.rename(old / "build", out)
        raise
    finally:
        shutil.rmtree(old, ignore_errors=True)


# -- the build ---------------------------------------------------------------------------------

def build_firmware(config: AccelConfig, app: str = "selftest",
                   out_dir: str | os.PathLike = "build/firmware") -> Path:
    """Generate the headers and linker script, compile ``app`` and write its images.

    The build happens in a temporary directory beside ``out_dir`` that replaces ``out_dir`` only
    when everything succeeded: a failed build leaves ``out_dir`` as it was (and nothing beside
    it), and a successful one leaves only its own files there, listed in `MANIFEST`.

    Parameters
    ----------
    config : AccelConfig
        The accelerator and SoC configuration (geometry, dataflow, ``soc_sram_kib``).
    app : str
        An application in ``firmware/apps`` (``selftest``), or the path of a ``.c`` file.
    out_dir : path
        Build directory: missing, empty, or an earlier build (`is_firmware_build`), which is
        replaced. Generated headers go to ``out_dir/include``, objects to ``out_dir/obj``.

    Returns
    -------
    Path
        The ``<app>.elf``; ``.bin``, ``.hex`` and ``.json`` lie beside it.

    Raises
    ------
    FirmwareUsageError
        One line: an unknown app, a missing source, or an ``out_dir`` that is a file, the current
        directory, or a non-empty directory that is not an earlier build.
    FirmwareError
        One line: a missing toolchain (with the install hint), a compile error, an image that
        does not fit the SRAM with `STACK_MIN` bytes of stack, or an unwritable ``out_dir``.
    """
    source = Path(app)
    if source.suffix == ".c":
        if not source.is_file():
            raise FirmwareUsageError(f"no such firmware source {app!r}")
        source = source.resolve()
        name = source.stem
    else:
        source = FIRMWARE_DIR / "apps" / f"{app}.c"
        if not source.is_file():
            raise FirmwareUsageError(f"unknown firmware app {app!r}; choose from "
                                     f"{', '.join(list_apps())} or give a .c file")
        name = app
    out = Path(out_dir).resolve()
    _check_out(out)
    tools = _toolchain()
    created: list[Path] = []
    try:
        created = _make_parents(out)
        staged = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.new-"))
        os.chmod(staged, 0o777 & ~_umask())
    except OSError as exc:
        _remove_empty(created)
        raise FirmwareError(f"cannot write to {str(out)!r}: {exc.strerror or exc}") from None
    try:
        _build_into(staged, config, source, name, tools)
        files = [f for f in _files_under(staged) if f != MANIFEST]
        (staged / MANIFEST).write_text(json.dumps({"app": name, "files": files}, indent=2)
                                       + "\n")
        _replace_dir(staged, out)
    except BaseException as exc:
        shutil.rmtree(staged, ignore_errors=True)
        _remove_empty(created)
        if isinstance(exc, OSError):
            raise FirmwareError(f"cannot write to {str(out)!r}: {exc.strerror or exc}") \
                from None
        raise
    return out / f"{name}.elf"


def _remove_empty(directories: list[Path]) -> None:
    for directory in directories:
        try:
            directory.rmdir()
        except OSError:
            break


def _build_into(out: Path, config: AccelConfig, source: Path, name: str,
                tools: _Toolchain) -> None:
    """Write the whole build of ``source`` into the empty directory ``out``."""
    include, objdir = out / "include", out / "obj"
    include.mkdir()
    objdir.mkdir()

    from accel.isa import render_c_header
    generated = {include / "accelgen.h": render_c_header(config),
                 include / "soc.h": render_soc_header(config),
                 include / "accel_mmio.h": render_mmio_header(config),
                 out / "link.ld": render_linker_script(config)}
    for path, text in generated.items():
        path.write_text(text)

    if tools.picolibc:
        libc = ["--specs=picolibc.specs"]
        link_libs: list[str] = []
    else:
        libc = ["-ffreestanding", "-nostdlib"]
        link_libs = ["-lgcc"]
    # The staging directory's random name is mapped away, so the build is byte-for-byte
    # deterministic wherever it happens.
    maps = [f"-ffile-prefix-map={FIRMWARE_DIR}=firmware", f"-ffile-prefix-map={out}=build"]
    cflags = [*_ARCH, *_CFLAGS, *libc, *maps, f"-I{include}", f"-I{FIRMWARE_DIR}"]

    sources = [FIRMWARE_DIR / s for s in _SOURCES] + [source]
    objects = []
    for src in sources:
        # Relative names (from firmware/, or from an outside app's folder) keep the ELF's file
        # symbols independent of where the tree and the build directory are.
        cwd = FIRMWARE_DIR if src.is_relative_to(FIRMWARE_DIR) else src.parent
        rel = os.path.relpath(src, cwd)
        obj = objdir / (rel.replace(os.sep, "_").replace(".", "_") + ".o")
        _run_checked([tools.gcc, *cflags, "-c", rel, "-o", str(obj)], cwd, f"compiling {rel}")
        objects.append(str(obj))

    elf = out / f"{name}.elf"
    sram = sram_region(config)
    try:
        _run([tools.gcc, *_ARCH, *libc, "-nostartfiles", "-static", "-T", str(out / "link.ld"),
              "-Wl,--gc-sections", "-Wl,--build-id=none", "-o", str(elf), *objects, *link_libs],
             out, f"linking {name}")
    except _Overflow as exc:
        raise FirmwareError(
            f"firmware {name!r} does not fit the {sram.size // 1024} KiB SRAM: it needs "
            f"{exc.by} more bytes (image + {STACK_MIN} bytes of stack); raise soc_sram_kib"
        ) from None

    sections = elf_sections(elf)
    for s in sections:
        if s.alloc and s.size and not (sram.base <= s.addr and s.end <= sram.end):
            raise FirmwareError(f"section {s.name} of {name} ({s.addr:#x}..{s.end:#x}) lies "
                                f"outside the SRAM ({sram.base:#x}..{sram.end:#x})")
    loaded = [s for s in sections if s.alloc and not s.nobits and s.size]
    used_end = max((s.end for s in sections if s.alloc and s.name != ".stack"), default=0)

    binary = out / f"{name}.bin"
    _run_checked([tools.objcopy, "-O", "binary", str(elf), str(binary)], out,
                 f"objcopy of {name}")
    image = binary.read_bytes()
    if image and min(s.addr for s in loaded) != sram.base:
        raise FirmwareError(f"{name}: the image does not start at the SRAM base {sram.base:#x}")
    padded = image + b"\0" * (-len(image) % 4)
    words = struct.unpack(f"<{len(padded) // 4}I", padded)
    (out / f"{name}.hex").write_text("".join(f"{w:08x}\n" for w in words))
    info = {
        "app": name,
        "entry": _elf_entry(elf),
        "image_bytes": len(image),
        "used_bytes": used_end - sram.base,
        "sram_base": sram.base,
        "sram_bytes": sram.size,
        "stack_top": sram.end,
        "stack_bytes": sram.end - used_end,
        "free_start": elf_symbols(elf)["__free_start"],
        "picolibc": tools.picolibc,
        "sections": {s.name: {"addr": s.addr, "size": s.size} for s in sections
                     if s.alloc and s.size},
        "config": config.to_dict(),
    }
    (out / f"{name}.json").write_text(json.dumps(info, indent=2, sort_keys=True) + "\n")


def _run_checked(args: list[str], cwd: Path, what: str) -> None:
    try:
        _run(args, cwd, what)
    except _Overflow as exc:  # pragma: no cover  (only the link can overflow)
        raise FirmwareError(f"{what} failed: SRAM overflowed by {exc.by} bytes") from None
