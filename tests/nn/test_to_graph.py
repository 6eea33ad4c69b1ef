"""accel.nn.to_graph: the committed networks as graphs compute the native reference exactly."""

from __future__ import annotations

import numpy as np
import pytest

from accel.compiler.graph import Conv2D, Dense, MaxPool
from accel.compiler.pixels import quantize_pixels
from accel.compiler.reference import run_reference
from accel.nn.model_file import load_default
from accel.nn.network import reference
from accel.nn.to_graph import network_to_graph


@pytest.mark.parametrize("name", ["cnn", "mlp"])
def test_graph_logits_equal_the_native_reference(name):
    network = load_default(name)
    graph = network_to_graph(network)
    assert graph.macs() == network.macs()
    images = np.random.default_rng(7).integers(0, 256, (6, 28, 28))
    for image in images:
        expected = reference(network, image)
        got = run_reference(graph, quantize_pixels(graph, image))
        assert got.dtype.kind == "i" and np.array_equal(got, expected)


def test_layers_map_one_to_one():
    graph = network_to_graph(load_default("cnn"))
    assert [type(n) for n in graph.nodes] == [Conv2D, MaxPool, Conv2D, MaxPool, Dense]
    assert graph.output_tensor.dtype == "int32"
    assert graph.metadata["pixels"] == {"kind": "shift", "shift": 1}
