"""The SoC's SRAM image for running a compiled network: the ``mnist`` firmware, then the "blob"
it interprets (the format ``accel/build/firmware/src/mnist_net.h`` reads; version `BLOB_VERSION`).

From address 0 of the SRAM::

    0             the firmware image (.text, .rodata, .data; .bss above it is zeroed at boot)
    free_start    header (`HEADER_WORDS` words): BLOB_MAGIC, BLOB_VERSION, step count, step
                  table address, input address, input height, width, channels, input shift
                  (0..7 when the pixel table is ``pixel >> shift``, else `LUT_ONLY`), pixel
                  table address, output address, output count, output bytes per value (1: int8,
                  4: int32), image count, images address, index of the first image
    base          the compiled network's memory image (compiled at ``base``: weights, biases
                  and buffers at absolute addresses)
    lut_addr      the pixel table: 256 int8 values, ``input = lut[pixel]``
    steps_addr    step table, one entry per step: kind, word count n, n words. `STEP_ACCEL`:
                  record count, record table address, stage count s, then s pairs (records,
                  input bytes): the first step's records in stages (`input_stages`) that may
                  start once that many input bytes are quantized (s = 0 for the other steps,
                  which start once the whole input is); a host operation: its kind (`STEP_KINDS`)
                  and its fields (`accel.compiler.hostops`: ``MaxPool`` its seven fields in
                  order, the others ``words()``)
    ...           record tables: each accelerator step's program as EXEC_BUFFER records
                  (`accel.isa.assembler.records`, 12 bytes each) without its final FENCE, which
                  the firmware issues after the EXEC_BUFFER
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
from accel.isa.assembler import records
from accel.isa.spec import BY_NAME, RECORD_BYTES
from accel.runtime.target import Target, as_target

__all__ = ["BLOB_MAGIC", "BLOB_VERSION", "STEP_ACCEL", "STEP_MAXPOOL", "STEP_MAXPOOL2D",
           "STEP_AVGPOOL", "STEP_ADD", "STEP_KINDS", "LUT_ONLY", "HEADER_WORDS",
           "RECORD_BYTES", "STAGE_BYTES", "SramTooSmall", "SocLayout", "buffer_program",
           "input_stages", "plan_layout", "step_record"]

BLOB_MAGIC = 0x54534E4D  # "MNST"
BLOB_VERSION = 3
STEP_ACCEL, STEP_MAXPOOL, STEP_MAXPOOL2D, STEP_AVGPOOL, STEP_ADD = 0, 1, 2, 3, 4
#: Host operation class name -> (step kind, word count).
STEP_KINDS = {"MaxPool": (STEP_MAXPOOL, 7), "MaxPoolOp": (STEP_MAXPOOL2D, 11),
              "AvgPoolOp": (STEP_AVGPOOL, 19), "AddOp": (STEP_ADD, 16)}
LUT_ONLY = 0xFFFFFFFF
_FENCE_CODES = (BY_NAME["fence"].funct7, BY_NAME["fence"].funct3)
HEADER_WORDS = 16


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
    target : accel.runtime.target.Target
        The network compiled at ``base`` (just above the header).
    free_start : int
        The firmware's ``__free_start``: the header's address.
    lut_addr, steps_addr : int
        The pixel table's and the step table's addresses.
    tables : bytes
        The step table and the command tables, for ``steps_addr``.
    images_addr, image_stride : int
        Where image ``i`` of a batch starts: ``images_addr + i * image_stride``.
    capacity : int
        Images that fit in one batch (at least 1).
    """

    target: Target
    free_start: int
    lut_addr: int
    steps_addr: int
    tables: bytes
    images_addr: int
    image_stride: int
    capacity: int

    @property
    def compiled(self):
        """The compiled network or graph."""
        return self.target.compiled

    @property
    def image_bytes(self) -> int:
        return self.target.input_size

    def header(self, image_count: int, first_index: int = 0) -> list[int]:
        """The blob header's words."""
        t = self.target
        h, w, c = t.input_hwc
        shift = LUT_ONLY if t.input_shift is None else t.input_shift
        return [BLOB_MAGIC, BLOB_VERSION, len(t.steps), self.steps_addr, t.input_addr, h, w, c,
                shift, self.lut_addr, t.output_addr, t.output_count, t.output_item, image_count,
                self.images_addr, first_index]

    def sram_image(self, firmware: bytes, images: Sequence[np.ndarray],
                   first_index: int = 0) -> bytes:
        """The SRAM contents (from address 0, up to the last image) for a batch of uint8
        ``images`` numbered from ``first_index``."""
        if not 1 <= len(images) <= self.capacity:
            raise ValueError(f"a batch holds 1 to {self.capacity} images, not {len(images)}")
        if len(firmware) > self.free_start:
            raise ValueError(f"the firmware image ({len(firmware)} bytes) reaches beyond "
                             f"its __free_start ({self.free_start:#x})")
        t = self.target
        sram = bytearray(self.images_addr + len(images) * self.image_stride)
        sram[:len(firmware)] = firmware
        header = self.header(len(images), first_index)
        assert len(header) == HEADER_WORDS
        sram[self.free_start:self.free_start + 4 * HEADER_WORDS] = _words(header)
        memory = t.memory_image()
        sram[t.base:t.mem_size] = memory[t.base:].tobytes()
        sram[self.lut_addr:self.lut_addr + 256] = t.lut.astype(np.int8).tobytes()
        sram[self.steps_addr:self.steps_addr + len(self.tables)] = self.tables
        for index, image in enumerate(images):
            pixels = t.check_image(image)
            start = self.images_addr + index * self.image_stride
            sram[start:start + pixels.size] = pixels.tobytes()
        return bytes(sram)


def step_record(op) -> list[int]:
    """A host operation's step record: kind, word count, its words."""
    name = type(op).__name__
    if name not in STEP_KINDS:
        raise ValueError(f"the SoC firmware cannot run host operation {op!r}")
    kind, count = STEP_KINDS[name]
    if name == "MaxPool":
        values = [getattr(op, f.name) for f in fields(op)]
    else:
        values = [int(v) for v in op.words()]
    if len(values) != count:
        raise ValueError(f"host operation {name} has {len(values)} words, the firmware reads "
                         f"{count}")
    return [kind, count] + values


def buffer_program(commands) -> list:
    """The commands of an accelerator step that go into its EXEC_BUFFER records: all but a
    final FENCE, which the firmware issues itself after the EXEC_BUFFER."""
    commands = list(commands)
    if commands and (commands[-1].funct7, commands[-1].funct3) == _FENCE_CODES:
        commands.pop()
    return commands


#: Input bytes the firmware quantizes between two stages at least (a multiple of 32, the
#: quantization loop's step).
STAGE_BYTES = 128


def input_stages(commands, config: AccelConfig, input_addr: int,
                 input_size: int) -> list[tuple[int, int]]:
    """The accelerator program ``commands`` in stages ``(records, input bytes)`` so that the
    firmware can quantize the input while the accelerator runs: stage ``k``'s records may start
    once the input's first ``input bytes`` are quantized, a multiple of `STAGE_BYTES` (or the
    whole input), growing from stage to stage; the records of all stages are ``commands``.

    A load or store needs the input bytes up to the end of its block in main memory (with the
    stride in force, elements of the wider of the input and accumulator types; a block that
    starts above the input needs none); any other command naming a main-memory address, and a
    transfer before its stride is configured, needs the whole input.
    """
    from accel.perf.decode import fast_decode

    lo, hi = input_addr, input_addr + input_size
    elem = max(config.in_bytes, config.acc_bytes)
    strides: dict[str, int | None] = {"load": None, "store": None}
    stages: list[tuple[int, int]] = []
    start = quantized = 0
    for index, command in enumerate(commands):
        ins, ops = fast_decode(command)
        kind = ins.name.split("_")[0]
        if ins.name in ("config_load", "config_store"):
            strides[ins.name[7:]] = ops["stride"]
        if "mem_addr" not in ops or ops["mem_addr"] >= hi:
            continue
        stride = strides.get(kind)
        if stride is None:
            need = input_size
        else:
            end = ops["mem_addr"] + (ops.get("rows", 1) - 1) * stride + ops.get("cols", 1) * elem
            need = 0 if end <= lo else min(input_size, -(-(end - lo) // STAGE_BYTES)
                                           * STAGE_BYTES)
        if need > quantized:
            if index > start:
                stages.append((index - start, quantized))
            start, quantized = index, need
    if len(commands) > start:
        stages.append((len(commands) - start, quantized))
    return stages


def _tables(target: Target, steps_addr: int) -> bytes:
    programs = [buffer_program(s.commands) if hasattr(s, "commands") else None
                for s in target.steps]
    entries = []
    for index, (step, program) in enumerate(zip(target.steps, programs)):
        if program is None:
            entries.append(step_record(step.op))
            continue
        stages = (input_stages(program, target.config, target.input_addr, target.input_size)
                  if index == 0 else [])
        entries.append([STEP_ACCEL, 3 + 2 * len(stages), len(program), 0, len(stages)]
                       + [v for stage in stages for v in stage])
    record_addr = steps_addr + 4 * sum(len(e) for e in entries)
    tables = []
    for entry, program in zip(entries, programs):
        if program is not None:
            entry[3] = record_addr
            tables.append(records(program))
            record_addr += RECORD_BYTES * len(program)
    return _words([v for e in entries for v in e]) + b"".join(tables)


def plan_layout(network, config: AccelConfig, free_start: int, *,
                max_images: int | None = None) -> SocLayout:
    """Compile ``network`` (a `QuantizedNetwork` or `Graph`, or one compiled, which is
    recompiled) for the SRAM above ``free_start`` and place its tables and images.

    Raises
    ------
    SramTooSmall
        When not even one image fits below the stack (the message gives the KiB needed).
    ValueError
        When the network does not compile for ``config``.
    """
    base = _align(free_start + 4 * HEADER_WORDS, 64)
    target = as_target(network, config, base=base)
    lut_addr = _align(target.mem_size, 16)
    steps_addr = lut_addr + 256
    tables = _tables(target, steps_addr)
    images_addr = _align(steps_addr + len(tables), 16)
    stride = _align(target.input_size, 4)
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
            f"network {target.name!r} on the SoC needs {kib} KiB of SRAM (firmware "
            f"{free_start} B, network {target.mem_size - base} B, {target.commands} commands "
            f"{len(tables)} B, one image {stride} B, stack {STACK_MIN} B); soc_sram_kib is "
            f"{config.soc_sram_kib}: use soc_sram_kib={pick} (--soc-sram-kib {pick}) or more")
    return SocLayout(target, free_start, lut_addr, steps_addr, tables, images_addr, stride,
                     capacity)
