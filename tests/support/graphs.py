"""Small random graphs (`accel.compiler.graph`) that take every kind of node and host step, for
the backends' tests: seeded weights, requantization factors that keep activations in range."""

import numpy as np

from accel.compiler.graph import (Add, AvgPool, Conv2D, Dense, Graph, MaxPool, Requantize,
                                  Tensor)

__all__ = ["residual_graph", "pool_output_graph", "graph_images"]

#: Pixels -> int8 input: the model sees (p / 255 - 0.45) / 0.25, quantized by its input tensor.
PIXELS = {"kind": "normalize", "mean": 0.45, "std": 0.25}


def _conv(rng, name, src, out, tensors, kernel, cin, cout, *, stride=1, pads=(0,) * 4,
          groups=1, relu=True, per_channel=True, zero_point=0):
    kh, kw = kernel
    weight = rng.integers(-127, 128, (kh, kw, cin // groups, cout))
    bias = rng.integers(-2000, 2000, cout)
    inp = tensors[src]
    # Accumulators grow like 73 x 40 x sqrt(terms); map them onto about +-40.
    terms = kh * kw * cin // groups
    out_scale = inp.scale * 1.0 * np.sqrt(terms)
    factors = inp.scale * np.full(cout, 1.0) / out_scale / 73.0
    if per_channel:
        factors = factors * rng.uniform(0.6, 1.6, cout)
    tensors[out] = Tensor(out, (1, 1, 1), out_scale, zero_point)  # shape fixed below
    return Conv2D(name, src, out, weight, bias, Requantize.from_scales(factors, zero_point, relu),
                  (stride, stride), pads, groups)


def _shaped(tensors, node, *inputs):
    tensor = tensors[node.output]
    shape = node.output_shape(*(tensors[i].shape for i in inputs))
    tensors[node.output] = Tensor(tensor.name, shape, tensor.scale, tensor.zero_point,
                                  tensor.dtype)
    return node


def residual_graph(seed=0, size=12, channels=2, classes=10):
    """conv 3x3 SAME stride 2 (ReLU, per-channel requant) -> depthwise 3x3 SAME -> residual add
    (ReLU) -> max pool 3x3 stride 3 with padding -> average pool 2x2 with padding (valid
    pixels counted) -> dense head, int32 logits."""
    rng = np.random.default_rng(seed)
    tensors = {"input": Tensor("input", (size, size, channels), 1 / 64, -5)}
    nodes = []
    out = (size + 1) // 2
    pad = max((out - 1) * 2 + 3 - size, 0)
    nodes.append(_shaped(tensors, _conv(rng, "conv", "input", "c1", tensors, (3, 3), channels,
                                        8, stride=2, pads=(pad // 2, pad // 2, pad - pad // 2,
                                                           pad - pad // 2), zero_point=-128),
                         "input"))
    nodes.append(_shaped(tensors, _conv(rng, "dw", "c1", "c2", tensors, (3, 3), 8, 8,
                                        pads=(1, 1, 1, 1), groups=8, relu=False, zero_point=3),
                         "c1"))
    a, b = tensors["c1"], tensors["c2"]
    sum_scale = max(a.scale, b.scale) * 1.5
    ma, mb, shift = Add.factors(a.scale / sum_scale, b.scale / sum_scale)
    tensors["sum"] = Tensor("sum", a.shape, sum_scale, -20)
    nodes.append(Add("add", "c1", "c2", "sum", ma, mb, shift, relu=True))
    tensors["mp"] = Tensor("mp", (1, 1, 1), sum_scale, -20)
    nodes.append(_shaped(tensors, MaxPool("maxpool", "sum", "mp", (3, 3), (3, 3), (1, 1, 1, 1)),
                         "sum"))
    mult, shift = AvgPool.factors(1.0, 4)
    tensors["ap"] = Tensor("ap", (1, 1, 1), sum_scale, 7)
    nodes.append(_shaped(tensors, AvgPool("avgpool", "mp", "ap", (2, 2), (1, 1), mult, shift,
                                          (1, 1, 0, 0)), "mp"))
    features = int(np.prod(tensors["ap"].shape))
    tensors["logits"] = Tensor("logits", (classes,), sum_scale / 64, 0, "int32")
    nodes.append(Dense("head", "ap", "logits", rng.integers(-127, 128, (features, classes)),
                       rng.integers(-5000, 5000, classes), None))
    return Graph(f"residual{seed}", tensors, nodes, "input", "logits", "argmax",
                 {"pixels": PIXELS})


def pool_output_graph(seed=0, size=7, channels=3):
    """conv 2x2 valid (per-tensor requant, zero point -30) -> global average pool (count_include_pad
    over a padded 3x3 window at stride 2 first) -> int8 output: the network ends with host
    steps and an int8 output."""
    rng = np.random.default_rng(seed)
    tensors = {"input": Tensor("input", (size, size, channels), 1 / 50, 10)}
    nodes = [_shaped(tensors, _conv(rng, "conv", "input", "c1", tensors, (2, 2), channels, 5,
                                    per_channel=False, zero_point=-30), "input")]
    mult, shift = AvgPool.factors(0.8, 9)
    tensors["ap"] = Tensor("ap", (1, 1, 1), tensors["c1"].scale, 0)
    nodes.append(_shaped(tensors, AvgPool("avg3", "c1", "ap", (3, 3), (2, 2), mult, shift,
                                          (1, 1, 1, 1), count_include_pad=True), "c1"))
    h, w, _ = tensors["ap"].shape
    mult, shift = AvgPool.factors(1.3, h * w)
    tensors["gap"] = Tensor("gap", (1, 1, 5), tensors["c1"].scale, -4)
    nodes.append(AvgPool("gap", "ap", "gap", (h, w), (1, 1), mult, shift))
    return Graph(f"poolout{seed}", tensors, nodes, "input", "gap", None, {"pixels": PIXELS})


def graph_images(graph, count, seed=0):
    """``count`` random uint8 images of the graph's input shape."""
    rng = np.random.default_rng(seed)
    return list(rng.integers(0, 256, (count,) + graph.input_tensor.shape).astype(np.uint8))
