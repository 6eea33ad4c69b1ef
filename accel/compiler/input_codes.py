"""Pixel codes in, int8 inputs in the scratchpad: the input tensor's loads take CONFIG_LOAD_CODES.

A graph whose pixel mapping (`accel.compiler.pixels`) is a shift (``q = p >> s``) or the int8
pass-through (``q = p - 128``) needs no quantization pass on the control core: its input buffer
holds the uint8 pixel codes themselves and every LOAD_SP / LOAD_SP_T reading that buffer runs
with the scratchpad load transform set to ``(s, 0)`` or ``(0, 1)``. Every other load runs with
the plain transform ``(0, 0)``, which is also the state the steps leave behind, so that they can
run again for the next input.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from accel.compiler.graph import Graph
from accel.compiler.pixels import normalization
from accel.compiler.steps import AccelStep
from accel.config import AccelConfig
from accel.isa import Command, encode
from accel.isa.encoding import operands_of

__all__ = ["input_codes", "encode_input", "apply_input_codes", "PLAIN"]

#: The transform of every load but the input's: the two's-complement load.
PLAIN = (0, 0)


def input_codes(graph: Graph, config: AccelConfig) -> tuple[int, int] | None:
    """``(shift, flip)`` that turns the graph's uint8 pixel codes into its int8 input, or None
    when the mapping is not a shift or the pass-through, or inputs are not 8 bits wide."""
    if config.input_width != 8 or config.in_bytes != 1:
        return None
    spec = normalization(graph)
    if spec["kind"] == "shift":
        return (spec["shift"], 0)
    if spec["kind"] == "int8":
        return (0, 1)
    return None


def encode_input(q: np.ndarray, codes: tuple[int, int]) -> np.ndarray:
    """The uint8 codes that load as the int8 values ``q`` through ``codes``.

    Raises
    ------
    ValueError
        When some value is not what the transform can produce (a negative value after a
        shift of 1 or more).
    """
    shift, flip = codes
    q = np.asarray(q, dtype=np.int64)
    if flip:
        return ((q & 0xFF) ^ 0x80).astype(np.uint8)
    top = 255 >> shift
    if q.size and (q.min() < (-128 if shift == 0 else 0) or q.max() > min(top, 127)):
        raise ValueError(f"input values must lie in 0..{min(top, 127)} for pixels shifted right "
                         f"by {shift}")
    return ((q & 0xFF) << shift).astype(np.uint8)


def apply_input_codes(steps: tuple, config: AccelConfig, lo: int, hi: int,
                      codes: tuple[int, int]) -> tuple:
    """``steps`` with CONFIG_LOAD_CODES set to ``codes`` before every scratchpad load of the
    bytes ``[lo, hi)`` and back to `PLAIN` before every other scratchpad load and at the end.

    Raises
    ------
    ValueError
        If a load reads both input bytes and other bytes (a compiler bug).
    """
    state, stride, out = PLAIN, 0, []
    accel = [i for i, s in enumerate(steps) if isinstance(s, AccelStep)]
    for index, step in enumerate(steps):
        if not isinstance(step, AccelStep):
            out.append(step)
            continue
        commands: list[Command] = []
        for cmd in step.commands:
            name = cmd.instruction.name if cmd.instruction is not None else None
            if name == "config_load":
                stride = operands_of(cmd)["stride"]
            elif name in ("load_sp", "load_sp_t"):
                ops = operands_of(cmd)
                start = ops["mem_addr"]
                end = start + (ops["rows"] - 1) * stride + ops["cols"] * config.in_bytes
                inside = start < hi and lo < end
                if inside and not (lo <= start and end <= hi):
                    raise ValueError(f"a load of {start:#x}..{end - 1:#x} straddles the input "
                                     f"buffer {lo:#x}..{hi - 1:#x}")
                want = codes if inside else PLAIN
                if want != state:
                    commands.append(encode("config_load_codes", shift=want[0], flip=want[1]))
                    state = want
            commands.append(cmd)
        if index == accel[-1] and state != PLAIN:   # leave the plain load for the next run
            reset = encode("config_load_codes", shift=0, flip=0)
            fence_at = len(commands) - 1 if commands and commands[-1] == encode("fence") \
                else len(commands)
            commands.insert(fence_at, reset)
            state = PLAIN
        out.append(replace(step, commands=tuple(commands)))
    return tuple(out)
