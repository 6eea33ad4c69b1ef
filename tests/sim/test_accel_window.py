"""The DMA window on the whole accelerator (Verilator): precise errors and no stray bus traffic.

Every program is also checked against the golden model (responses and the whole main memory),
and the bus model records every request the accelerator made, so "the failing transfer changed
nothing and issued no bus transaction" is checked directly, request by request.
"""

import numpy as np
import pytest

from accel.isa import ErrorCause, encode
from accel.isa.spec import BY_NAME
from accel.runtime.rtl import BusModel, Program, run_programs
from accel.compiler.tiler import plan_matmul
from tests.support.configs import CONFIGS

pytestmark = pytest.mark.rtl

CONFIG = CONFIGS["4x4-ws"]  # shares the differential test's cached build
MEMORY_BYTES = 8192


def status_word(cause, name):
    ins = BY_NAME[name]
    return (1 << 1) | (int(cause) << 8) | (ins.funct7 << 16) | (ins.funct3 << 23)


def words(requests, we):
    """Byte addresses of the bus words of the recorded requests with this ``we``."""
    return {int(addr) for w, addr, _ in requests if w == we}


def assert_inside(requests, lo, last):
    nb = CONFIG.bus_bytes
    outside = [hex(int(a)) for _, a, _ in requests if a < lo or a + nb - 1 > last]
    assert not outside, f"bus requests outside {lo:#x}..{last:#x}: {outside[:8]}"


def matmul_program(rng, base):
    a = rng.integers(-128, 128, (6, 5))
    b = rng.integers(-128, 128, (5, 7))
    plan = plan_matmul(CONFIG, 6, 5, 7, base=base)
    image = plan.memory_image(a, b)
    pokes = [(base + i, int(v)) for i, v in enumerate(image[base:])]
    return a, b, plan, Program(plan.program, pokes)


def failing(cmd):
    """``cmd`` (which must fail), a store that must be discarded, status, clear, status."""
    return [cmd, encode("store_sp", mem_addr=1024, sp_addr=0, rows=1, cols=4),
            encode("status"), encode("clear_error"), encode("status")]


def test_transfers_outside_the_window_fail_without_bus_traffic():
    rng = np.random.default_rng(8)
    memory = rng.integers(0, 256, MEMORY_BYTES).astype(np.uint8)
    window = (1024, 2047)
    first = [encode("config_load", stride=8), encode("config_store", stride=16),
             encode("config_window", base=window[0], last=window[1]),
             encode("load_sp", mem_addr=1024, sp_addr=0, rows=4, cols=4),
             encode("load_acc", mem_addr=2047 - 8 - 15, acc_addr=0, rows=2, cols=4),
             encode("store_acc", mem_addr=1536, acc_addr=0, rows=2, cols=4),
             encode("fence")]
    bad = [encode("store_acc", mem_addr=2040, acc_addr=0, rows=1, cols=4),   # half inside
           encode("load_sp", mem_addr=1020, sp_addr=0, rows=1, cols=4),      # starts below
           encode("store_act", mem_addr=0, acc_addr=0, rows=1, cols=1),      # wholly below
           encode("load_sp_t", mem_addr=1024, sp_addr=0, rows=3, cols=1)]    # stride 512 out
    statuses = []
    for cmd in bad:
        if cmd.instruction.name == "load_sp_t":
            first.append(encode("config_load", stride=512))
        first += failing(cmd)
        statuses.append((len(first) - 3, status_word(ErrorCause.MEM_WINDOW,
                                                     cmd.instruction.name)))
    first += [encode("fence"), encode("status")]
    a, b, plan, second = matmul_program(rng, 4096)
    result = run_programs(CONFIG, memory, [
        Program(first), Program([encode("config_window", base=0, last=MEMORY_BYTES - 1)]),
        second], bus=BusModel(stall_prob=0.3, max_wait=2, seed=5), return_memory=True,
        record_bus=True)
    assert not result.mismatches, result.mismatches[:5]   # responses and memory as golden
    responses = result.responses[0]
    for index, word in statuses:
        assert responses[index] & ~1 == word, (index, first[index - 2])
        assert responses[index + 2] & ~1 == 0
    assert responses[-1] == 0
    requests = result.bus_requests[0]
    assert_inside(requests, *window)
    # Exactly the legal transfers' words went out: no byte of the failing ones, not even the
    # half of the first that lies inside the window.
    assert words(requests, 1) == set(range(1536, 1536 + 16 + 16, 4))
    assert words(requests, 0) == {1024 + 8 * row for row in range(4)} | \
        set(range(2024, 2048, 4))
    np.testing.assert_array_equal(plan.read_result(result.memory), a @ b)


def test_lock_until_reset():
    """LOCK_WINDOW: reconfiguring fails with WINDOW_LOCKED (also over bad operands) and the
    window keeps applying; after a reset the window is the whole memory and unlocked again."""
    rng = np.random.default_rng(9)
    memory = rng.integers(0, 256, MEMORY_BYTES).astype(np.uint8)
    locked = [encode("config_window", base=2, last=4095)]                     # misaligned
    locked += [encode("status"), encode("clear_error"),
               encode("config_window", base=0, last=4095), encode("lock_window"),
               encode("config_window", base=0, last=MEMORY_BYTES - 1)]
    locked += [encode("status"), encode("clear_error"),
               encode("load_sp", mem_addr=4096, sp_addr=0, rows=1, cols=4)]    # outside
    locked += [encode("status"), encode("clear_error"),
               encode("config_window", base=8, last=3)]                        # locked first
    locked += [encode("status"), encode("clear_error"),
               encode("load_sp", mem_addr=4092, sp_addr=0, rows=1, cols=4),    # inside
               encode("store_sp", mem_addr=0, sp_addr=0, rows=1, cols=4),
               encode("fence"), encode("status")]
    after_reset = [encode("load_sp", mem_addr=MEMORY_BYTES - 4, sp_addr=0, rows=1, cols=4),
                   encode("config_window", base=4096, last=MEMORY_BYTES - 1),
                   encode("store_sp", mem_addr=4096, sp_addr=0, rows=1, cols=4),
                   encode("lock_window"), encode("fence"), encode("status"),
                   encode("load_sp", mem_addr=0, sp_addr=0, rows=1, cols=4),
                   encode("status")]
    result = run_programs(CONFIG, memory, [Program(locked), Program(after_reset)],
                          bus=BusModel(stall_prob=0.2, max_wait=2, seed=6), isolate=True,
                          record_bus=True)
    assert not result.mismatches, result.mismatches[:5]
    got = [rd & ~1 for rd in result.responses[0]]
    assert got[1] == status_word(ErrorCause.WINDOW_INVALID, "config_window")
    assert got[6] == status_word(ErrorCause.WINDOW_LOCKED, "config_window")
    assert got[9] == status_word(ErrorCause.MEM_WINDOW, "load_sp")
    assert got[12] == status_word(ErrorCause.WINDOW_LOCKED, "config_window")
    assert got[-1] == 0
    assert_inside(result.bus_requests[0], 0, 4095)
    got = [rd & ~1 for rd in result.responses[1]]
    assert got[5] == 0
    assert got[7] == status_word(ErrorCause.MEM_WINDOW, "load_sp")
    assert words(result.bus_requests[1], 0) == {MEMORY_BYTES - 4}
    assert words(result.bus_requests[1], 1) == {4096}
