"""The dispatcher's DMA window: precise checks before dispatch, lock, and the window outputs.

Runs on the harness of `tests.control.test_dispatcher` (fake units, golden-model reference):
responses and the exact unit-command sequence must equal the golden model's, so a transfer
failing the window check provably reaches no unit. `check_against_golden` also treats
CONFIG_WINDOW like FENCE: answered only after every earlier unit command completed.
"""

from __future__ import annotations

import pytest

from accel.isa import Command, encode
from accel.isa.spec import BY_NAME, ErrorCause
from tests.control.test_dispatcher import (CFG_NS, CFG_SQ, UNITS, check_against_golden,
                                           simulate)


def status_word(cause: ErrorCause, name: str) -> int:
    ins = BY_NAME[name]
    return (1 << 1) | (int(cause) << 8) | (ins.funct7 << 16) | (ins.funct3 << 23)


def failing(cmd: Command) -> list[Command]:
    """``cmd``, then what must be discarded, the status and the clear."""
    return [cmd, encode("config_window", base=0, last=63), encode("lock_window"),
            encode("load_sp", mem_addr=256, sp_addr=0, rows=1, cols=1),
            encode("status"), encode("clear_error")]


def window_program(cfg):
    top = cfg.mem_size_limit
    inside = [
        encode("load_sp", mem_addr=256, sp_addr=0, rows=2, cols=2),
        encode("load_sp_t", mem_addr=300, sp_addr=4, rows=2, cols=2),
        encode("load_acc", mem_addr=512 - 4 * cfg.cols, acc_addr=0, rows=1, cols=cfg.cols),
        encode("store_sp", mem_addr=256, sp_addr=0, rows=1, cols=1),
        encode("store_acc", mem_addr=400, acc_addr=0, rows=2, cols=1),
        encode("store_act", mem_addr=511, acc_addr=0, rows=1, cols=1),
    ]
    outside = [
        (encode("load_sp", mem_addr=255, sp_addr=0, rows=1, cols=1), ErrorCause.MEM_WINDOW),
        (encode("load_sp_t", mem_addr=510, sp_addr=0, rows=1, cols=3), ErrorCause.MEM_WINDOW),
        (encode("load_acc", mem_addr=509, acc_addr=0, rows=1, cols=1), ErrorCause.MEM_WINDOW),
        (encode("store_sp", mem_addr=0, sp_addr=0, rows=1, cols=1), ErrorCause.MEM_WINDOW),
        (encode("store_acc", mem_addr=501, acc_addr=0, rows=1, cols=cfg.cols),
         ErrorCause.MEM_WINDOW),
    ]
    if top <= 1 << 16:   # the golden model here models the whole address space
        outside += [   # outside both the memory and the window: MEM_RANGE is checked first
            (encode("load_sp", mem_addr=top - 1, sp_addr=0, rows=1, cols=2),
             ErrorCause.MEM_RANGE),
            (encode("store_act", mem_addr=0xFFFF_FFFF, acc_addr=0, rows=1, cols=1),
             ErrorCause.MEM_RANGE)]
    bad_windows = [dict(base=512, last=255), dict(base=2, last=255), dict(base=0, last=254)]
    if top < 1 << 32:
        bad_windows.append(dict(base=0, last=top + 3))
    program = [encode("config_load", stride=4), encode("config_store", stride=8),
               encode("load_sp", mem_addr=0, sp_addr=0, rows=1, cols=1),    # reset window
               encode("config_window", base=256, last=511), *inside]
    expect = {}                                  # status index -> word
    for cmd, cause in outside:
        program += failing(cmd)
        expect[len(program) - 2] = status_word(cause, cmd.instruction.name)
    program.append(encode("config_load", stride=150))       # rows 0 and 1 inside, row 2 not
    program += [encode("load_sp", mem_addr=256, sp_addr=0, rows=2, cols=1)]
    program += failing(encode("load_sp", mem_addr=256, sp_addr=0, rows=3, cols=1))
    expect[len(program) - 2] = status_word(ErrorCause.MEM_WINDOW, "load_sp")
    for operands in bad_windows:
        program += failing(encode("config_window", **operands))
        expect[len(program) - 2] = status_word(ErrorCause.WINDOW_INVALID, "config_window")
    program += [encode("lock_window"), encode("lock_window"), *inside[:2]]
    for operands in (dict(base=0, last=top - 1), dict(base=8, last=3)):    # locked first
        program += failing(encode("config_window", **operands))
        expect[len(program) - 2] = status_word(ErrorCause.WINDOW_LOCKED, "config_window")
    program += failing(outside[0][0])
    expect[len(program) - 2] = status_word(ErrorCause.MEM_WINDOW, "load_sp")
    program += [*inside, encode("fence"), encode("status")]
    expect[len(program) - 1] = 0
    return program, expect


@pytest.mark.slow
@pytest.mark.parametrize("cfg", [CFG_SQ, CFG_NS.replace(dataflow="os")], ids=["4x4-ws", "2x3-os"])
def test_window_checks_match_golden(cfg):
    """Every transfer outside the window fails precisely (no unit command, the golden status);
    bad or locked CONFIG_WINDOWs fail with their causes; the window outputs follow."""
    program, expect = window_program(cfg)
    windows = []
    run = simulate(cfg, program, seed=11, on_cycle=lambda ctx, dut, cycle: windows.append(
        (ctx.get(dut.window_base), ctx.get(dut.window_last))))
    exp = check_against_golden(cfg, program, run)
    for index, word in expect.items():
        assert run.responses[index][1] & ~1 == word, (index, program[index - 4])
    # the load under the reset window, 3 + 2 + 3 inside, the 2-row strided one
    assert len(exp.units["load"]) == 1 + 3 + 2 + 3 + 1
    assert windows[0] == (0, cfg.mem_size_limit - 1)
    assert windows[-1] == (256, 511)
    assert set(windows) == {windows[0], windows[-1]}


@pytest.mark.slow
def test_config_window_waits_until_idle():
    """CONFIG_WINDOW is answered only after the transfers before it finished, and the window
    outputs never change while a unit command is in flight."""
    cfg = CFG_SQ
    program = [encode("config_load", stride=4),
               encode("load_sp", mem_addr=0, sp_addr=0, rows=8, cols=1),         # 60 cycles
               encode("store_acc", mem_addr=1024, acc_addr=0, rows=1, cols=1),
               encode("config_window", base=1024, last=2047),
               encode("load_sp", mem_addr=1024, sp_addr=0, rows=1, cols=1),
               encode("config_window", base=0, last=4095),
               encode("store_acc", mem_addr=0, acc_addr=0, rows=1, cols=1),
               encode("fence")]
    windows = []
    run = simulate(cfg, program, seed=12, ready_prob=1.0, cmd_gap=0.0, resp_stall=0.0,
                   latency_of=lambda u, n: 60 if (u, n) == ("load", 0) else 5,
                   on_cycle=lambda ctx, dut, cycle: windows.append(
                       (ctx.get(dut.window_base), ctx.get(dut.window_last))))
    check_against_golden(cfg, program, run)
    load = run.units["load"][0]
    assert run.responses[3][0] > load.done
    changes = [c for c in range(1, len(windows)) if windows[c] != windows[c - 1]]
    assert len(changes) == 2
    for cycle in changes:
        for u in UNITS:
            for c in run.units[u]:
                assert not c.issue < cycle <= c.done, (cycle, u, c)
