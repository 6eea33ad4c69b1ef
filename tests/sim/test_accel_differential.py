"""The whole accelerator on Verilator against the golden model: random programs, both dataflows.

Each configuration runs 125 random programs (hazard-heavy, with illegal commands mixed in) back
to back on one simulated accelerator, with random bus stalls and wait states, random gaps in the
command stream and random response back-pressure. After every program the bench compares every
response and the whole main memory (which includes a dump of the scratchpad and accumulator)
with the golden model.
"""

import random

import numpy as np
import pytest

from accel.verify.randprog import ProgramSpace, random_program
from accel.runtime.rtl import BusModel, Program, run_programs
from tests.support.configs import CONFIGS

pytestmark = pytest.mark.rtl

PROGRAMS_PER_CONFIG = 125


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_random_programs_match_golden(name):
    config = CONFIGS[name]
    rng = random.Random(f"differential-{name}")
    space = ProgramSpace(data_size=2048, dump_addr=2048, max_rows=6)
    memory = np.frombuffer(rng.randbytes(space.memory_size(config)), dtype=np.uint8).copy()
    programs = [Program(random_program(config, rng, length=rng.randint(8, 30),
                                       illegal_rate=0.04, space=space))
                for _ in range(PROGRAMS_PER_CONFIG)]
    bus = BusModel(stall_prob=0.2, max_wait=3, cmd_gap_prob=0.2, resp_stall_prob=0.2,
                   seed=rng.randrange(1 << 30))
    result = run_programs(config, memory, programs, bus=bus)
    assert not result.mismatches, "\n".join(result.mismatches[:10])
    assert len(result.cycles) == PROGRAMS_PER_CONFIG
