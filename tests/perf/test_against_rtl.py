"""The cycle model against RTL cycles (Verilator): within 10 % on GEMMs and MNIST steps.

The configurations are the differential tests' 4x4 ones (tests/sim), so the simulator builds
are shared; one simulator run per test.
"""

import pytest

from accel.config import AccelConfig
from accel.nn.compiler import compile_network
from accel.nn.model_file import load_default
from accel.arch.microarch import align_up
from accel.perf import predict_matmul, predict_network, predict_program
from accel.verify.cycle_model import GemmCase, percent_error, rtl_gemm_cycles, rtl_network_cycles
from accel.compiler.tiler import ChannelRequant, Requant, plan_matmul

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


def test_gemms_from_buffers_within_ten_percent_of_rtl():
    """Each GEMM program run as one EXEC_BUFFER (`predict_program(from_buffer=True)`)."""
    config = CONFIGS["4x4-ws"]
    measured = rtl_gemm_cycles(config, GEMMS, from_buffer=True)
    base = align_up(max(plan_matmul(config, c.m, c.k, c.n, bias=c.bias,
                                    requant=c.requant).layout.mem_size for c in GEMMS))
    for case, cycles in zip(GEMMS, measured):
        plan = plan_matmul(config, case.m, case.k, case.n, bias=case.bias,
                           requant=case.requant)
        predicted = predict_program(config, plan.program, from_buffer=True,
                                    buffer_addr=base).cycles
        assert abs(percent_error(predicted, cycles)) <= TOLERANCE, \
            f"{case.label} from a buffer: model {predicted}, RTL {cycles}"
        base += align_up(12 * len(plan.program))


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
