"""The cycle model against RTL cycles (Verilator): within 10 % on GEMMs and MNIST steps.

The configurations are the differential tests' 4x4 ones (tests/sim), so the simulator builds
are shared; one simulator run per test.
"""

import numpy as np
import pytest

from accel.config import AccelConfig
from accel.isa import encode
from accel.nn.compiler import compile_network
from accel.nn.model_file import load_default
from accel.perf import predict_matmul, predict_network
from accel.perf.program import predict_program
from accel.runtime.rtl import Program, run_programs
from accel.verify.cycle_model import GemmCase, percent_error, rtl_gemm_cycles, rtl_network_cycles
from accel.compiler.tiler import ChannelRequant, Requant

pytestmark = pytest.mark.rtl

SMALL = dict(sp_kib=1, acc_kib=1, sp_banks=1, acc_banks=1)
CONFIGS = {
    "4x4-ws": AccelConfig(rows=4, cols=4, dataflow="ws", **SMALL),
    "4x4-os": AccelConfig(rows=4, cols=4, dataflow="os", **SMALL),
}
REQUANT = Requant(multiplier=1 << 20, shift=24, relu=True)
GEMMS = (
    GemmCase(1, 1, 1),
    GemmCase(16, 16, 16),
    GemmCase(5, 7, 3, bias=True),
    GemmCase(33, 17, 9, requant=REQUANT),
    GemmCase(40, 24, 12, bias=True, requant=REQUANT),
    GemmCase(30, 20, 10, bias=True, requant=ChannelRequant(0, 10, relu=True)),
)
TOLERANCE = 10.0


@pytest.mark.parametrize("name", CONFIGS)
def test_gemms_within_ten_percent_of_rtl(name):
    config = CONFIGS[name]
    measured = rtl_gemm_cycles(config, GEMMS)
    for case, cycles in zip(GEMMS, measured):
        predicted = predict_matmul(config, case.m, case.k, case.n, bias=case.bias,
                                   requant=case.requant).cycles
        assert abs(percent_error(predicted, cycles)) <= TOLERANCE, \
            f"{name} {case.label}: model {predicted}, RTL {cycles}"


@pytest.mark.parametrize("name, model", [("4x4-ws", "cnn"), ("4x4-os", "mlp")])
def test_every_mnist_step_within_ten_percent_of_rtl(name, model):
    config = CONFIGS[name]
    compiled = compile_network(load_default(model), config)
    estimate = predict_network(config, compiled)
    measured = rtl_network_cycles(compiled)
    steps = 0
    for layer, cycles in zip(estimate.layers, measured):
        if cycles is None:
            assert layer.host and layer.cycles == 0
            continue
        steps += 1
        assert abs(percent_error(layer.cycles, cycles)) <= TOLERANCE, \
            f"{name} {model} {layer.name}: model {layer.cycles}, RTL {cycles}"
    assert steps >= 1


def _pool_program(kh, kw, stride, out_w, rows, avg, *, stores=1):
    pitch = (out_w - 1) * stride + kw
    program = [encode("config_pool", kh=kh, kw=kw, sh=stride, sw=stride, mode=int(avg),
                      in_pitch=pitch, out_w=out_w), encode("config_store", stride=4)]
    program += [encode("store_pool", mem_addr=1024 + 256 * i, acc_addr=0, rows=rows, cols=4)
                for i in range(stores)]
    return program + [encode("fence")]


def test_store_pool_within_ten_percent_of_rtl():
    """STORE_POOL (max and average, non-overlapping and overlapping windows, back to back):
    the dispatcher's range check, one accumulator row read per cycle, the reduction."""
    config = CONFIGS["4x4-ws"]
    programs = [_pool_program(2, 2, 2, 4, 16, False), _pool_program(2, 2, 2, 4, 16, True),
                _pool_program(3, 3, 2, 3, 9, False), _pool_program(2, 2, 2, 4, 12, False,
                                                                   stores=3)]
    run = run_programs(config, np.zeros(4096, dtype=np.uint8), [Program(p) for p in programs])
    assert not run.mismatches, run.mismatches
    for program, cycles in zip(programs, run.cycles):
        predicted = predict_program(config, program).cycles
        assert abs(percent_error(predicted, cycles)) <= TOLERANCE, \
            f"{program[2]}: model {predicted}, RTL {cycles}"
