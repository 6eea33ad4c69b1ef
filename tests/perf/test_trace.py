"""`accel.perf.trace.ProgramTrace`: what `predict_program` records when asked."""

from accel.config import AccelConfig
from accel.isa import encode
from accel.isa.encoding import Command
from accel.perf import predict_program
from accel.perf.trace import ProgramTrace, active_trace, recording


def test_every_command_is_issued_once_in_order_even_illegal_ones():
    config = AccelConfig(rows=2, cols=2)
    commands = [encode("config_load", stride=8),
                encode("load_sp", mem_addr=0, sp_addr=0, rows=2, cols=2),
                Command(0x7F, 7, 0, 0),                        # illegal: sticky error
                encode("load_sp", mem_addr=0, sp_addr=0, rows=2, cols=2),
                encode("fence")]
    with recording(ProgramTrace()) as trace:
        estimate = predict_program(config, commands)
    assert active_trace() is None
    assert estimate == predict_program(config, commands)
    assert len(trace.issues) == len(commands)     # nothing recorded outside the block
    assert len(trace.issues) == len(commands)
    assert trace.issues == sorted(trace.issues)
    assert [unit for unit, _, _ in trace.units] == ["load"]   # the second load is discarded
    (_, fire, retire), = trace.units
    assert trace.issues[1] == fire < retire
    (channel, entry, words), = trace.bus
    assert channel == "read" and words == estimate.breakdown["bus"] and entry[1] > entry[0]
