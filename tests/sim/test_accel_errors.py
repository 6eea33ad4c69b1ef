"""Error paths of the whole accelerator on Verilator: illegal commands and bus errors.

An error sets the sticky status (with its cause and the failing instruction's codes), changes
nothing else, and the accelerator runs the next program correctly once the error is cleared.
"""

import numpy as np
import pytest

from accel.isa import Command, ErrorCause, encode
from accel.isa.spec import BY_NAME
from accel.runtime.rtl import BusModel, Program, run_programs
from accel.compiler.tiler import plan_matmul
from tests.support.configs import CONFIGS

pytestmark = pytest.mark.rtl

CONFIG = CONFIGS["4x4-ws"]  # shares the differential test's cached build


def _status(cause, name):
    ins = BY_NAME[name]
    return (1 << 1) | (int(cause) << 8) | (ins.funct7 << 16) | (ins.funct3 << 23)


def _matmul_program(rng, base):
    a = rng.integers(-128, 128, (6, 5))
    b = rng.integers(-128, 128, (5, 7))
    plan = plan_matmul(CONFIG, 6, 5, 7, base=base)
    image = plan.memory_image(a, b)
    pokes = [(base + i, int(v)) for i, v in enumerate(image[base:])]
    return a, b, plan, pokes, plan.program


def test_illegal_instruction_sets_error_then_next_program_runs():
    rng = np.random.default_rng(5)
    memory = rng.integers(0, 256, 8192).astype(np.uint8)
    unknown = Command(0x7F, 5, 0x1234, 0)
    first = [unknown, encode("config_load", stride=3), encode("status"),
             encode("load_sp", mem_addr=0, sp_addr=0, rows=1, cols=1),  # discarded
             encode("clear_error"), encode("status"),
             encode("load_sp", mem_addr=0, sp_addr=CONFIG.sp_rows - 1, rows=2, cols=1),
             encode("status"), encode("clear_error")]
    a, b, plan, pokes, second = _matmul_program(rng, 4096)
    result = run_programs(CONFIG, memory, [Program(first), Program(second, pokes)],
                          bus=BusModel(stall_prob=0.3, max_wait=2, seed=3), return_memory=True)
    assert not result.mismatches, result.mismatches[:5]  # also checked against the golden model
    responses = result.responses[0]
    assert responses[2] & ~1 == (1 << 1) | (int(ErrorCause.ILLEGAL_INSTRUCTION) << 8) \
        | (0x7F << 16) | (5 << 23)
    assert responses[5] & ~1 == 0
    assert responses[7] & ~1 == _status(ErrorCause.SP_RANGE, "load_sp")
    c = plan.read_result(result.memory)
    np.testing.assert_array_equal(c, a @ b)


def test_bus_errors_set_bus_error_then_next_program_runs():
    rng = np.random.default_rng(6)
    memory = rng.integers(0, 256, 8192).astype(np.uint8)
    window = (1024, 1088)
    load_error = [encode("config_load", stride=8),
                  encode("load_sp", mem_addr=1000, sp_addr=0, rows=8, cols=4),  # rows 3.. fail
                  encode("fence"), encode("status"), encode("clear_error"), encode("status")]
    store_error = [encode("config_store", stride=16),
                   encode("store_acc", mem_addr=1040, acc_addr=0, rows=2, cols=4),
                   encode("fence"), encode("status"), encode("clear_error")]
    a, b, plan, pokes, third = _matmul_program(rng, 4096)
    before = memory.copy()
    result = run_programs(CONFIG, memory, [Program(load_error), Program(store_error),
                                           Program(third, pokes)],
                          check=False, bus=BusModel(error_windows=(window,), seed=4),
                          return_memory=True)
    assert not result.mismatches, result.mismatches
    assert result.responses[0][3] & ~1 == _status(ErrorCause.BUS_ERROR, "load_sp")
    assert result.responses[0][5] & ~1 == 0
    assert result.responses[1][3] & ~1 == _status(ErrorCause.BUS_ERROR, "store_acc")
    # The failing store wrote nothing outside its rows (and nothing inside the error window).
    untouched = np.ones(4096, dtype=bool)
    untouched[1040:1040 + 16 + 16] = False
    np.testing.assert_array_equal(result.memory[:4096][untouched], before[:4096][untouched])
    np.testing.assert_array_equal(result.memory[window[0]:window[1]],
                                  before[window[0]:window[1]])
    np.testing.assert_array_equal(plan.read_result(result.memory), a @ b)
