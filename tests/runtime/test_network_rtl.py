"""Compiled networks on the accelerator's RTL (Verilator): logits identical to the reference.

The configurations are the differential tests' (tests/sim), so the simulator builds are shared.
"""

import numpy as np
import pytest

from accel.config import AccelConfig
from accel.nn.compiler import compile_network
from accel.nn.inference import bound_cycles, run_golden
from accel.runtime.network_rtl import run_rtl
from accel.nn.network import reference
from tests.support.nets import random_cnn, random_images, random_mlp

pytestmark = pytest.mark.rtl

SMALL = dict(sp_kib=1, acc_kib=1, sp_banks=1, acc_banks=1)


def _check(network, config, images):
    compiled = compile_network(network, config)
    results = run_rtl(compiled, images, batch=2)
    golden = run_golden(compiled, images)
    assert len(results) == len(images)
    for result, want, image in zip(results, golden, images):
        np.testing.assert_array_equal(result.logits, reference(network, image))
        np.testing.assert_array_equal(result.logits, want.logits)
        assert result.cycles >= bound_cycles(compiled, want)
    return results


def test_cnn_on_rtl_weight_stationary():
    config = AccelConfig(rows=4, cols=4, dataflow="ws", **SMALL)
    results = _check(random_cnn(seed=4), config, random_images(3, seed=4))
    assert len({r.cycles for r in results}) <= 2    # data-independent timing, give or take


def test_default_cnn_on_rtl_classifies_held_out_digits():
    from accel.nn.mnist import data
    from accel.nn.model_file import load_default

    images, labels = data.load_offline(seed=0)
    _, _, images, labels = data.split_offline(images, labels, holdout=0.2, seed=0)
    config = AccelConfig(rows=4, cols=4, dataflow="ws", **SMALL)
    results = _check(load_default("cnn"), config, images[2:5])
    assert [r.prediction for r in results] == list(labels[2:5])


def test_mlp_on_rtl_output_stationary():
    config = AccelConfig(rows=4, cols=4, dataflow="os", **SMALL)
    _check(random_mlp(seed=5), config, random_images(1, seed=5))


def _check_graph(graph, config, images):
    """The graph on the RTL equals its exact reference and the golden backend's output."""
    from accel.compiler.lower import compile_graph
    from accel.compiler.pixels import quantize_pixels
    from accel.compiler.reference import run_reference
    from accel.runtime import target

    compiled = compile_graph(graph, config)
    results = run_rtl(compiled, images, batch=2)
    golden = target.run_golden(target.as_target(compiled), images)
    assert len(results) == len(images)
    for result, want, image in zip(results, golden, images):
        np.testing.assert_array_equal(
            result.logits, run_reference(graph, quantize_pixels(graph, image)).reshape(-1))
        np.testing.assert_array_equal(result.logits, want.logits)
        assert result.logits.dtype == want.logits.dtype
        assert result.cycles >= target.bound_cycles(target.as_target(compiled), want)
    return results


def test_residual_graph_on_rtl_non_square():
    """SAME stride-2 conv, depthwise conv, residual add, padded 3x3/3 max pool, average pool,
    dense head, per-channel requantization, on a 3x5 array."""
    from tests.support.configs import CONFIGS
    from tests.support.graphs import graph_images, residual_graph

    graph = residual_graph(seed=5)
    _check_graph(graph, CONFIGS["3x5-ws"], graph_images(graph, 2, seed=5))


def test_pool_output_graph_on_rtl_output_stationary():
    """A graph ending with host steps (average pools) and an int8 output."""
    from tests.support.configs import CONFIGS
    from tests.support.graphs import graph_images, pool_output_graph

    graph = pool_output_graph(seed=6)
    results = _check_graph(graph, CONFIGS["4x4-os"], graph_images(graph, 2, seed=6))
    assert all(r.logits.dtype == np.int8 and r.logits.size == 5 for r in results)
