"""ONNX export of float networks (`accel.nn.layers.FloatNetwork`), as PyTorch would write them.

The exported graph is what ``torch.onnx.export`` produces for the equivalent PyTorch module, so
that any ONNX tool (onnxruntime's quantizer, `accel.frontend.onnx`) sees a familiar model:

* input ``"input"``: float32 NCHW ``(N, C, H, W)``, ``N`` symbolic (``"N"``) or fixed — the
  values `accel.nn.train.float_input` gives (``(pixel >> input_shift) / (255 >> input_shift)``),
  transposed from NHWC to NCHW;
* `Conv` -> ``Conv`` (weight OIHW, ``pads`` ``[top, left, bottom, right]``, ``strides``), with
  the bias as a third input;
* `ReLU` -> ``Relu``; `MaxPool` -> ``MaxPool`` (``kernel_shape``, ``strides``, no pads: the
  dropped remainder is ONNX's floor mode);
* the first `Dense` after a spatial tensor -> ``Flatten`` (axis 1, which flattens in CHW order)
  then ``Gemm`` (``transB = 1``, weight ``(outputs, inputs)``): the weight rows, in accelgen's
  HWC flattening order, are permuted to CHW so the result is unchanged; later `Dense` layers ->
  ``Gemm``;
* output ``"logits"``: float32 ``(N, classes)``.

Initializers are named like PyTorch's state dict (``layer<i>.weight``, ``layer<i>.bias``); nodes
are named ``/layer<i>/<Op>``. Only the ``onnx`` package (``onnx.helper``) is used.
"""

from __future__ import annotations

import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from accel.nn.layers import Conv, Dense, FloatNetwork, MaxPool, ReLU

__all__ = ["export_float", "to_nchw"]

#: ONNX opsets whose Conv/Relu/MaxPool/Flatten/Gemm match the graph written here.
OPSETS = range(11, 22)


def to_nchw(x: np.ndarray) -> np.ndarray:
    """An NHWC batch (what `FloatNetwork.forward` takes) as the NCHW batch the ONNX model takes
    (a contiguous float32 copy)."""
    return np.ascontiguousarray(np.asarray(x, dtype=np.float32).transpose(0, 3, 1, 2))


def image_classifier(nodes: list, inits: list, name: str, input_shape: tuple, classes: int,
                     opset: int) -> onnx.ModelProto:
    """The model around ``nodes``: float NCHW ``input`` of ``input_shape`` (batch first, an int
    or a symbolic name), the last node's output renamed ``logits`` of ``(batch, classes)``,
    IR version at most 8 (readable by onnxruntime >= 1.14)."""
    nodes[-1].output[0] = "logits"
    graph = helper.make_graph(
        nodes, name,
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, list(input_shape))],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [input_shape[0], classes])],
        initializer=inits)
    model = helper.make_model(graph, producer_name="accelgen",
                              opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = min(model.ir_version, 8)
    return model


def _check_arguments(network: FloatNetwork, opset: int, batch) -> None:
    if not isinstance(network, FloatNetwork):
        raise ValueError(f"network must be a FloatNetwork, not {type(network).__name__}")
    if not isinstance(opset, int) or isinstance(opset, bool) or opset not in OPSETS:
        raise ValueError(f"opset must be between {OPSETS[0]} and {OPSETS[-1]}, not {opset!r}")
    if batch is not None and (not isinstance(batch, int) or isinstance(batch, bool)
                              or batch < 1):
        raise ValueError(f"batch must be None (symbolic) or an integer >= 1, not {batch!r}")
    if len(network.input_shape) != 3:
        raise ValueError(f"network input_shape must be (h, w, c), not {network.input_shape}")
    if not network.layers or not isinstance(network.layers[-1], Dense):
        raise ValueError("network must end in a dense layer (its outputs are the logits)")


def export_float(network: FloatNetwork, path: str | os.PathLike | None = None, *,
                 opset: int = 13, batch: int | None = None) -> onnx.ModelProto:
    """The ONNX model of a float network (see the module docstring), checked by
    `onnx.checker` and shape-inferred; written to ``path`` unless it is None.

    Parameters
    ----------
    network : FloatNetwork
        Conv, ReLU, MaxPool and Dense layers; a Dense layer last (its outputs the logits).
    path : str or path-like, optional
        Where to write the ``.onnx`` file.
    opset : int
        ONNX opset of the default domain, 11 to 21.
    batch : int, optional
        A fixed batch size; default a symbolic dimension ``"N"``.

    Returns
    -------
    onnx.ModelProto

    Raises
    ------
    ValueError
        A bad argument or a layer that has no ONNX counterpart here, or layer shapes that do
        not chain (the message names the layer).
    """
    _check_arguments(network, opset, batch)
    h, w, c = network.input_shape
    n = "N" if batch is None else batch
    nodes, inits = [], []
    name, shape = "input", (h, w, c)  # current tensor; its HWC shape, or (features,)
    for index, layer in enumerate(network.layers):
        prefix = f"layer{index}"
        if isinstance(layer, Conv):
            if len(shape) != 3:
                raise ValueError(f"layer {index}: a conv after a dense layer")
            weight = layer.params["weight"]
            kh, kw, cin, cout = weight.shape
            if cin != shape[2]:
                raise ValueError(f"layer {index}: conv takes {cin} channels, not {shape[2]}")
            top, left, bottom, right = layer.pads(shape[:2])
            oh, ow = layer.output_size(shape[:2])
            if oh < 1 or ow < 1:
                raise ValueError(f"layer {index}: conv kernel larger than its input")
            inits += [numpy_helper.from_array(weight.transpose(3, 2, 0, 1).astype(np.float32),
                                              f"{prefix}.weight"),
                      numpy_helper.from_array(layer.params["bias"].astype(np.float32),
                                              f"{prefix}.bias")]
            out = f"/{prefix}/Conv_output_0"
            nodes.append(helper.make_node(
                "Conv", [name, f"{prefix}.weight", f"{prefix}.bias"], [out],
                name=f"/{prefix}/Conv", dilations=[1, 1], group=1, kernel_shape=[kh, kw],
                pads=[top, left, bottom, right], strides=list(layer.stride)))
            name, shape = out, (oh, ow, cout)
        elif isinstance(layer, ReLU):
            out = f"/{prefix}/Relu_output_0"
            nodes.append(helper.make_node("Relu", [name], [out], name=f"/{prefix}/Relu"))
            name = out
        elif isinstance(layer, MaxPool):
            if len(shape) != 3:
                raise ValueError(f"layer {index}: a max-pool after a dense layer")
            oh, ow = layer.output_size(shape[:2])
            out = f"/{prefix}/MaxPool_output_0"
            nodes.append(helper.make_node(
                "MaxPool", [name], [out], name=f"/{prefix}/MaxPool", ceil_mode=0,
                kernel_shape=[layer.size, layer.size], pads=[0, 0, 0, 0],
                strides=[layer.stride, layer.stride]))
            name, shape = out, (oh, ow, shape[2])
        elif isinstance(layer, Dense):
            weight = layer.params["weight"]
            features = int(np.prod(shape))
            if weight.shape[0] != features:
                raise ValueError(f"layer {index}: dense takes {weight.shape[0]} inputs, not "
                                 f"{features}")
            if len(shape) == 3:
                # accelgen flattens HWC, ONNX's Flatten CHW: reorder the weight rows to match.
                weight = weight.reshape(*shape, -1).transpose(2, 0, 1, 3).reshape(features, -1)
                flat = f"/{prefix}/Flatten_output_0"
                nodes.append(helper.make_node("Flatten", [name], [flat],
                                              name=f"/{prefix}/Flatten", axis=1))
                name = flat
            inits += [numpy_helper.from_array(np.ascontiguousarray(weight.T, np.float32),
                                              f"{prefix}.weight"),
                      numpy_helper.from_array(layer.params["bias"].astype(np.float32),
                                              f"{prefix}.bias")]
            out = f"/{prefix}/Gemm_output_0"
            nodes.append(helper.make_node(
                "Gemm", [name, f"{prefix}.weight", f"{prefix}.bias"], [out],
                name=f"/{prefix}/Gemm", alpha=1.0, beta=1.0, transB=1))
            name, shape = out, (weight.shape[1],)
        else:
            raise ValueError(f"layer {index}: no ONNX export for {type(layer).__name__}")
    model = image_classifier(nodes, inits, network.name, (n, c, h, w), shape[0], opset)
    onnx.checker.check_model(model, full_check=True)
    model = onnx.shape_inference.infer_shapes(model, check_type=True, strict_mode=True)
    if path is not None:
        onnx.save(model, os.fspath(path))
    return model
