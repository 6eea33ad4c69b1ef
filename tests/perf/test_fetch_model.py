"""The cycle model of programs run from a command buffer (`FetchModel`): the records' bus words
are traffic, a narrow bus feeds the dispatcher slower than a wide one, and a program from a
buffer pays for its records' bus words."""

import pytest

from accel.config import AccelConfig
from accel.isa import encode
from accel.perf import predict_program
from accel.perf.bus import SharedBus
from accel.perf.fetch_model import FetchModel
from accel.compiler.tiler import plan_matmul

SMALL = dict(sp_kib=1, acc_kib=1, sp_banks=1, acc_banks=1)


def _config(bus_width):
    return AccelConfig(rows=4, cols=4, bus_width=bus_width, **SMALL)


def _configs():
    return [encode("config_load", stride=s) for s in range(40)] + [encode("fence")]


@pytest.mark.parametrize("bus_width, words", [(32, 123), (64, 62), (128, 31)])
def test_fetch_traffic_is_counted(bus_width, words):
    program = _configs()
    estimate = predict_program(_config(bus_width), program, from_buffer=True)
    assert estimate.breakdown["fetch"] == words == -(-12 * len(program) // (bus_width // 8))
    assert estimate.breakdown["bus"] == words
    assert estimate.commands == len(program) + 1
    assert estimate.bound >= words


def test_feed_rate_follows_the_bus_width():
    program = _configs()
    narrow = predict_program(_config(32), program, from_buffer=True)
    wide = predict_program(_config(128), program, from_buffer=True)
    direct = predict_program(_config(128), program)
    # 32-bit: three bus words per record; 128-bit: about one record per cycle.
    assert narrow.cycles >= 3 * len(program)
    assert narrow.breakdown["feed"] > wide.breakdown["feed"]
    assert wide.cycles <= direct.cycles + 10
    assert predict_program(_config(32), [], from_buffer=True).cycles == 0


def test_records_offset_in_a_bus_word():
    aligned = FetchModel(_config(128), SharedBus(1.5), start=0, addr=0)
    offset = FetchModel(_config(128), SharedBus(1.5), start=0, addr=8)
    assert aligned.available(0) < offset.available(0)   # record 0 straddles two beats


def test_gemm_from_a_buffer_costs_its_fetch():
    config = _config(32)
    plan = plan_matmul(config, 16, 16, 16)
    direct = predict_program(config, plan.program)
    buffered = predict_program(config, plan.program, from_buffer=True)
    assert buffered.breakdown["fetch"] == 3 * len(plan.program)
    assert buffered.cycles >= direct.cycles
    assert buffered.macs == direct.macs and buffered.load_bytes == direct.load_bytes
