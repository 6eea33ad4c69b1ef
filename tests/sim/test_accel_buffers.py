"""Command buffers on the whole accelerator (Verilator): EXEC_BUFFER's error paths and random
programs run both ways, all against the golden model.

The error programs read STATUS and ERROR_INDEX after each case: a record that fails in the
middle of its buffer (nested EXEC_BUFFER, a malformed word, an unknown code, a range error)
names its position; a buffer out of memory, outside the DMA window or misaligned fails as
EXEC_BUFFER itself with index 0 and runs no record; a CLEAR_ERROR record resumes the buffer.
"""

import random
import struct

import numpy as np
import pytest

from accel.arch.microarch import align_up
from accel.isa import ErrorCause, encode, records
from accel.isa.spec import BY_NAME
from accel.runtime.rtl import BusModel, Program, run_programs
from accel.verify.buffers import buffer_bytes, place_in_buffers
from accel.verify.randprog import ProgramSpace, random_program
from tests.support.configs import CONFIGS

pytestmark = pytest.mark.rtl

BUF = 0x1000
MEM = 0x2000


def _pokes(addr, data):
    return [(addr + i, b) for i, b in enumerate(data)]


def _status(cause, funct7, funct3):
    return (1 << 1) | (int(cause) << 8) | (funct7 << 16) | (funct3 << 23)


def _check(cmds):
    return [*cmds, encode("status"), encode("error_index"), encode("clear_error"),
            encode("error_index"), encode("read_counter", counter=3)]


def test_buffer_errors_match_golden():
    config = CONFIGS["4x4-ws"]   # shares the differential test's build
    good = [encode("config_load", stride=4), encode("load_sp", mem_addr=0, sp_addr=0, rows=4,
                                                    cols=4)]
    cases = {
        "nested": (good + [encode("exec_buffer", mem_addr=BUF, count=1)] + good, None),
        "malformed": (good + [encode("fence")] + good, encode("fence").word(rd=5)),
        "unknown": (good + [encode("fence")] + good, encode("fence").word(0, 0, 0) | 0x7F << 25),
        "sp_range": (good + [encode("load_sp", mem_addr=0, sp_addr=config.sp_rows - 1,
                                    rows=2, cols=1)] + good, None),
        "resumes": ([encode("read_counter", counter=99), encode("clear_error")] + good, None),
    }
    programs, expected = [], {}
    for name, (buffer, bad_word) in cases.items():
        data = bytearray(records(buffer))
        if bad_word is not None:
            struct.pack_into("<I", data, 12 * len(good), bad_word)
        cmds = _check([encode("exec_buffer", mem_addr=BUF, count=len(buffer))])
        programs.append(Program(cmds, pokes=_pokes(BUF, data)))
        expected[name] = len(programs) - 1
    limit = config.mem_size_limit
    direct = [(encode("exec_buffer", mem_addr=limit - 16, count=2), ErrorCause.MEM_RANGE),
              (encode("exec_buffer", mem_addr=BUF + 2, count=1), ErrorCause.MEM_RANGE),
              (encode("exec_buffer", mem_addr=BUF - 64, count=8), ErrorCause.MEM_WINDOW)]
    for cmd, _ in direct:
        program = [encode("config_window", base=BUF, last=MEM - 1), cmd,
                   encode("config_window", base=0, last=limit - 1)]
        programs.append(Program(_check(program),
                                pokes=_pokes(BUF - 64, records([encode("fence")] * 16))))
    memory = np.random.default_rng(1).integers(0, 256, MEM).astype(np.uint8)
    result = run_programs(config, memory, programs,
                          bus=BusModel(stall_prob=0.3, max_wait=2, cmd_gap_prob=0.2, seed=2))
    assert not result.mismatches, result.mismatches[:5]
    exec_buffer = BY_NAME["exec_buffer"]
    position = len(good) + 1
    for name, cause, codes in [("nested", ErrorCause.ILLEGAL_INSTRUCTION, (0x18, 0)),
                               ("malformed", ErrorCause.ILLEGAL_INSTRUCTION, (0x15, 0)),
                               ("unknown", ErrorCause.ILLEGAL_INSTRUCTION, (0x7F, 0)),
                               ("sp_range", ErrorCause.SP_RANGE, (0x11, 0))]:
        got = result.responses[expected[name]]
        assert got[1] & ~1 == _status(cause, *codes), name
        assert (got[2], got[4]) == (position, 0), name
    resumed = result.responses[expected["resumes"]]
    assert (resumed[1] & ~1, resumed[2]) == (0, 0)   # (bit 0: busy)
    for index, (_, cause) in enumerate(direct):
        got = result.responses[len(cases) + index]
        assert got[3] & ~1 == _status(cause, exec_buffer.funct7, exec_buffer.funct3)
        assert got[4] == 0


@pytest.mark.parametrize("name", ["3x5-ws", "2x3-os-bus64"])
def test_random_programs_from_buffers_match_golden(name):
    """Half of the differential test's kind of programs run as one EXEC_BUFFER each."""
    config = CONFIGS[name]
    rng = random.Random(f"buffers-{name}")
    space = ProgramSpace(data_size=2048, dump_addr=2048, max_rows=6)
    programs = [random_program(config, rng, length=rng.randint(8, 30), illegal_rate=0.04,
                               space=space) for _ in range(30)]
    buffered = [rng.random() < 0.5 for _ in programs]
    base = align_up(space.memory_size(config))
    memory = np.frombuffer(rng.randbytes(base + buffer_bytes(programs, buffered)),
                           dtype=np.uint8).copy()
    issued = place_in_buffers(programs, buffered, memory, base)
    bus = BusModel(stall_prob=0.2, max_wait=3, cmd_gap_prob=0.2, resp_stall_prob=0.2,
                   seed=rng.randrange(1 << 30))
    result = run_programs(config, memory, [Program(p) for p in issued], bus=bus)
    assert not result.mismatches, "\n".join(result.mismatches[:10])
    assert [len(r) for r in result.responses] == [len(p) for p in issued]
