"""The network compiler on the golden model: bit-exact with the NumPy integer reference."""

import numpy as np
import pytest

from accel.config import AccelConfig
from accel.isa.spec import BY_NAME
from accel.nn.compiler import AccelStep, HostStep, compile_network
from accel.nn.inference import bound_cycles, run_golden
from accel.nn.network import Conv2D, Dense, MaxPool2D, QuantizedNetwork, reference
from accel.compiler.tiler import Requant
from tests.support.nets import random_cnn, random_images, random_mlp

FENCE = BY_NAME["fence"]
SMALL = dict(sp_kib=1, acc_kib=1, sp_banks=1, acc_banks=1)
CONFIGS = [
    AccelConfig(rows=4, cols=4, dataflow="ws", **SMALL),
    AccelConfig(rows=3, cols=5, dataflow="os", **SMALL),
    AccelConfig(rows=1, cols=1, dataflow="ws", **SMALL),
    AccelConfig(rows=8, cols=2, dataflow="ws"),
    AccelConfig(rows=16, cols=16),
]


@pytest.mark.slow
@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: f"{c.rows}x{c.cols}-{c.dataflow}")
@pytest.mark.parametrize("make", [random_cnn, random_mlp], ids=["cnn", "mlp"])
def test_golden_backend_equals_reference(config, make):
    network = make(seed=config.rows * 10 + config.cols)
    compiled = compile_network(network, config)
    images = random_images(3, seed=config.cols)
    images[0] = 0                                   # a blank image
    results = run_golden(compiled, images)
    for result, image in zip(results, images):
        np.testing.assert_array_equal(result.logits, reference(network, image))
        assert result.macs >= network.macs()
        assert bound_cycles(compiled, result) > 0
    # The same compiled network serves image after image: no state leaks between them.
    again = run_golden(compiled, images[::-1])
    np.testing.assert_array_equal(again[0].logits, results[-1].logits)


def test_steps_alternate_programs_and_pooling_and_end_with_fences():
    compiled = compile_network(random_cnn(), CONFIGS[0])
    kinds = [type(s) for s in compiled.steps]
    assert kinds == [AccelStep, HostStep, AccelStep, HostStep, AccelStep]
    for step in compiled.steps:
        if isinstance(step, AccelStep):
            last = step.commands[-1]
            assert (last.funct7, last.funct3) == (FENCE.funct7, FENCE.funct3)


@pytest.mark.slow
def test_consecutive_convolutions_keep_the_pitch():
    rng = np.random.default_rng(5)
    network = QuantizedNetwork("deep", [
        Conv2D(rng.integers(-128, 128, (3, 3, 1, 4)), rng.integers(-99, 99, 4),
               Requant(1 << 30, 37, relu=True)),
        Conv2D(rng.integers(-128, 128, (2, 3, 4, 6)), rng.integers(-99, 99, 6),
               Requant(1 << 30, 39, relu=True)),
        MaxPool2D(3),
        Dense(rng.integers(-128, 128, (8 * 8 * 6, 12)), rng.integers(-99, 99, 12),
              Requant(1 << 30, 40, relu=False)),
        Dense(rng.integers(-128, 128, (12, 10)), rng.integers(-99, 99, 10), None),
    ])
    for config in CONFIGS[:3]:
        compiled = compile_network(network, config)
        assert len(compiled.steps) == 3            # conv+conv, pool, dense+dense
        image = random_images(1, seed=9)[0]
        np.testing.assert_array_equal(run_golden(compiled, [image])[0].logits,
                                      reference(network, image))


def test_buffers_start_at_the_base_address():
    base = 0x1230
    compiled = compile_network(random_cnn(), CONFIGS[0], base=base)
    assert compiled.input_addr >= base and all(addr >= base for addr, _ in compiled.constants)
    image = random_images(1)[0]
    assert (run_golden(compiled, [image])[0].logits == reference(random_cnn(), image)).all()


def test_bad_inputs_are_clear_errors():
    rng = np.random.default_rng(0)
    conv = Conv2D(rng.integers(-1, 1, (3, 3, 1, 2)), np.zeros(2, int), Requant())
    with pytest.raises(ValueError, match="cannot follow a convolution"):
        compile_network(QuantizedNetwork("x", [conv, Dense(np.zeros((26 * 26 * 2, 10), int),
                                                           np.zeros(10, int), None)]),
                        CONFIGS[0])
    with pytest.raises(ValueError, match="int8 with int32 accumulators"):
        compile_network(random_mlp(), AccelConfig(rows=2, cols=2, acc_width=24))
    with pytest.raises(ValueError, match="main memory"):
        compile_network(random_mlp(), AccelConfig(rows=2, cols=2, mem_addr_width=14))
    with pytest.raises(ValueError, match="last layer"):
        QuantizedNetwork("x", [MaxPool2D(2)])
    with pytest.raises(ValueError, match="does not fit"):
        QuantizedNetwork("x", [Conv2D(rng.integers(-1, 1, (3, 3, 2, 2)), np.zeros(2, int),
                                      Requant()), MaxPool2D(2),
                               Dense(np.zeros((4, 10), int), np.zeros(10, int), None)])
    with pytest.raises(ValueError, match="between -128 and 127"):
        Dense(np.full((4, 2), 200), np.zeros(2, int), None)
    compiled = compile_network(random_mlp(), CONFIGS[0])
    with pytest.raises(ValueError, match="pixels between 0 and 255"):
        compiled.input_bytes(np.full((28, 28), 300))
    with pytest.raises(ValueError, match="takes"):
        compiled.input_bytes(np.zeros((20, 20), np.uint8))
