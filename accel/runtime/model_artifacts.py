"""What ``accelgen compile`` writes for a compiled model, rendered in memory.

* ``<name>.npz`` — the graph (`accel.compiler.graph_file`): reload it with ``--model``, no
  recompilation of the ONNX file or calibration needed;
* ``<name>.s`` — the whole inference as assembler text: each accelerator program
  (`accel.isa.assembler` syntax, ``accelgen predict --asm`` reads one) and, as comments, the
  host steps between them;
* ``<name>.blob`` and ``<name>.json`` — the SoC: the blob the ``mnist`` firmware interprets
  (`accel.runtime.soc_image`), placed at the firmware's ``__free_start``, with the addresses
  (``free_start``, ``images_addr``, ``image_stride``, ``capacity``) a loader needs;
* ``accelgen.h`` — the firmware C header of the configuration (ISA wrappers, memory map).

Deterministic: the same model and configuration give the same bytes.
"""

from __future__ import annotations

import json

import numpy as np

from accel.compiler.graph_file import graph_to_bytes
from accel.isa.assembler import disassemble
from accel.isa.cheader import render_c_header
from accel.runtime.model import CompiledModel

__all__ = ["render_model_artifacts", "program_text"]


def program_text(model: CompiledModel) -> str:
    """Every step of one inference as assembler text (host steps as comments)."""
    graph = model.graph
    lines = [f"# {graph.name}: {len(model.compiled.steps)} steps, "
             f"{model.compiled.commands} commands, config {model.config.rows}x"
             f"{model.config.cols} {model.config.dataflow.value}",
             f"# input int8 {graph.input_tensor.shape} at {model.compiled.input_addr:#x}, output "
             f"{graph.output_tensor.dtype} {graph.output_tensor.shape} at "
             f"{model.compiled.output_addr:#x}",
             f"# addresses are for a main memory image at base {model.compiled.base:#x}; the SoC "
             "blob holds the same program compiled above the firmware"]
    for index, step in enumerate(model.compiled.steps):
        if hasattr(step, "commands"):
            lines.append(f"\n# step {index}: accelerator program, {len(step.commands)} commands")
            lines.append(disassemble(step.commands).rstrip("\n"))
        else:
            lines.append(f"\n# step {index}: host {step.op!r}")
    return "\n".join(lines) + "\n"


def _soc(model: CompiledModel, name: str) -> dict[str, bytes]:
    from accel.runtime.network_soc import soc_firmware
    from accel.runtime.soc_image import HEADER_WORDS, plan_layout

    firmware = soc_firmware(model.config)
    layout = plan_layout(model.graph, model.config, firmware.free_start)
    sram = layout.sram_image(firmware.binary, [np.zeros(layout.target.input_shape, np.uint8)])
    blob = bytearray(sram[layout.free_start:layout.images_addr])
    # No images: the loader places its own at images_addr and sets the count.
    blob[:4 * HEADER_WORDS] = np.asarray(layout.header(0), dtype="<u4").tobytes()
    info = {"firmware": "mnist", "free_start": layout.free_start,
            "images_addr": layout.images_addr, "image_stride": layout.image_stride,
            "capacity": layout.capacity, "blob_bytes": len(blob),
            "input_shape": list(layout.target.input_shape),
            "output_count": layout.target.output_count,
            "output_dtype": layout.target.output_dtype}
    return {f"{name}.blob": bytes(blob),
            f"{name}.json": (json.dumps(info, indent=1, sort_keys=True) + "\n").encode()}


def render_model_artifacts(model: CompiledModel, *, soc: bool = True) -> dict[str, bytes]:
    """``{file name: content}`` (see the module docstring); without ``soc``, no blob (which
    needs the RISC-V toolchain to build the firmware it is placed above).

    Raises
    ------
    accel.runtime.soc_image.SramTooSmall
        The model does not fit the SoC's SRAM (with ``soc``).
    accel.build.firmware.FirmwareError
        The firmware does not build (with ``soc``).
    """
    name = "".join(c if c.isalnum() or c in "-_." else "_" for c in model.graph.name) or "model"
    files = {f"{name}.npz": graph_to_bytes(model.graph),
             f"{name}.s": program_text(model).encode()}
    if soc:
        files.update(_soc(model, name))
    files["accelgen.h"] = render_c_header(model.config).encode()
    return files
