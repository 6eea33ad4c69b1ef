"""The files of one build: Verilog, firmware C header and manifest, and how they are written."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
from pathlib import Path

from accel import __version__
from accel.config import AccelConfig
from accel.build.verilog import DEFAULT_TOP, generate

__all__ = ["FIRMWARE_NAME", "HEADER_NAME", "MANIFEST_NAME", "render_artifacts", "write_build",
           "write_atomically"]

HEADER_NAME = "accelgen.h"
#: The firmware image baked into a ``soc`` build, kept beside its manifest.
FIRMWARE_NAME = "firmware.bin"
MANIFEST_NAME = "manifest.json"


def render_artifacts(config: AccelConfig, top: str = DEFAULT_TOP, *,
                     firmware: bytes | None = None) -> dict[str, bytes]:
    """Every file ``accelgen build`` writes, rendered in memory, in writing order.

    Returns ``{file name: content}``: ``<top>.v``, ``accelgen.h`` and, last, ``manifest.json``,
    which records every configuration field, the derived values, the top and its ports (names,
    directions, widths, payload field offsets), the ISA version, the accelgen version and the
    size and SHA-256 of each other file. The ``soc`` top also gets ``picorv32.v`` (the core it
    instantiates), ``soc.h`` (memory map and peripheral registers) and the memory map in the
    manifest; with a ``firmware`` image, also the image itself as ``firmware.bin``, so that the
    build directory alone reproduces the build. Deterministic: no timestamps.

    Raises
    ------
    ConfigError
        When ``top`` is not a registered top level.
    """
    from accel.isa import ISA_VERSION, render_c_header

    verilog, ports = generate(config, top, firmware=firmware)
    files = {
        f"{top}.v": verilog.encode(),
        HEADER_NAME: render_c_header(config).encode(),
    }
    extra: dict = {}
    if top == "soc":
        from accel.build.firmware import render_soc_header
        from accel.soc.memory_map import memory_map
        from accel.soc.soc import picorv32_source

        files["picorv32.v"] = picorv32_source().read_bytes()
        files["soc.h"] = render_soc_header(config).encode()
        if firmware is not None:
            files[FIRMWARE_NAME] = bytes(firmware)
            extra["firmware"] = {"bytes": len(firmware),
                                 "sha256": hashlib.sha256(firmware).hexdigest()}
        extra["memory_map"] = [{"name": r.name, "base": r.base, "size": r.size, "doc": r.doc}
                               for r in memory_map(config)]
    manifest = {
        "generator": "accelgen",
        "accelgen_version": __version__,
        "isa_version": ISA_VERSION,
        "top": top,
        "config": config.to_dict(),
        "derived": config.derived(),
        "ports": ports,
        **extra,
        "files": {name: {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
                  for name, data in files.items()},
    }
    files[MANIFEST_NAME] = (json.dumps(manifest, indent=2) + "\n").encode()
    return files


def write_atomically(out: Path, files: dict[str, bytes]) -> None:
    """Write ``files`` into ``out`` (created if missing) so that none is ever half-written.

    Every file goes to a temporary file in ``out`` first; only when all are written are they moved
    into place, in order, with ``os.replace``. On failure the temporary files are removed.
    """
    out.mkdir(parents=True, exist_ok=True)
    temps: list[tuple[str, Path]] = []
    try:
        for name, data in files.items():
            tmp = out / f".{name}.{secrets.token_hex(6)}.tmp"
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # mode honours umask
            temps.append((name, tmp))
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
        for name, tmp in temps:
            os.replace(tmp, out / name)
    finally:
        for _, tmp in temps:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()


def write_build(out: Path, files: dict[str, bytes]) -> None:
    """Write a build's ``files`` (from `render_artifacts`) into ``out``, replacing an earlier one.

    The files are written as by `write_atomically`. Then the files an earlier build's manifest
    in ``out`` listed and this build does not write are removed, so a reused directory holds one
    build, never a mix (a ``soc`` build's ``picorv32.v`` beside a later ``accelerator.v``). Files
    no accelgen manifest names are left alone.
    """
    earlier = _listed_files(out / MANIFEST_NAME)
    write_atomically(out, files)
    for name in earlier - files.keys():
        with contextlib.suppress(FileNotFoundError):
            (out / name).unlink()


def _listed_files(manifest: Path) -> set[str]:
    """The plain file names an accelgen manifest lists (none when it is missing or not ours)."""
    try:
        record = json.loads(manifest.read_bytes())
    except (OSError, ValueError):
        return set()
    if not isinstance(record, dict) or record.get("generator") != "accelgen" \
            or not isinstance(record.get("files"), dict):
        return set()
    return {name for name in record["files"]
            if isinstance(name, str) and name == Path(name).name and not name.startswith(".")}
