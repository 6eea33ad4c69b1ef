"""The physical lower bound on an accelerator's cycles for a workload.

``bound = max(MACs / PEs, minimal bytes / bus bytes per cycle)``, where the minimal bytes move
every weight, input and output tensor exactly once: a GEMM reads A and B once (and its bias row
and per-channel requantization table), and writes C once; a network reads its input, weights,
biases and requantization tables once, writes its output once, and writes each intermediate
tensor once and reads it once. Element widths are those the programs use: ``in_bytes`` (int8)
operands and activations, ``acc_bytes`` (int32) biases and raw GEMM results, 8 bytes per channel
of a per-channel requantization table (an int32 multiplier and shift).

Unlike the bound of a program's own traffic (`CycleEstimate.bound`, which grows when a schedule
moves more bytes), this bound depends only on the workload and the configuration, so it judges
the schedule too.
"""

from __future__ import annotations

from dataclasses import dataclass

from accel.config import AccelConfig
from accel.compiler.gemm import ChannelRequant, Requant
from accel.compiler.graph import Conv2D, Dense, Graph, node_inputs

__all__ = ["Bound", "gemm_bound", "graph_bound", "node_bounds", "network_bound",
           "network_layer_bounds"]


@dataclass(frozen=True)
class Bound:
    """The physical bound of one workload on one configuration.

    Members
    -------
    macs : int
        Useful multiply-accumulates.
    min_bytes : int
        Main-memory bytes when every tensor moves once (see the module docstring).
    pes : int
        Processing elements of the array.
    bus_bytes : int
        Main-memory bytes per cycle (the bus width).
    """

    macs: int
    min_bytes: int
    pes: int
    bus_bytes: int

    @property
    def compute(self) -> int:
        """``ceil(MACs / PEs)``."""
        return -(-self.macs // self.pes)

    @property
    def traffic(self) -> int:
        """``ceil(minimal bytes / bus bytes per cycle)``."""
        return -(-self.min_bytes // self.bus_bytes)

    @property
    def cycles(self) -> int:
        """The bound: ``max(compute, traffic)``."""
        return max(self.compute, self.traffic)

    def fraction(self, cycles: float) -> float:
        """How close ``cycles`` comes to the bound: ``bound / cycles`` (1.0 for no cycles)."""
        return self.cycles / cycles if cycles else 1.0

    def __add__(self, other: "Bound") -> "Bound":
        if (self.pes, self.bus_bytes) != (other.pes, other.bus_bytes):
            raise ValueError("bounds of different configurations do not add")
        return Bound(self.macs + other.macs, self.min_bytes + other.min_bytes, self.pes,
                     self.bus_bytes)

    def to_dict(self) -> dict:
        return {"cycles": self.cycles, "compute": self.compute, "traffic": self.traffic,
                "macs": self.macs, "min_bytes": self.min_bytes}


def _bound(config: AccelConfig, macs: int, nbytes: int) -> Bound:
    return Bound(macs, nbytes, config.rows * config.cols, config.bus_width // 8)


def gemm_bound(config: AccelConfig, m: int, k: int, n: int, *, bias: bool = False,
               requant: Requant | ChannelRequant | None = None) -> Bound:
    """The bound of C (m x n) = A (m x k) @ B (k x n) [+ bias] [-> activation]: A and B read
    once (``in_bytes``), C written once (``in_bytes`` requantized, ``acc_bytes`` raw), the
    bias row (``n x acc_bytes``) and a per-channel table (``8 n``) read once.

    Raises
    ------
    ValueError
        On a non-positive dimension.
    """
    for name, value in (("m", m), ("k", k), ("n", n)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive integer, not {value!r}")
    eb = config.in_bytes
    out = eb if requant is not None else config.acc_bytes
    nbytes = (m * k + k * n) * eb + m * n * out + (n * config.acc_bytes if bias else 0)
    if isinstance(requant, ChannelRequant):
        nbytes += requant.nbytes
    return _bound(config, m * k * n, nbytes)


def _tensor_bytes(config: AccelConfig, graph: Graph, name: str) -> int:
    tensor = graph.tensors[name]
    width = config.acc_bytes if tensor.dtype == "int32" else config.in_bytes
    return tensor.size * width


def node_bounds(config: AccelConfig, graph: Graph) -> dict[str, Bound]:
    """The bound of each node of ``graph`` (by node name), such that they add up to
    `graph_bound`: a node reads its weights, bias and per-channel table, the graph input if it
    is the input's first consumer and every other input tensor it is the first consumer of,
    and writes its output once."""
    read: set[str] = set()
    out = {}
    for node in graph.nodes:
        nbytes = _tensor_bytes(config, graph, node.output)
        for name in node_inputs(node):
            if name not in read:
                read.add(name)
                nbytes += _tensor_bytes(config, graph, name)
        macs = 0
        if isinstance(node, (Conv2D, Dense)):
            nbytes += node.weight.size * config.in_bytes + node.bias.size * config.acc_bytes
            if node.requant is not None and not node.requant.per_tensor:
                nbytes += 8 * node.requant.multiplier.size
            if isinstance(node, Conv2D):
                oh, ow, cout = graph.tensors[node.output].shape
                macs = oh * ow * cout * int(node.weight[..., 0].size)
            else:
                macs = node.weight.size
        out[node.name] = _bound(config, macs, nbytes)
    return out


def graph_bound(config: AccelConfig, graph: Graph) -> Bound:
    """The bound of one inference of ``graph``: its MACs, and every tensor (input, weights,
    biases, per-channel tables, output; each intermediate written and read) moved once."""
    total = _bound(config, 0, 0)
    for bound in node_bounds(config, graph).values():
        total = total + bound
    return total


def network_layer_bounds(config: AccelConfig, network) -> list[Bound]:
    """The bound of each layer of a native network (`accel.nn.network.QuantizedNetwork`), in
    order, as the nodes of the graph it is (`accel.nn.to_graph.network_to_graph`)."""
    from accel.nn.to_graph import network_to_graph

    graph = network_to_graph(network)
    return list(node_bounds(config, graph).values())


def network_bound(config: AccelConfig, network) -> Bound:
    """The bound of one inference of a native network: its layers' bounds added up."""
    total = _bound(config, 0, 0)
    for bound in network_layer_bounds(config, network):
        total = total + bound
    return total
