"""The native MNIST networks as graphs of the general compiler (`accel.compiler.graph`).

A `QuantizedNetwork` is a special case of a `Graph`: valid stride-1 convolutions, non-overlapping
max pools and dense layers with per-tensor requantization, symmetric tensors (zero point 0) and
the input ``pixel >> input_shift``. `network_to_graph` writes it as one, so the general compiler
and every backend of compiled graphs run the committed networks with logits identical to
`accel.nn.network.reference`.
"""

from __future__ import annotations

from accel.compiler.graph import Conv2D, Dense, Graph, MaxPool, Requantize, Tensor
from accel.nn.network import Conv2D as NativeConv, Dense as NativeDense, QuantizedNetwork

__all__ = ["network_to_graph"]


def _requant(requant) -> Requantize | None:
    if requant is None:
        return None
    return Requantize([requant.multiplier], [requant.shift], requant.zero_point, requant.relu)


def network_to_graph(network: QuantizedNetwork) -> Graph:
    """The graph computing exactly `accel.nn.network.reference` of ``network``.

    Tensor scales come from the network's recorded ``scales`` metadata where present (they are
    informational); the pixel mapping is ``{"kind": "shift"}`` with the network's input shift.
    """
    scales = [s for s in network.metadata.get("scales", []) if isinstance(s, dict)]
    shapes = network.shapes()
    input_scale = 1.0 / (255 >> network.input_shift) if network.input_shift < 8 else 1.0
    tensors = {"input": Tensor("input", shapes[0], input_scale)}
    nodes = []
    current, scale, weighted = "input", input_scale, 0
    for index, (layer, shape) in enumerate(zip(network.layers, shapes[1:])):
        name = f"layer{index}"
        if isinstance(layer, (NativeConv, NativeDense)):
            recorded = scales[weighted] if weighted < len(scales) else {}
            weighted += 1
            scale = float(recorded.get("output", 1.0)) or 1.0
        last = index == len(network.layers) - 1
        tensors[name] = Tensor(name, shape, scale, 0, "int32" if last else "int8")
        if isinstance(layer, NativeConv):
            nodes.append(Conv2D(name, current, name, layer.weight, layer.bias,
                                _requant(layer.requant)))
        elif isinstance(layer, NativeDense):
            nodes.append(Dense(name, current, name, layer.weight, layer.bias,
                               _requant(layer.requant)))
        else:
            nodes.append(MaxPool(name, current, name, (layer.size, layer.size),
                                 (layer.size, layer.size)))
        current = name
    metadata = dict(network.metadata)
    metadata["pixels"] = {"kind": "shift", "shift": network.input_shift}
    metadata["source"] = f"native network {network.name}"
    return Graph(network.name, tensors, tuple(nodes), "input", current, None, metadata)
