"""Small ONNX models built with onnx.helper, quantized with onnxruntime, and the comparison of
an imported graph with onnxruntime (shared by the front-end tests)."""

from __future__ import annotations

import os
import tempfile

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper
from onnxruntime.quantization import (CalibrationDataReader, QuantFormat, QuantType,
                                      quantize_static)

from accel.compiler import reference
from accel.compiler.graph import Add, Conv2D, Dense, Graph, MaxPool
from accel.compiler.reference import run_reference

OPSET = 13


class Net:
    """A float model under construction: ``x`` NCHW input, nodes and initializers."""

    def __init__(self, shape, seed: int = 0, batch="N") -> None:
        self.shape = tuple(shape)
        self.rng = np.random.default_rng(seed)
        self.nodes, self.inits, self.count = [], [], 0
        self.batch = batch

    def const(self, array, name=None) -> str:
        self.count += 1
        name = name or f"c{self.count}"
        self.inits.append(numpy_helper.from_array(np.asarray(array), name))
        return name

    def node(self, op, inputs, outputs=1, **attrs) -> str:
        self.count += 1
        outs = [f"t{self.count}_{i}" for i in range(outputs)]
        self.nodes.append(helper.make_node(op, inputs, outs, name=f"n{self.count}_{op}",
                                           **attrs))
        return outs[0]

    def conv(self, x, cin, cout, k, bias=True, group=1, **attrs) -> str:
        kh, kw = (k, k) if isinstance(k, int) else k
        w = self.rng.normal(size=(cout, cin // group, kh, kw)).astype(np.float32)
        w /= np.sqrt(cin // group * kh * kw)
        ins = [x, self.const(w)]
        if bias:
            ins.append(self.const(self.rng.normal(size=cout).astype(np.float32) * 0.1))
        return self.node("Conv", ins, group=group, **attrs)

    def gemm(self, x, k, n, trans_b=True, bias=True) -> str:
        w = (self.rng.normal(size=(n, k) if trans_b else (k, n)) / np.sqrt(k)).astype(np.float32)
        ins = [x, self.const(w)]
        if bias:
            ins.append(self.const(self.rng.normal(size=n).astype(np.float32) * 0.1))
        return self.node("Gemm", ins, transB=int(trans_b))

    def model(self, out, opset=OPSET) -> onnx.ModelProto:
        x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [self.batch, *self.shape])
        graph = helper.make_graph(self.nodes, "net", [x], [], self.inits)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
        model.ir_version = 8
        inferred = onnx.shape_inference.infer_shapes(model).graph.value_info
        info = next((v for v in inferred if v.name == out), None)
        model.graph.output.append(info or helper.make_tensor_value_info(out, TensorProto.FLOAT,
                                                                        None))
        onnx.checker.check_model(model)
        return model


class Reader(CalibrationDataReader):
    def __init__(self, data, name: str = "x") -> None:
        self.data = iter([{name: d[None]} for d in data])

    def get_next(self):
        return next(self.data, None)


def calibration(shape, count: int = 16, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(count, *shape)).astype(np.float32)


def quantize(model: onnx.ModelProto, fmt: str, *, per_channel=True, activation="uint8",
             seed: int = 1, count: int = 16) -> onnx.ModelProto:
    """``model`` through onnxruntime's quantize_static (QDQ or QOperator), calibrated on
    seeded normal inputs.

    uint8 activations get ``reduce_range`` (7-bit weights): onnxruntime's x86 u8 x s8 kernels
    (AVX2 ``vpmaddubsw``) saturate int16 pair sums of full-range weights and give wrong
    results that no exact model matches (onnxruntime's documented workaround)."""
    shape = [d.dim_value for d in model.graph.input[0].type.tensor_type.shape.dim[1:]]
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = os.path.join(tmp, "f.onnx"), os.path.join(tmp, "q.onnx")
        onnx.save(model, src)
        reader = Reader(calibration(shape, count, seed), model.graph.input[0].name)
        quantize_static(src, dst, reader,
                        quant_format=QuantFormat.QDQ if fmt == "qdq" else QuantFormat.QOperator,
                        per_channel=per_channel,
                        activation_type=QuantType.QUInt8 if activation == "uint8"
                        else QuantType.QInt8, weight_type=QuantType.QInt8,
                        reduce_range=activation == "uint8")
        return onnx.load(dst)


def session(model: onnx.ModelProto) -> ort.InferenceSession:
    """onnxruntime on ``model``; a QDQ model runs unoptimized, as written (DequantizeLinear,
    the float op, QuantizeLinear: the QDQ semantics; the fused int8 kernels saturate as
    `quantize` says)."""
    options = ort.SessionOptions()
    options.log_severity_level = 3
    if any(n.op_type == "QuantizeLinear" for n in model.graph.node) and not any(
            n.op_type.startswith("QLinear") or n.op_type == "QGemm" for n in model.graph.node):
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    return ort.InferenceSession(model.SerializeToString(), options,
                                providers=["CPUExecutionProvider"])


def to_onnx(graph: Graph, q: np.ndarray) -> np.ndarray:
    """The float NCHW (batch 1) input onnxruntime quantizes exactly to the int8 input ``q``."""
    t = graph.input_tensor
    real = ((q - t.zero_point) * t.scale).astype(np.float32)
    nchw = real.ndim == 3 and graph.metadata["input_layout"] == "NCHW"
    return real.transpose(2, 0, 1)[None] if nchw else real[None]


def from_onnx(graph: Graph, y: np.ndarray) -> np.ndarray:
    """onnxruntime's dequantized output as the graph output's int8 values (HWC)."""
    out = graph.output_tensor
    q = np.rint(y[0] / out.scale + out.zero_point).astype(np.int64)
    return q.transpose(1, 2, 0) if q.ndim == 3 else q


def compare(graph: Graph, model: onnx.ModelProto, samples: int = 8, seed: int = 2,
            inputs=None) -> tuple[int, float]:
    """``(max |difference|, fraction of differing elements)`` of the graph's reference and
    onnxruntime's quantized model over seeded int8 inputs (the whole int8 range)."""
    rng = np.random.default_rng(seed)
    run = session(model)
    worst, off, total = 0, 0, 0
    for i in range(samples):
        q = inputs[i] if inputs is not None else \
            rng.integers(-128, 128, size=graph.input_tensor.shape)
        ours = run_reference(graph, q)
        theirs = from_onnx(graph, run.run(None, {model.graph.input[0].name: to_onnx(graph, q)})[0])
        diff = np.abs(ours - theirs)
        worst, off, total = max(worst, int(diff.max())), off + int((diff > 0).sum()), \
            total + diff.size
    return worst, off / total


def _node_output(graph: Graph, node, values: dict) -> np.ndarray:
    t = graph.tensors
    if isinstance(node, Add):
        return reference.add(node, values[node.a], values[node.b], t[node.a], t[node.b],
                             t[node.output])
    x, tx = values[node.input], t[node.input]
    if isinstance(node, Conv2D):
        return reference.conv2d(node, x, tx)
    if isinstance(node, Dense):
        return reference.dense(node, x, tx)
    if isinstance(node, MaxPool):
        return reference.maxpool(node, x)
    return reference.avgpool(node, x, tx, t[node.output])


def _as_graph_values(tensor, array: np.ndarray) -> np.ndarray:
    a = np.asarray(array)[0]
    if a.dtype == np.uint8:
        q = a.astype(np.int64) - 128
    elif a.dtype == np.int8:
        q = a.astype(np.int64)
    else:
        q = np.rint(a / tensor.scale + tensor.zero_point).astype(np.int64)
    return q.transpose(1, 2, 0) if q.ndim == 3 else q.reshape(-1)


def compare_layers(graph: Graph, model: onnx.ModelProto, samples: int = 8,
                   seed: int = 2) -> tuple[int, float, int, set]:
    """Every graph node whose input and output tensors onnxruntime also computes (same names),
    run by the reference on onnxruntime's quantized inputs and compared with onnxruntime's
    output: ``(max |difference|, fraction of differing elements, nodes compared, names of the
    nodes that differ)``. One
    node's rounding at a time (end-to-end, a 1-LSB difference can grow through later
    layers)."""
    names = {o.name for o in model.graph.output}
    probe = onnx.ModelProto()
    probe.CopyFrom(model)
    produced = {o for n in probe.graph.node for o in n.output}
    wanted = [name for name in graph.tensors if name in produced and name not in names]
    for name in wanted:
        probe.graph.output.append(helper.make_empty_tensor_value_info(name))
    run = session(probe)
    outputs = [o.name for o in run.get_outputs()]
    rng = np.random.default_rng(seed)
    worst, off, total, nodes, differ = 0, 0, 0, set(), set()
    for _ in range(samples):
        q = rng.integers(-128, 128, size=graph.input_tensor.shape)
        got = dict(zip(outputs, run.run(outputs, {model.graph.input[0].name: to_onnx(graph, q)})))
        values = {graph.input: q}
        values.update({n: _as_graph_values(graph.tensors[n], got[n]) for n in wanted
                       if n in got})
        for node in graph.nodes:
            inputs = (node.a, node.b) if isinstance(node, Add) else (node.input,)
            if node.output not in values or not all(i in values for i in inputs):
                continue
            diff = np.abs(_node_output(graph, node, values) - values[node.output])
            worst, off, total = max(worst, int(diff.max())), off + int((diff > 0).sum()), \
                total + diff.size
            nodes.add(node.name)
            if diff.any():
                differ.add(node.name)
    return worst, off / max(total, 1), len(nodes), differ
