"""``accelgen firmware``: build firmware for the SoC's control core (see `accel.build.firmware`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from accel.cli.options import (config_from_options, config_options, json_option, reported_errors,
                               write_json)

__all__ = ["firmware", "build_command"]


@click.group()
def firmware() -> None:
    """Build C firmware (crt0, runtime, matmul driver, apps) for the SoC's RISC-V core."""


@firmware.command("build")
@config_options
@click.option("--app", default="selftest", show_default=True, metavar="NAME|FILE.c",
              help="An app in accel/build/firmware/src/apps, or the path of a .c file.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path),
              default=Path("build/firmware"), show_default=True,
              help="Build directory (created if missing).")
@json_option("the image and SRAM figures")
def build_command(app: str, out: Path, json_path: Path | None, **options: Any) -> None:
    """Compile APP for one configuration into OUT: .elf, .bin, .hex (a word per line), .json.

    Also writes the generated accelgen.h, soc.h, accel_mmio.h (in OUT/include) and link.ld.
    The SRAM the image must fit is --soc-sram-kib (or the configuration's).
    Needs riscv64-unknown-elf-gcc (Debian: gcc-riscv64-unknown-elf, picolibc-riscv64-unknown-elf).
    """
    from accel.build.firmware import FirmwareError, FirmwareUsageError, build_firmware

    config = config_from_options(options)
    with reported_errors(out, usage=(FirmwareUsageError,), failure=(FirmwareError,)):
        elf = build_firmware(config, app, out)
    import json
    info = json.loads(elf.with_suffix(".json").read_text())
    click.echo(f"accelgen firmware: {info['app']} for {config.rows}x{config.cols} "
               f"{config.dataflow}, {info['image_bytes']:,} byte image, "
               f"{info['used_bytes']:,} of {info['sram_bytes']:,} bytes of SRAM used "
               f"(stack {info['stack_bytes']:,}), in {out}/")
    for suffix in (".elf", ".bin", ".hex"):
        path = elf.with_suffix(suffix)
        click.echo(f"  {path.name:<16} {path.stat().st_size:>10,} bytes")
    if json_path is not None:
        write_json(json_path, info)
