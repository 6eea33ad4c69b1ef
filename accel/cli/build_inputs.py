"""What ``accelgen build`` takes besides the configuration: the top level and the firmware image,
given as flags or recorded in the ``manifest.json`` of an earlier build.

A manifest given as ``--config`` reproduces its build: its ``top`` unless ``--top`` is given and,
for the ``soc`` top, the very firmware image it records (size and SHA-256), found beside the
manifest (a build directory holds it as ``firmware.bin``) or given with ``--firmware``.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import click

from accel.build.artifacts import FIRMWARE_NAME
from accel.config import AccelConfig

__all__ = ["firmware_image", "manifest_of", "read_image"]

_WORD_BYTES = 4


def manifest_of(config_file: Path | None) -> dict[str, Any] | None:
    """The manifest ``--config`` names, or None (no ``--config``, or a plain configuration).

    Call it after the configuration was read from the same file (which reports unreadable or
    malformed files).
    """
    if config_file is None:
        return None
    try:
        data = json.loads(config_file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise click.UsageError(f"cannot read {str(config_file)!r}: {exc}") from None
    if isinstance(data, dict) and data.get("generator") == "accelgen" and "top" in data:
        return data
    return None


def read_image(path: Path, config: AccelConfig) -> bytes:
    """The firmware image in ``path``, if the SoC of ``config`` can run it.

    Raises
    ------
    click.UsageError
        The file cannot be read, is empty, is not whole 32-bit words or is larger than the SRAM.
    """
    from accel.soc.memory_map import region

    try:
        image = path.read_bytes()
    except OSError as exc:
        raise click.UsageError(f"cannot read firmware image {str(path)!r}: "
                               f"{exc.strerror or exc}") from None
    if not image:
        raise click.UsageError(f"firmware image {str(path)!r} is empty")
    if len(image) % _WORD_BYTES:
        raise click.UsageError(f"firmware image {str(path)!r} of {len(image):,} bytes is not a "
                               f"whole number of {_WORD_BYTES}-byte words")
    sram = region(config, "sram").size
    if len(image) > sram:
        raise click.UsageError(f"firmware image {str(path)!r} of {len(image):,} bytes does not "
                               f"fit in the {sram:,} bytes of SRAM "
                               f"(--soc-sram-kib {config.soc_sram_kib})")
    return image


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _beside(manifest_path: Path, recorded: dict[str, Any]) -> Path | None:
    """The file beside the manifest whose size and SHA-256 are the recorded image's."""
    folder = manifest_path.parent
    for path in dict.fromkeys([folder / FIRMWARE_NAME, *sorted(folder.iterdir())]):
        try:
            if (path.is_file() and path.stat().st_size == recorded.get("bytes")
                    and _sha256(path.read_bytes()) == recorded.get("sha256")):
                return path
        except OSError:
            continue
    return None


def firmware_image(path: Path | None, config: AccelConfig, top: str,
                   manifest: dict[str, Any] | None, manifest_path: Path | None) -> bytes | None:
    """The image to bake into ``top``: ``--firmware``'s, or the one the manifest records.

    Raises
    ------
    click.UsageError
        The image is unusable (`read_image`), is not the one the manifest records, or the
        manifest records one that is neither beside it nor given.
    """
    recorded = manifest.get("firmware") if manifest is not None and top == "soc" else None
    if not isinstance(recorded, dict):
        recorded = None
    if path is not None:
        image = read_image(path, config)
        if recorded is not None and _sha256(image) != recorded.get("sha256"):
            raise click.UsageError(
                f"--firmware {str(path)!r} is not the image {str(manifest_path)!r} was built "
                f"with ({recorded.get('bytes')} bytes, sha256 {recorded.get('sha256')})")
        return image
    if recorded is None:
        return None
    found = _beside(manifest_path, recorded)
    if found is None:
        raise click.UsageError(
            f"{str(manifest_path)!r} was built with a firmware image ({recorded.get('bytes')} "
            f"bytes, sha256 {recorded.get('sha256')}) that is not beside it: give it with "
            f"--firmware")
    return read_image(found, config)
