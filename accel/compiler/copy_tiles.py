"""An identity copy of a tensor into another layout (a padded buffer) through the scratchpad.

The valid pixels of each stored row of the source are ``w * c`` contiguous bytes, and so are
the destination's: the copy moves them in column chunks of ``dim`` bytes, one ``load_sp`` (one
scratchpad row per image row, the source's row pitch as stride) and one ``store_sp`` (the
destination's row pitch) per chunk and up to 256 image rows. Every byte crosses the bus once
each way; no GEMM, no activation unit, either dataflow.
"""

from __future__ import annotations

from accel.compiler.scratch import flush_stores, scratch_state
from accel.compiler.layout import Buffer
from accel.compiler.tiler import ProgramBuilder
from accel.config import MAX_BLOCK_ROWS, AccelConfig

__all__ = ["plan_copy"]


def plan_copy(config: AccelConfig, builder: ProgramBuilder, src: Buffer, dst: Buffer) -> bool:
    """Append the copy of ``src``'s valid pixels into ``dst`` (same tensor, int8); False
    (nothing appended) when the buffers are not int8 or the scratchpad is too small."""
    h, w, c = src.shape
    if src.item != 1 or dst.item != 1 or dst.shape != src.shape:
        return False
    dim, eb = config.dim, config.in_bytes
    row = w * c
    chunks = [(c0, min(dim, row - c0)) for c0 in range(0, row, dim)]
    rows = min(h, MAX_BLOCK_ROWS)
    state = scratch_state(builder, config)
    if 2 * rows > state["sp"].size:
        return False
    flush_stores(builder)            # the source may be a pending store's output
    slots = [state["sp"].reserve(2 * rows)]
    slots.append(slots[0] + rows)
    turn = 0
    for y0 in range(0, h, MAX_BLOCK_ROWS):
        count = min(MAX_BLOCK_ROWS, h - y0)
        for c0, width in chunks:
            sp = slots[turn % 2]
            turn += 1
            builder.load("load_sp", src.pitch * c * eb, mem_addr=src.pixel(y0, 0) + c0 * eb,
                         sp_addr=sp, rows=count, cols=width)
            builder.store("store_sp", dst.pitch * c * eb, mem_addr=dst.pixel(y0, 0) + c0 * eb,
                          sp_addr=sp, rows=count, cols=width)
    return True
