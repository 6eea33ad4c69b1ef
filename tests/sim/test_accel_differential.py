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

from accel.config import AccelConfig
from accel.verify.randprog import ProgramSpace, random_program
from accel.runtime.rtl import BusModel, Program, run_programs

pytestmark = pytest.mark.rtl

SMALL = dict(sp_kib=1, acc_kib=1, sp_banks=1, acc_banks=1)

CONFIGS = {
    "4x4-ws": AccelConfig(rows=4, cols=4, dataflow="ws", **SMALL),
    "4x4-os": AccelConfig(rows=4, cols=4, dataflow="os", **SMALL),
    "3x5-ws": AccelConfig(rows=3, cols=5, dataflow="ws", sp_kib=1, acc_kib=1, sp_banks=2,
                          acc_banks=2),
    "2x3-os-bus64": AccelConfig(rows=2, cols=3, dataflow="os", bus_width=64, acc_width=24,
                                **SMALL),
}

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
