"""`accel.perf.timeline`: the cycle model's busy intervals agree with its own estimate."""

import pytest

from accel.config import AccelConfig
from accel.isa import encode
from accel.nn.compiler import compile_network
from accel.perf import predict_matmul, predict_network
from accel.perf.bound import gemm_bound, network_bound
from accel.perf.timeline import (LANES, Interval, Timeline, drawn_bound, matmul_timeline,
                                 network_timeline, program_timeline)
from tests.support.configs import CONFIGS
from tests.support.nets import random_cnn


def _within(timeline: Timeline) -> None:
    assert timeline.intervals
    for interval in timeline.intervals:
        assert interval.lane in LANES
        assert 0 <= interval.start < interval.end <= timeline.cycles, interval


@pytest.mark.parametrize("name", ["4x4-ws", "4x4-os", "3x5-ws", "2x3-os-bus64"])
@pytest.mark.parametrize("shape", [(16, 16, 16), (1, 9, 70), (70, 1, 1), (17, 33, 9)])
def test_gemm_busy_cycles_are_the_breakdown(name, shape):
    config = CONFIGS[name]
    timeline, estimate = matmul_timeline(config, *shape, bias=True)
    assert estimate == predict_matmul(config, *shape, bias=True)   # the trace changes nothing
    assert timeline.cycles == estimate.cycles and timeline.source == "cycle model"
    _within(timeline)
    breakdown = estimate.breakdown
    assert timeline.busy("load") == pytest.approx(breakdown["load"], abs=1)
    assert timeline.busy("execute") == pytest.approx(breakdown["compute"], abs=1)
    assert timeline.busy("store") == pytest.approx(breakdown["store"], abs=1)
    assert len(timeline.lane("issue")) == breakdown["issue"] == estimate.commands
    assert timeline.busy("issue") == pytest.approx(estimate.commands)   # 1 cycle each, no overlap
    bus = timeline.lane("bus")
    assert {i.kind for i in bus} == {"read", "write"}
    # Interleaved transfers stretch each other: the bus is busy at least as long as it moves.
    assert timeline.busy("bus") >= breakdown["bus"]
    m, k, n = shape
    want = gemm_bound(config, m, k, n, bias=True)
    assert timeline.bound == want.cycles >= -(-m * k * n // (config.rows * config.cols))


def test_a_program_without_units_has_only_issue_intervals():
    config = AccelConfig(rows=2, cols=2)
    commands = [encode("config_load", stride=16), encode("fence")]
    timeline, estimate = program_timeline(config, commands, "two commands")
    assert [i.lane for i in timeline.intervals] == ["issue", "issue"]
    assert timeline.bound == 0 and timeline.cycles == estimate.cycles


def test_a_network_is_its_programs_back_to_back():
    config = CONFIGS["4x4-ws"]
    compiled = compile_network(random_cnn(seed=3), config)
    timeline = network_timeline(config, compiled, "cnn")
    estimate = predict_network(config, compiled)
    assert timeline.bound == network_bound(config, compiled.network).cycles
    assert timeline.bound_label == "bound max(MACs/PEs, minimal bytes/bus)"
    assert timeline.cycles == estimate.cycles
    _within(timeline)
    assert [name for _, name in timeline.marks] == [layer.name for layer in estimate.layers]
    starts = [t for t, _ in timeline.marks]
    assert starts == sorted(starts) and starts[0] == 0
    assert len(timeline.lane("issue")) == estimate.commands
    busy = sum(layer.estimate.breakdown["compute"] for layer in estimate.layers
               if layer.estimate is not None)
    assert timeline.busy("execute") == pytest.approx(busy, abs=len(estimate.layers))


def test_busy_counts_overlaps_once():
    timeline = Timeline("t", "test", 10, (Interval("load", 0, 4), Interval("load", 2, 6),
                                         Interval("load", 8, 9)), 0, "")
    assert timeline.busy("load") == 7 and timeline.busy("store") == 0


def test_the_drawn_bound_is_the_physical_bound_or_the_compute_bound():
    config = AccelConfig(rows=3, cols=5)
    assert drawn_bound(config, 31) == (3, "compute bound MACs/PEs")
    bound = gemm_bound(config, 30, 30, 30)
    assert drawn_bound(config, bound, 2) == (2 * bound.cycles,
                                              "bound max(MACs/PEs, minimal bytes/bus)")
