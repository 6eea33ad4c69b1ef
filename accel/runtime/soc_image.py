"""The SoC's SRAM image for running a compiled network: the ``mnist`` firmware, then the "blob"
it interprets (the format ``accel/build/firmware/src/apps/mnist.c`` reads; version `BLOB_VERSION`).

From address 0 of the SRAM::

    0             the firmware image (.text, .rodata, .data; .bss above it is zeroed at boot)
    free_start    header: BLOB_MAGIC, BLOB_VERSION, step count, step table address, input
                  address, input shift, input height, width, channels, logits address, classes,
                  image count, images address, index of the first image (14 words)
    base          the compiled network's memory image (`compile_network` at ``base``: weights,
                  biases and buffers at absolute addresses)
    steps_addr    step table, 8 words per step: STEP_ACCEL, command count, command table
                  address, 0...; or STEP_MAXPOOL and `accel.compiler.hostops.MaxPool`'s seven fields
    ...           command tables, 3 words per command: funct7 << 3 | funct3, rs1, rs2
    images_addr   the images' uint8 pixels (HWC), one every `image_stride` bytes
    ...           free, then at least `STACK_MIN` bytes of stack below the top of SRAM

All words are little-endian uint32. The firmware finds the header at its linker symbol
``__free_start`` (``free_start`` in the build's JSON).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Sequence

import numpy as np

from accel.config import AccelConfig
from accel.build.firmware.headers import STACK_MIN, sram_region
from accel.compiler.hostops import MaxPool
from accel.nn.compiler import AccelStep, CompiledNetwork, HostStep, compile_network
from accel.nn.network import QuantizedNetwork

__all__ = ["BLOB_MAGIC", "BLOB_VERSION", "STEP_ACCEL", "STEP_MAXPOOL", "SramTooSmall",
           "SocLayout", "plan_layout"]

BLOB_MAGIC = 0x54534E4D  # "MNST"
BLOB_VERSION = 1
STEP_ACCEL, STEP_MAXPOOL = 0, 1
HEADER_WORDS = 14
STEP_WORDS = 8
COMMAND_WORDS = 3


class SramTooSmall(ValueError):
    """The firmware, the network and one image do not fit the SoC's SRAM; the message says how
    many KiB they need."""


def _align(value: int, to: int) -> int:
    return -(-value // to) * to


def _words(values: Sequence[int]) -> bytes:
    return np.asarray(values, dtype=np.int64).astype("<u4").tobytes()


@dataclass(frozen=True, eq=False)
class SocLayout:
    """Where everything goes in the SRAM for one network on one configuration.

    Members
    -------
    compiled : CompiledNetwork
        The network compiled at ``base`` (just above the header).
    free_start : int
        The firmware's ``__free_start``: the header's address.
    tables : bytes
        The step table and the command tables, for ``steps_addr``.
    images_addr, image_stride : int
        Where image ``i`` of a batch starts: ``images_addr + i * image_stride``.
    capacity : int
        Images that fit in one batch (at least 1).
    """

    compiled: CompiledNetwork
    free_start: int
    steps_addr: int
    tables: bytes
    images_addr: int
    image_stride: int
    capacity: int

    @property
    def image_bytes(self) -> int:
        h, w, c = self.compiled.network.input_shape
        return h * w * c

    def sram_image(self, firmware: bytes, images: Sequence[np.ndarray],
                   first_index: int = 0) -> bytes:
        """The SRAM contents (from address 0, up to the last image) for a batch of uint8
        ``images`` numbered from ``first_index``."""
        if not 1 <= len(images) <= self.capacity:
            raise ValueError(f"a batch holds 1 to {self.capacity} images, not {len(images)}")
        if len(firmware) > self.free_start:
            raise ValueError(f"the firmware image ({len(firmware)} bytes) reaches beyond "
                             f"its __free_start ({self.free_start:#x})")
        compiled = self.compiled
        h, w, c = compiled.network.input_shape
        sram = bytearray(self.images_addr + len(images) * self.image_stride)
        sram[:len(firmware)] = firmware
        header = [BLOB_MAGIC, BLOB_VERSION, len(compiled.steps), self.steps_addr,
                  compiled.input_addr, compiled.network.input_shift, h, w, c,
                  compiled.logits_addr, compiled.classes, len(images), self.images_addr,
                  first_index]
        assert len(header) == HEADER_WORDS
        sram[self.free_start:self.free_start + 4 * HEADER_WORDS] = _words(header)
        memory = compiled.memory_image()
        sram[compiled.base:compiled.mem_size] = memory[compiled.base:].tobytes()
        sram[self.steps_addr:self.steps_addr + len(self.tables)] = self.tables
        for index, image in enumerate(images):
            compiled.input_bytes(image)  # validates shape and pixel range
            pixels = np.asarray(image).astype(np.uint8).reshape(-1)
            start = self.images_addr + index * self.image_stride
            sram[start:start + pixels.size] = pixels.tobytes()
        return bytes(sram)


def _tables(compiled: CompiledNetwork, steps_addr: int) -> bytes:
    steps, commands = [], []
    command_addr = steps_addr + 4 * STEP_WORDS * len(compiled.steps)
    for step in compiled.steps:
        if isinstance(step, AccelStep):
            steps.append([STEP_ACCEL, len(step.commands), command_addr] + [0] * 5)
            for cmd in step.commands:
                commands += [cmd.funct7 << 3 | cmd.funct3, cmd.rs1, cmd.rs2]
            command_addr += 4 * COMMAND_WORDS * len(step.commands)
        elif isinstance(step, HostStep) and isinstance(step.op, MaxPool):
            steps.append([STEP_MAXPOOL] + [getattr(step.op, f.name) for f in fields(MaxPool)])
        else:
            raise ValueError(f"the SoC firmware cannot run host step {step!r}")
    assert all(len(s) == STEP_WORDS for s in steps)
    return _words([v for s in steps for v in s] + commands)


def plan_layout(network: QuantizedNetwork, config: AccelConfig, free_start: int, *,
                max_images: int | None = None) -> SocLayout:
    """Compile ``network`` for the SRAM above ``free_start`` and place its tables and images.

    Raises
    ------
    SramTooSmall
        When not even one image fits below the stack (the message gives the KiB needed).
    ValueError
        When the network does not compile for ``config``.
    """
    base = _align(free_start + 4 * HEADER_WORDS, 64)
    compiled = compile_network(network, config, base=base)
    steps_addr = _align(compiled.mem_size, 16)
    tables = _tables(compiled, steps_addr)
    images_addr = _align(steps_addr + len(tables), 16)
    h, w, c = network.input_shape
    stride = _align(h * w * c, 4)
    sram = sram_region(config)
    top = sram.end - STACK_MIN
    capacity = max(0, (top - images_addr) // stride)
    if max_images is not None:
        capacity = min(capacity, max_images)
    if capacity < 1:
        need = images_addr + stride + STACK_MIN - sram.base
        kib = -(-need // 1024)
        pick = 1 << (kib - 1).bit_length()
        raise SramTooSmall(
            f"network {network.name!r} on the SoC needs {kib} KiB of SRAM (firmware "
            f"{free_start} B, network {compiled.mem_size - base} B, {compiled.commands} commands "
            f"{len(tables)} B, one image {stride} B, stack {STACK_MIN} B); soc_sram_kib is "
            f"{config.soc_sram_kib}: use soc_sram_kib={pick} (--soc-sram-kib {pick}) or more")
    return SocLayout(compiled, free_start, steps_addr, tables, images_addr, stride, capacity)
