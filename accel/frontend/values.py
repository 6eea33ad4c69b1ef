"""What an ONNX tensor name stands for while a model is imported.

* `Const` — a constant (initializer, Constant node, or folded constant subgraph);
* `QConst` — a quantized constant (a DequantizeLinear of a constant, or a QOperator weight):
  integers with an element-wise scale and zero point (broadcast to the integers' shape);
* `QValue` — data in a graph tensor (int8), seen through an ONNX layout (`accel.frontend.layout`);
* `FView` — the real values of a `QValue` (after a DequantizeLinear, or any float tensor of a
  float model once quantized);
* `Pending` — the real result of a Conv/Gemm/pooling/Add whose output quantization is not known
  yet (the next QuantizeLinear, or the calibrated range of a float model, gives it);
* `Post` — Softmax/ArgMax of a value: only a graph output may be one;
* `Input` — the float model input before it is quantized.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

__all__ = ["Const", "FView", "Input", "Pending", "Post", "QConst", "QValue", "replace"]


@dataclass(frozen=True)
class Const:
    array: np.ndarray


@dataclass(frozen=True)
class QConst:
    """``real = scale x (q - zero_point)``, all three of one shape."""

    q: np.ndarray
    scale: np.ndarray
    zero_point: np.ndarray

    def real(self) -> np.ndarray:
        return self.scale * (self.q.astype(np.float64) - self.zero_point)


@dataclass(frozen=True)
class QValue:
    tensor: str
    layout: np.ndarray


@dataclass(frozen=True)
class FView:
    value: QValue


@dataclass(frozen=True)
class Input:
    """The float model input; ``layout`` as it reaches here through layout-only ops."""

    name: str
    shape: tuple[int, ...]
    layout: np.ndarray


@dataclass(frozen=True)
class Post:
    kind: str
    source: object


@dataclass(frozen=True)
class Pending:
    """A computed real tensor awaiting its output quantization.

    Members
    -------
    op : str
        ``"conv"``, ``"dense"``, ``"avgpool"``, ``"add"`` or ``"bias"`` (adding a per-channel
        constant to a quantized tensor: an identity layer with a bias).
    node : onnx.NodeProto
        The ONNX node that made it (names the graph node and errors).
    inputs : tuple of QValue
    weight : ndarray or None
        Graph layout: conv ``(kh, kw, cin / groups, cout)``, dense ``(inputs, outputs)``; real
        values, or integers when ``weight_scale`` is given (one scale per output).
    bias : ndarray or None
        Per output: real values, or integers when ``bias_scale`` is given.
    params : dict
        Window geometry and groups.
    relu : bool
    clip : (low, high) or None
    clip_node : onnx.NodeProto or None
        The Clip (for its errors).
    name : str
        The ONNX name of the newest fused result (its calibrated range quantizes it).
    """

    op: str
    node: object
    inputs: tuple
    name: str
    weight: np.ndarray | None = None
    weight_scale: np.ndarray | None = None
    bias: np.ndarray | None = None
    bias_scale: np.ndarray | None = None
    params: dict = field(default_factory=dict)
    relu: bool = False
    clip: tuple | None = None
    clip_node: object = None
