"""One view of native and graph compilations: the golden backend of `accel.runtime.target` equals
the exact references (`accel.nn.network.reference`, `accel.compiler.reference.run_reference`)."""

import numpy as np
import pytest

from accel.compiler.pixels import quantize_pixels
from accel.compiler.reference import run_reference
from accel.config import AccelConfig
from accel.nn import inference
from accel.nn.compiler import compile_network
from accel.nn.network import reference
from accel.runtime.target import as_target, bound_cycles, host_work, run_golden
from tests.support.configs import CONFIGS
from tests.support.graphs import graph_images, pool_output_graph, residual_graph
from tests.support.nets import random_images, random_mlp


def test_native_network_view():
    network = random_mlp(seed=4)
    config = CONFIGS["4x4-ws"]
    compiled = compile_network(network, config, base=256)
    target = as_target(compiled)
    assert target.compiled is compiled and target.base == 256
    assert target.output_dtype == "int32" and target.output_shape == (network.classes,)
    np.testing.assert_array_equal(target.lut, np.arange(256) >> network.input_shift)
    assert target.input_shift == network.input_shift
    images = random_images(2, seed=4)
    ours, theirs = run_golden(target, images), inference.run_golden(compiled, images)
    for image, a, b in zip(images, ours, theirs):
        np.testing.assert_array_equal(a.logits, reference(network, image))
        assert (a.macs, a.load_bytes, a.store_bytes, a.instructions) == \
            (b.macs, b.load_bytes, b.store_bytes, b.instructions)
        assert bound_cycles(target, a) == inference.bound_cycles(compiled, b)
    # Recompiled when asked for another base; compiled when given the network.
    assert as_target(compiled, base=512).base == 512
    assert as_target(network, config).base == 0


@pytest.mark.parametrize("name", ["4x4-ws", "4x4-os", "3x5-ws"])
@pytest.mark.parametrize("make", [residual_graph, pool_output_graph])
def test_graph_golden_equals_reference(name, make):
    graph = make(seed=3)
    target = as_target(graph, CONFIGS[name])
    assert target.output_shape == graph.output_tensor.shape
    images = graph_images(graph, 3, seed=3)
    results = run_golden(target, images)
    outputs = []
    for image, result in zip(images, results):
        want = run_reference(graph, quantize_pixels(graph, image)).reshape(-1)
        np.testing.assert_array_equal(result.logits, want)
        assert result.logits.dtype == (np.int8 if target.output_dtype == "int8" else np.int32)
        assert result.macs >= graph.macs() and result.instructions > 0
        outputs.append(result.logits)
    assert any(not np.array_equal(outputs[0], o) for o in outputs[1:])
    assert all(host_work(s.op) > 0 for s in target.steps if not hasattr(s, "commands"))


def test_bad_inputs_are_one_line_errors():
    target = as_target(pool_output_graph(seed=1), CONFIGS["4x4-ws"])
    with pytest.raises(ValueError, match=r"takes \(7, 7, 3\) images"):
        target.input_bytes(np.zeros((7, 7), np.uint8))
    with pytest.raises(ValueError, match="between 0 and 255"):
        target.input_bytes(np.full((7, 7, 3), 256))
    with pytest.raises(ValueError, match="cannot run a str"):
        as_target("net", AccelConfig(rows=2, cols=2))
    with pytest.raises(ValueError, match="needs a configuration"):
        as_target(residual_graph(seed=1))
