"""The fuzzer end to end on Verilator: a real difference is found, minimized and replayed.

The RTL is correct, so the difference is made on the other side: the reference model is a
deliberately wrong variant of the golden model (`tests.support.buggy_reference`), injected
through the library API. The fuzzer must find a failing program, shrink it to a handful of
commands that still fail on the simulator, and write a reproducer that fails again when
replayed against the same wrong model and passes against the real one.
"""

import pytest

from accel.verify.fuzz import FuzzOptions, Reproducer, fuzz
from tests.support.buggy_reference import ForgetfulAccumulate
from tests.support.configs import CONFIGS

pytestmark = pytest.mark.rtl

CONFIG = CONFIGS["4x4-ws"]  # shares the differential test's cached build

# Seed 26 (run directly, not from a command buffer, so the reproducer lists the instructions)
# draws a program whose only difference under the wrong model is a forgotten accumulation.


def test_fuzz_minimizes_a_real_difference_to_a_replayable_reproducer(tmp_path):
    options = FuzzOptions(programs=1, batch=1, length=24, seed=26, buffers=0.0,
                          reference=ForgetfulAccumulate)
    report = fuzz(CONFIG, options, out_dir=tmp_path)
    assert report.mismatches and report.programs == 1
    original = report.instructions
    reproducer = report.reproducer
    assert report.reproducer_path == tmp_path / "reproducer-26.json"
    assert reproducer.isolate and len(reproducer.programs) == 1
    names = [cmd.instruction.name for cmd in reproducer.programs[0]]
    assert "compute_acc" in names  # the wrong model's instruction
    assert len(names) <= 8 < original
    assert reproducer.failure

    loaded = Reproducer.load(report.reproducer_path)
    assert loaded.programs == reproducer.programs and loaded.bus == reproducer.bus
    again = loaded.run(reference=ForgetfulAccumulate)
    assert again.mismatches == reproducer.failure  # deterministic: the same difference
    assert not loaded.run().mismatches  # against the real golden model the RTL is right


def test_unminimized_reproducer_replays_the_batch_as_it_ran(tmp_path):
    options = FuzzOptions(programs=1, batch=1, length=24, seed=26, buffers=0.0,
                          reference=ForgetfulAccumulate)
    report = fuzz(CONFIG, options, out_dir=tmp_path, minimize=False)
    reproducer = Reproducer.load(report.reproducer_path)
    assert not reproducer.isolate and reproducer.commands == report.instructions
    assert reproducer.run(reference=ForgetfulAccumulate).mismatches == report.failure
