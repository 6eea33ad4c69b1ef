"""`accel.perf.bound`: the physical bound of hand-computed GEMMs and graphs."""

import numpy as np
import pytest

from accel.compiler.gemm import ChannelRequant, Requant
from accel.compiler.graph import Conv2D, Dense, Graph, MaxPool, Requantize, Tensor
from accel.config import AccelConfig
from accel.nn.model_file import load_default
from accel.nn.to_graph import network_to_graph
from accel.perf.bound import (Bound, gemm_bound, graph_bound, network_bound,
                              network_layer_bounds, node_bounds)

EIGHT = AccelConfig(rows=8, cols=8, bus_width=32)


def test_128_cubed_on_8x8_is_compute_bound():
    bound = gemm_bound(EIGHT, 128, 128, 128)
    # A and B int8 (16 KiB each), C int32 (64 KiB)
    assert bound.min_bytes == 16384 + 16384 + 65536
    assert (bound.compute, bound.traffic, bound.cycles) == (32768, 24576, 32768)
    assert bound.fraction(40960) == pytest.approx(0.8)


def test_256_cubed_on_16x16_with_a_128_bit_bus():
    config = AccelConfig(rows=16, cols=16, bus_width=128)
    bound = gemm_bound(config, 256, 256, 256)
    assert (bound.compute, bound.traffic) == (65536, (2 * 65536 + 4 * 65536) // 16)


def test_a_ragged_requantized_gemm_with_bias_and_a_channel_table():
    # 3x5 @ 5x2: A 15, B 10, C 6 int8, bias 2 int32, table 2 x 8 bytes; 30 MACs on 4 PEs
    config = AccelConfig(rows=2, cols=2, bus_width=8, sp_kib=1, acc_kib=1, sp_banks=1,
                         acc_banks=1)
    plain = gemm_bound(config, 3, 5, 2, requant=Requant())
    assert (plain.min_bytes, plain.compute, plain.traffic) == (31, 8, 31)
    full = gemm_bound(config, 3, 5, 2, bias=True, requant=ChannelRequant(0, 2))
    assert full.min_bytes == 31 + 8 + 16 and full.cycles == 55


def test_memory_bound_matrix_vector():
    bound = gemm_bound(EIGHT, 100, 300, 1)
    # A 30,000 + x 300 + y 100 x int32 = 30,700 bytes over 4 bytes per cycle
    assert (bound.min_bytes, bound.traffic, bound.compute) == (30700, 7675, 469)
    assert bound.cycles == 7675


def test_bad_shapes_and_mixed_configurations_are_rejected():
    with pytest.raises(ValueError, match="m must be a positive integer"):
        gemm_bound(EIGHT, 0, 1, 1)
    with pytest.raises(ValueError, match="different configurations"):
        gemm_bound(EIGHT, 1, 1, 1) + gemm_bound(EIGHT.replace(bus_width=64), 1, 1, 1)


def _graph():
    """input 6x6x1 -> conv 3x3 1->2 (per-channel requant) -> 4x4x2 -> pool 2 -> 2x2x2 ->
    dense 8->3 (raw int32 logits)."""
    rq = Requantize(np.array([1 << 20, 1 << 21]), np.array([20, 21]))
    tensors = {name: Tensor(name, shape, 1.0, dtype=dtype) for name, shape, dtype in (
        ("x", (6, 6, 1), "int8"), ("c", (4, 4, 2), "int8"), ("p", (2, 2, 2), "int8"),
        ("y", (3,), "int32"))}
    nodes = [Conv2D("conv", "x", "c", np.ones((3, 3, 1, 2), int), np.zeros(2, int), rq),
             MaxPool("pool", "c", "p", (2, 2), (2, 2)),
             Dense("dense", "p", "y", np.ones((8, 3), int), np.zeros(3, int), None)]
    return Graph("tiny", tensors, nodes, "x", "y")


def test_graph_bound_moves_every_tensor_once():
    graph = _graph()
    config = AccelConfig(rows=2, cols=2, bus_width=32, sp_kib=1, acc_kib=1, sp_banks=1,
                         acc_banks=1)
    nodes = node_bounds(config, graph)
    # conv: reads x (36) + weights (18) + bias (8) + table (16), writes c (32); 4x4x2x9 MACs
    assert (nodes["conv"].min_bytes, nodes["conv"].macs) == (36 + 18 + 8 + 16 + 32, 288)
    # pool: reads c (32), writes p (8)
    assert (nodes["pool"].min_bytes, nodes["pool"].macs) == (40, 0)
    # dense: reads p (8) + weights (24) + bias (12), writes 3 int32 logits (12)
    assert (nodes["dense"].min_bytes, nodes["dense"].macs) == (56, 24)
    total = graph_bound(config, graph)
    assert total.min_bytes == 110 + 40 + 56 and total.macs == 312
    assert total.cycles == max(-(-312 // 4), -(-206 // 4)) == 78
    assert total == Bound(312, 206, 4, 4)


def test_native_networks_are_their_graphs():
    for name in ("cnn", "mlp"):
        network = load_default(name)
        layers = network_layer_bounds(EIGHT, network)
        assert len(layers) == len(network.layers)
        assert network_bound(EIGHT, network) == graph_bound(EIGHT, network_to_graph(network))
        assert network_bound(EIGHT, network).macs == network.macs()
