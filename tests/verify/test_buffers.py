"""Placing random programs in command buffers: the records land where the EXEC_BUFFERs point,
and the golden model gives the same final state either way."""

import random

import numpy as np
import pytest

from accel.config import AccelConfig
from accel.golden import GoldenModel
from accel.isa import decode, from_records
from accel.verify.buffers import buffer_bytes, choose_buffered, place_in_buffers
from accel.verify.randprog import ProgramSpace, random_program

CONFIG = AccelConfig(rows=2, cols=3, sp_kib=1, acc_kib=1, sp_banks=1, acc_banks=1,
                     bus_width=64)
SPACE = ProgramSpace(data_size=1024, dump_addr=1024, max_rows=4)


def test_buffers_hold_the_programs_and_run_the_same():
    rng = random.Random(3)
    programs = [random_program(CONFIG, rng, length=20, illegal_rate=0.1, space=SPACE)
                for _ in range(6)]
    flags = [True, False, True, True, False, True]
    base = SPACE.memory_size(CONFIG)
    memory = np.zeros(base + buffer_bytes(programs, flags), dtype=np.uint8)
    memory[:base] = np.frombuffer(rng.randbytes(base), dtype=np.uint8)
    issued = place_in_buffers(programs, flags, memory, base)
    direct = GoldenModel(CONFIG, mem_size=memory.size)
    direct.mem[:] = memory
    buffered = GoldenModel(CONFIG, mem_size=memory.size)
    buffered.mem[:] = memory
    for program, flag, run in zip(programs, flags, issued):
        if flag:
            (cmd,) = run
            ops = decode(cmd)[1]
            start = ops["mem_addr"]
            assert start % 64 == 0 and start >= base
            assert from_records(memory[start:start + 12 * ops["count"]].tobytes()) == program
        else:
            assert run == program
        direct.responses(program)
        buffered.responses(run)
    assert (direct.mem == buffered.mem).all()
    assert (direct.sp == buffered.sp).all() and (direct.acc == buffered.acc).all()


def test_bad_placements_are_refused():
    program = [random_program(CONFIG, random.Random(1), length=4, space=SPACE)]
    with pytest.raises(ValueError, match="do not fit"):
        place_in_buffers(program, [True], np.zeros(64, dtype=np.uint8), 0)
    with pytest.raises(ValueError, match="multiple of 4"):
        place_in_buffers(program, [True], np.zeros(1 << 16, dtype=np.uint8), 2)
    with pytest.raises(ValueError, match="1 to 65536"):
        place_in_buffers([[]], [True], np.zeros(64, dtype=np.uint8), 0)
    with pytest.raises(ValueError, match="between 0 and 1"):
        choose_buffered(random.Random(0), 3, 1.5)
    assert choose_buffered(random.Random(0), 4, 0) == [False] * 4
    assert choose_buffered(random.Random(0), 4, 1) == [True] * 4
