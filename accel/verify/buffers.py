"""Run random programs from command buffers: records in main memory, one EXEC_BUFFER each.

A program run from a buffer must leave the same state as the program issued command by command
(except the responses the records no longer give, and the INSTRUCTIONS counter, which also counts
EXEC_BUFFER), so the differential bench and the fuzzer run a share of their programs this way.
The buffers lie past every region the programs touch (`accel.verify.randprog.ProgramSpace`), so
no record is overwritten while it runs.
"""

from __future__ import annotations

import random
from typing import Sequence

import numpy as np

from accel.arch.microarch import align_up
from accel.isa.assembler import records
from accel.isa.encoding import Command, encode
from accel.isa.spec import RECORD_BYTES

__all__ = ["MAX_RECORDS", "buffer_bytes", "place_in_buffers", "choose_buffered"]

#: Records one EXEC_BUFFER runs at most.
MAX_RECORDS = 1 << 16


def choose_buffered(rng: random.Random, count: int, share: float) -> list[bool]:
    """Which of ``count`` programs run from a buffer: each with probability ``share``."""
    if not 0 <= share <= 1:
        raise ValueError(f"the buffered share must be between 0 and 1, not {share!r}")
    return [share > 0 and rng.random() < share for _ in range(count)]


def buffer_bytes(programs: Sequence[Sequence[Command]], buffered: Sequence[bool]) -> int:
    """Bytes the buffers of the chosen programs take (each starting on a 64-byte boundary)."""
    return sum(align_up(RECORD_BYTES * len(p)) for p, b in zip(programs, buffered) if b)


def place_in_buffers(programs: Sequence[Sequence[Command]], buffered: Sequence[bool],
                     memory: np.ndarray, base: int) -> list[list[Command]]:
    """The programs, each chosen one replaced by a single EXEC_BUFFER of its records.

    The records are written into ``memory`` from byte ``base`` on (``base`` a multiple of 4),
    one buffer after the other (`buffer_bytes` in all); unchosen programs are returned as they
    are.

    Raises
    ------
    ValueError
        When the buffers do not fit in ``memory``, ``base`` is not a multiple of 4, or a
        chosen program is empty or has more than `MAX_RECORDS` commands.
    """
    if len(programs) != len(buffered):
        raise ValueError(f"{len(programs)} programs but {len(buffered)} buffered flags")
    if base % 4:
        raise ValueError(f"buffers must start on a multiple of 4, not {base:#x}")
    end = base + buffer_bytes(programs, buffered)
    if end > memory.size:
        raise ValueError(f"buffers {base:#x}..{end - 1:#x} do not fit in {memory.size:#x} "
                         f"bytes of memory")
    out: list[list[Command]] = []
    addr = base
    for program, chosen in zip(programs, buffered):
        if not chosen:
            out.append(list(program))
            continue
        if not 1 <= len(program) <= MAX_RECORDS:
            raise ValueError(f"a buffer holds 1 to {MAX_RECORDS} records, not {len(program)}")
        data = records(program)
        memory[addr:addr + len(data)] = np.frombuffer(data, dtype=np.uint8)
        out.append([encode("exec_buffer", mem_addr=addr, count=len(program))])
        addr += align_up(len(data))
    return out
