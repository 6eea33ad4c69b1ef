"""Random programs: they fail only where they mean to, and a small campaign covers everything.

The checks run the programs on the fuzzer's reference model (no simulator). A failing command
the generator did not mean to produce would show as a failure without the error tail after it;
one that the hardware would judge differently (a main-memory block past the bench's memory but
inside the address space: the golden model says MEM_RANGE, the bus would answer err) is caught
by a model that records every block.
"""

import random

import pytest

from accel.config import AccelConfig
from accel.verify.fuzz.campaign import DEFAULT_SPACE, FuzzOptions, make_batch
from accel.verify.fuzz.coverage import Coverage
from accel.verify.fuzz.reference import BusFaultModel
from accel.golden import AccelError
from accel.isa import ErrorCause, encode
from accel.verify.randprog import ErrorRounds, error_causes, random_program, zero_state_commands

SMALL = dict(sp_kib=1, acc_kib=1, sp_banks=1, acc_banks=1)
CONFIGS = [AccelConfig(rows=4, cols=4, dataflow="ws", **SMALL),
           AccelConfig(rows=2, cols=3, dataflow="os", bus_width=64, acc_width=24, **SMALL),
           AccelConfig(rows=3, cols=5, dataflow="ws", bus_width=8, mem_addr_width=16, **SMALL)]
TAIL = [encode("status"), encode("error_index"), encode("clear_error"), encode("status")]


class StrictModel(BusFaultModel):
    """Fails the test on a block past the bench's memory that the address space would hold."""

    def _block(self, mem_addr, rows, cols, stride, elem_bytes):
        end = mem_addr + (rows - 1) * stride + cols * elem_bytes
        assert end <= self.mem.size or end > self.config.mem_size_limit, \
            f"block {mem_addr:#x}..{end - 1:#x} is past memory but addressable"
        return super()._block(mem_addr, rows, cols, stride, elem_bytes)


def _batches(config, seed, batches=6, count=8):
    options = FuzzOptions(seed=seed, illegal_rate=0.2, length=40, buffers=0)  # commands seen
    rng = random.Random(seed)
    rounds = ErrorRounds()
    for index in range(batches):
        yield make_batch(config, options, rng, count, first=index == 0, rounds=rounds)


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: f"{c.rows}x{c.cols}-{c.dataflow}")
def test_failures_are_intended_and_cleared(config):
    causes = set()
    for batch in _batches(config, seed=config.rows):
        model = StrictModel(config, mem_size=batch.memory.size,
                            error_windows=batch.bus.error_windows)
        model.mem[:] = batch.memory.array()
        for program in batch.programs:
            for index, cmd in enumerate(program):
                try:
                    model.execute(cmd)
                except AccelError as exc:
                    causes.add(exc.cause)
                    after = program[index + 1:index + 6]
                    if exc.cause == ErrorCause.BUS_ERROR:  # imprecise: fenced before the read
                        assert after[:3] == [encode("fence"), encode("status"),
                                             encode("clear_error")], (index, cmd)
                    else:
                        assert after[0].instruction.name == "config_load"
                        assert after[1:] == TAIL, (index, cmd)
            assert model.error == ErrorCause.NONE  # every program leaves the error clear
    expected = set(error_causes(DEFAULT_SPACE, fresh=True, lock=True))
    assert causes == expected


def test_programs_without_windows_or_faults_never_touch_them():
    config = CONFIGS[0]
    space = DEFAULT_SPACE.__class__(data_size=1024, dump_addr=1024, max_rows=4, windows=False)
    rng = random.Random(4)
    for _ in range(30):
        program = random_program(config, rng, length=40, illegal_rate=0.3, space=space)
        names = {cmd.instruction.name for cmd in program if cmd.instruction is not None}
        assert not names & {"config_window", "lock_window"}
    assert ErrorCause.BUS_ERROR not in error_causes(space)
    assert not {c.name for c in error_causes(space)} & {"MEM_WINDOW", "WINDOW_INVALID"}


def test_a_short_campaign_covers_every_instruction_hazard_and_cause():
    """The CLI test's budget (tests/cli/test_cli_fuzz.py) meets every coverage goal."""
    config = CONFIGS[0]
    options = FuzzOptions(programs=40, batch=20, seed=1)
    rng = random.Random(options.seed)
    rounds = ErrorRounds()
    coverage = Coverage()
    for index in range(2):
        batch = make_batch(config, options, rng, 20, first=index == 0, rounds=rounds)
        model = BusFaultModel(config, mem_size=batch.memory.size,
                              error_windows=batch.bus.error_windows)
        model.mem[:] = batch.memory.array()
        coverage.run(model, batch.programs)
    assert coverage.complete(), coverage.missing()


def test_zero_state_commands_zero_everything():
    config = CONFIGS[1]
    model = BusFaultModel(config, mem_size=4096)
    model.sp[:] = 5
    model.acc[:] = -7
    model.mem[:] = 9
    zeros = zero_state_commands(config)
    model.mem[:zeros.row_bytes] = 0
    model.run(zeros.commands)
    assert not model.sp.any() and not model.acc.any()
