"""The SRAM image a board's bitstream carries: the ``mnist_uart`` firmware and, above it, the
compiled network with room for one image (the blob of ``accel/build/firmware/src/mnist_net.h``,
`accel.runtime.soc_image`).

`plan_board_image` also sizes the SoC for it: the smallest power-of-two SRAM that holds the
image and the stack (``soc_sram_kib``), and a DMA address width that covers exactly that SRAM
(``mem_addr_width``: the accelerator only ever reaches the SRAM, and narrower addresses save
logic).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from accel.config import AccelConfig, ConfigError
from accel.build.firmware.headers import STACK_MIN

from boards import BoardError

__all__ = ["APP", "BoardImage", "plan_board_image", "sized_config"]

#: The firmware app of the demo.
APP = "mnist_uart"
_MIN_SRAM_KIB = 4


@dataclass(frozen=True, eq=False)
class BoardImage:
    """What `plan_board_image` produced.

    Members
    -------
    config : AccelConfig
        The configuration with ``soc_sram_kib`` and ``mem_addr_width`` sized for the image.
    image : bytes
        SRAM contents from address 0.
    firmware_bytes : int
        Size of the firmware image (the network starts at its ``__free_start``).
    layout : accel.runtime.soc_image.SocLayout
        Where the network, its tables and the image slot are.
    elf : Path
        The built firmware.
    """

    config: AccelConfig
    image: bytes
    firmware_bytes: int
    layout: object
    elf: Path


def sized_config(config: AccelConfig, sram_kib: int) -> AccelConfig:
    """``config`` with ``sram_kib`` of SoC SRAM and DMA addresses just wide enough for it."""
    try:
        return config.replace(soc_sram_kib=sram_kib,
                              mem_addr_width=max(12, (sram_kib * 1024 - 1).bit_length()))
    except ConfigError as exc:
        raise BoardError(str(exc)) from None


def _firmware(config: AccelConfig, out_dir: Path, app: str):
    from accel.build.firmware import FirmwareError, build_firmware

    try:
        elf = build_firmware(config, app, out_dir)
    except FirmwareError as exc:
        raise BoardError(str(exc)) from None
    info = json.loads(elf.with_suffix(".json").read_text())
    return elf, elf.with_suffix(".bin").read_bytes(), int(info["free_start"])


def plan_board_image(config: AccelConfig, network, out_dir: Path, *, max_sram_kib: int = 1024,
                     where: str = "the SoC", app: str = APP) -> BoardImage:
    """Build the firmware into ``out_dir``, compile ``network`` (a
    `accel.nn.network.QuantizedNetwork`, lowered as its graph, or a graph) above it and size the SRAM (at most
    ``max_sram_kib``; ``where`` names what holds it in errors, e.g. the board). ``app`` is the
    firmware (an app of ``accel/build/firmware/src/apps`` or a ``.c`` file; it must read the blob at
    ``__free_start``).

    Raises
    ------
    BoardError
        When the firmware does not build, the network does not compile for ``config``, or
        firmware, network and stack need more than ``max_sram_kib`` of SRAM (the message says
        how much).
    """
    from accel.nn.network import QuantizedNetwork
    from accel.nn.to_graph import network_to_graph
    from accel.runtime.soc_image import SramTooSmall, plan_layout

    if isinstance(network, QuantizedNetwork):   # the general lowering: fused pools, pixel codes
        network = network_to_graph(network)
    # The firmware's size does not depend on the SRAM's (only its stack top does), so one
    # trial build tells where the network starts; a plan in the largest SRAM tells its end.
    elf, binary, free_start = _firmware(sized_config(config, max_sram_kib), out_dir, app)
    try:
        roomy = plan_layout(network, sized_config(config, 1024), free_start, max_images=1)
    except SramTooSmall as exc:
        raise BoardError(str(exc)) from None
    except ValueError as exc:
        raise BoardError(f"network {network.name!r} does not compile for this "
                         f"configuration: {exc}") from None
    need = roomy.images_addr + roomy.image_stride + STACK_MIN
    kib = max(_MIN_SRAM_KIB, 1 << (-(-need // 1024) - 1).bit_length())
    if kib > max_sram_kib:
        raise BoardError(
            f"the firmware, network {network.name!r} ({roomy.compiled.commands:,} commands for "
            f"a {config.rows}x{config.cols} array) and stack need {-(-need // 1024):,} KiB of "
            f"SRAM; {where} holds at most {max_sram_kib} KiB of SoC SRAM")
    sized = sized_config(config, kib)
    elf, binary, free_start = _firmware(sized, out_dir, app)
    layout = plan_layout(network, sized, free_start, max_images=1)
    h, w, c = layout.target.input_hwc
    blank = np.zeros((h, w) if c == 1 else (h, w, c), dtype=np.uint8)
    image = layout.sram_image(binary, [blank])
    return BoardImage(sized, image, len(binary), layout, elf)
