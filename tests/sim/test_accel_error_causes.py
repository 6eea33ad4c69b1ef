"""Every error cause on Verilator: trigger it, read it through STATUS, clear it, then run a
correct matmul whose result matches NumPy and the golden model.

All cases run in one simulator run, each program on a fresh accelerator (``isolate``), compared
command by command and byte by byte with the fuzzer's reference (the golden model plus the bus
error window, so that BUS_ERROR is predicted too). The cases are looked up by the names of
`accel.isa.spec.ErrorCause`, so a cause added to the ISA without a case here fails this test.
"""

import numpy as np
import pytest

from accel.verify.fuzz.reference import BusFaultModel
from accel.isa import Command, ErrorCause, encode
from accel.isa.spec import STATUS_BITS
from accel.runtime.rtl import BusModel, Program, run_programs
from accel.compiler.tiler import plan_matmul
from tests.support.configs import CONFIGS

pytestmark = pytest.mark.rtl

CONFIG = CONFIGS["4x4-ws"]  # shares the differential test's cached build
MEMORY = 8192
BUS_ERROR_WINDOW = (2048, 2304)
WINDOW = dict(base=4096, last=MEMORY - 1)  # the matmuls below live inside it
MATMUL_BASE = 4096
UNKNOWN = Command(0x7F, 5, 0x1234, 0)

#: cause name -> (commands before the failing one, the failing command)
CASES = {
    "ILLEGAL_INSTRUCTION": ([], UNKNOWN),
    "SP_RANGE": ([], encode("load_sp", mem_addr=0, sp_addr=CONFIG.sp_rows - 1, rows=2, cols=4)),
    "ACC_RANGE": ([], encode("store_acc", mem_addr=0, acc_addr=CONFIG.acc_rows - 1, rows=2,
                             cols=1)),
    "MEM_RANGE": ([encode("config_load", stride=4)],
                  encode("load_sp", mem_addr=0xFFFF_FFFE, sp_addr=0, rows=1, cols=4)),
    "SHAPE": ([], encode("preload", b_addr=0, k=CONFIG.rows + 1, n=1)),
    "NO_WEIGHTS": ([], encode("compute", a_addr=0, m=1, c_addr=0)),
    "BUS_ERROR": ([encode("config_load", stride=4)],
                  encode("load_sp", mem_addr=BUS_ERROR_WINDOW[0] - 8, sp_addr=0, rows=4, cols=4)),
    "MEM_WINDOW": ([encode("config_window", **WINDOW)],
                   encode("load_sp", mem_addr=0, sp_addr=0, rows=1, cols=4)),
    "WINDOW_LOCKED": ([encode("config_window", **WINDOW), encode("lock_window")],
                      encode("config_window", base=0, last=MEMORY - 1)),
    "WINDOW_INVALID": ([], encode("config_window", base=64, last=31)),
}
CAUSES = [cause for cause in ErrorCause if cause != ErrorCause.NONE]


def _status(cause, cmd):
    fields = {"error": 1, "cause": int(cause), "err_funct7": cmd.funct7,
              "err_funct3": cmd.funct3}
    return sum(value << STATUS_BITS[name][0] for name, value in fields.items())


def _case_program(name, rng):
    before, failing = CASES[name]
    a = rng.integers(-128, 128, (6, 5))
    b = rng.integers(-128, 128, (5, 7))
    plan = plan_matmul(CONFIG, 6, 5, 7, base=MATMUL_BASE)
    image = plan.memory_image(a, b)
    pokes = [(MATMUL_BASE + i, int(v)) for i, v in enumerate(image[MATMUL_BASE:])]
    wait = [encode("fence")] if name == "BUS_ERROR" else []  # bus errors are imprecise
    head = [*before, failing, *wait]
    commands = head + [encode("status"), encode("clear_error"), encode("status")] + plan.program
    out = plan.layout.c_addr, 6 * 7 * plan.out_bytes
    return Program(commands, pokes, reads=[out]), len(head), a @ b, plan


@pytest.fixture(scope="module")
def runs():
    rng = np.random.default_rng(8)
    memory = rng.integers(0, 256, MEMORY).astype(np.uint8)
    cases = {cause.name: _case_program(cause.name, rng) for cause in CAUSES
             if cause.name in CASES}
    result = run_programs(CONFIG, memory, [case[0] for case in cases.values()], isolate=True,
                          reference=BusFaultModel,
                          bus=BusModel(stall_prob=0.2, max_wait=2, cmd_gap_prob=0.2,
                                       resp_stall_prob=0.2, error_windows=(BUS_ERROR_WINDOW,),
                                       seed=8))
    return cases, result


@pytest.mark.parametrize("cause", CAUSES, ids=lambda c: c.name)
def test_error_cause_is_reported_cleared_and_then_a_matmul_runs(cause, runs):
    assert cause.name in CASES, f"no error-path case for {cause.name}"
    cases, result = runs
    index = list(cases).index(cause.name)
    program, status_at, expected, plan = cases[cause.name]
    mine = [line for line in result.mismatches if line.startswith(f"program {index}")]
    assert not mine, mine  # every response and every byte as the golden model says
    responses = result.responses[index]
    failing = CASES[cause.name][1]
    assert responses[status_at] & ~1 == _status(cause, failing)  # busy (bit 0) masked
    assert responses[status_at + 2] & ~1 == 0  # cleared
    memory = np.zeros(plan.layout.mem_size, dtype=np.uint8)
    addr, length = program.reads[0]
    memory[addr:addr + length] = np.frombuffer(result.reads[index][0], dtype=np.uint8)
    np.testing.assert_array_equal(plan.read_result(memory), expected)

