"""A tiny seeded builder of random `Graph` objects for the compiler's tests: every node gets
random int8 weights and requantization factors that keep activations mostly unsaturated."""

from __future__ import annotations

import numpy as np

from accel.compiler.graph import (Add, AvgPool, Conv2D, Dense, Graph, MaxPool, Requantize,
                                  Tensor)


class Builder:
    """Append nodes to a chain (or a DAG, naming inputs); `graph` closes it."""

    def __init__(self, seed: int, shape: tuple, zero_point: int = -3) -> None:
        self.rng = np.random.default_rng(seed)
        self.tensors = {"x": Tensor("x", shape, 0.05, zero_point)}
        self.nodes: list = []
        self.last = "x"

    def _out(self, name: str, node, shape, scale: float, zp: int, dtype: str = "int8") -> str:
        self.tensors[name] = Tensor(name, shape, scale, zp, dtype)
        self.nodes.append(node)
        self.last = name
        return name

    def _zp(self) -> int:
        return int(self.rng.integers(-20, 21))

    def conv(self, cout, kernel=(3, 3), stride=(1, 1), pads=(0, 0, 0, 0), groups=1,
             per_channel=True, relu=False, src=None, name=None) -> str:
        src = src or self.last
        t = self.tensors[src]
        kh, kw = kernel
        cin = t.shape[2]
        name = name or f"n{len(self.nodes)}"
        weight = self.rng.integers(-128, 128, (kh, kw, cin // groups, cout))
        bias = self.rng.integers(-3000, 3000, cout)
        terms = kh * kw * cin // groups
        factors = np.full(cout if per_channel else 1, 1.0 / (70.0 * np.sqrt(terms)))
        if per_channel:
            factors *= self.rng.uniform(0.5, 2.0, cout)
        zp = self._zp()
        node = Conv2D(name, src, name, weight, bias, Requantize.from_scales(factors, zp, relu),
                      stride, pads, groups)
        return self._out(name, node, node.output_shape(t.shape), t.scale * 1.3, zp)

    def dense(self, n, requant=True, per_channel=False, relu=False, src=None) -> str:
        src = src or self.last
        k = self.tensors[src].size
        name = f"n{len(self.nodes)}"
        weight = self.rng.integers(-128, 128, (k, n))
        bias = self.rng.integers(-3000, 3000, n)
        if not requant:
            node = Dense(name, src, name, weight, bias, None)
            return self._out(name, node, (n,), 1.0, 0, "int32")
        factors = np.full(n if per_channel else 1, 1.0 / (70.0 * np.sqrt(k)))
        if per_channel:
            factors *= self.rng.uniform(0.5, 2.0, n)
        zp = self._zp()
        node = Dense(name, src, name, weight, bias, Requantize.from_scales(factors, zp, relu))
        return self._out(name, node, (n,), 1.0, zp)

    def maxpool(self, kernel, stride, pads=(0, 0, 0, 0), src=None) -> str:
        src = src or self.last
        t = self.tensors[src]
        name = f"n{len(self.nodes)}"
        node = MaxPool(name, src, name, kernel, stride, pads)
        return self._out(name, node, node.output_shape(t.shape), t.scale, t.zero_point)

    def avgpool(self, kernel, stride, pads=(0, 0, 0, 0), include=False, src=None) -> str:
        src = src or self.last
        t = self.tensors[src]
        name = f"n{len(self.nodes)}"
        mult, shift = AvgPool.factors(self.rng.uniform(0.7, 1.3), kernel[0] * kernel[1])
        node = AvgPool(name, src, name, kernel, stride, mult, shift, pads, include)
        return self._out(name, node, node.output_shape(t.shape), t.scale, self._zp())

    def add(self, a, b, relu=False) -> str:
        ta, tb = self.tensors[a], self.tensors[b]
        name = f"n{len(self.nodes)}"
        scale = max(ta.scale, tb.scale) * 1.5
        ma, mb, shift = Add.factors(ta.scale / scale, tb.scale / scale)
        node = Add(name, a, b, name, ma, mb, shift, relu)
        return self._out(name, node, ta.shape, scale, self._zp())

    def graph(self, output=None) -> Graph:
        return Graph("test", self.tensors, tuple(self.nodes), "x", output or self.last)

    def inputs(self, count: int = 2) -> list[np.ndarray]:
        shape = self.tensors["x"].shape
        return [self.rng.integers(-128, 128, shape) for _ in range(count)]
