"""load_onnx on onnxruntime-quantized models (QDQ and QOperator, uint8 and int8 activations,
per-channel and per-tensor weights): the imported graph's exact reference against onnxruntime.

Measured (these seeds): every node of every case equals onnxruntime's on every element, except
where onnxruntime rounds a float result half to even and accelgen a fixed-point one half up:
average pooling in QDQ models (run in float: DequantizeLinear, AveragePool, QuantizeLinear),
1 LSB on 0.8-1.1 % of those nodes' elements (exact ties of the window sum), and the identity
layer of an Add of a constant bias (QLinearAdd, or Add in QDQ; the constant is represented to
1/127 of an input LSB), 1 LSB on 0.4 % of its elements. End to end, the 1-LSB ties of three
chained average pools add up to 2 LSB on 9 % of the `pools` output in QDQ uint8; cases where
no node differs are identical end to end.
"""

from __future__ import annotations

import numpy as np
import pytest

from accel.compiler.graph import AvgPool
from accel.frontend import load_onnx
from tests.frontend.cases import CASES
from tests.frontend.models import compare, compare_layers, quantize

#: Largest fraction of elements of one node allowed 1 LSB off onnxruntime.
OFF_BY_ONE = 0.03


def _check(graph, qmodel, fmt):
    worst, fraction, nodes, differ = compare_layers(graph, qmodel)
    assert nodes == len(graph.nodes)
    assert worst <= 1 and fraction <= OFF_BY_ONE, (worst, fraction)
    rounded_in_float = {n.name for n in graph.nodes if fmt == "qdq" and isinstance(n, AvgPool)
                        or n.name.endswith("_Add") or "Add_quant" in n.name}
    assert differ <= rounded_in_float, differ  # ties only where onnxruntime rounds a float
    end_worst, end_fraction = compare(graph, qmodel)
    if not differ:  # no node differs: identical end to end
        assert (end_worst, end_fraction) == (0, 0.0)
    assert end_worst <= 2 and end_fraction <= 0.1, (end_worst, end_fraction)


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("fmt", ["qdq", "qoperator"])
@pytest.mark.parametrize("activation", ["uint8", "int8"])
def test_per_channel(case, fmt, activation):
    n, out = CASES[case]()
    qmodel = quantize(n.model(out), fmt, activation=activation)
    graph = load_onnx(qmodel)
    assert graph.metadata["form"] == fmt
    assert graph.metadata["input_dtype"] == activation
    _check(graph, qmodel, fmt)


@pytest.mark.parametrize("case", ["conv_same_stride", "depthwise", "flatten_gemm", "residual"])
@pytest.mark.parametrize("fmt", ["qdq", "qoperator"])
def test_per_tensor(case, fmt):
    n, out = CASES[case]()
    qmodel = quantize(n.model(out), fmt, per_channel=False, activation="int8")
    graph = load_onnx(qmodel)
    assert all(node.requant.per_tensor for node in graph.nodes if hasattr(node, "requant")
               and node.requant is not None)
    _check(graph, qmodel, fmt)


def test_metadata_and_name(tmp_path):
    n, out = CASES["flatten_gemm"]()
    qmodel = quantize(n.model(out), "qdq", activation="int8")
    path = tmp_path / "tiny-net.onnx"
    import onnx
    onnx.save(qmodel, path)
    graph = load_onnx(str(path), mean=0.5, std=0.25)
    assert graph.name == "tiny-net"
    assert graph.metadata["source"] == "tiny-net.onnx"
    assert graph.metadata["opset"] == 13
    assert graph.metadata["normalization"] == {"mean": 0.5, "std": 0.25}
    assert graph.metadata["pixels"] == {"kind": "normalize", "mean": 0.5, "std": 0.25}
    assert graph.metadata["input_layout"] == "NCHW"
    assert graph.metadata["output_layout"] == "NC"
    assert graph.input_tensor.shape == (6, 6, 2)
    assert load_onnx(path, name="other").name == "other"


def test_flatten_permutes_gemm_rows():
    """The Gemm after a Flatten of NCHW gets its weight rows in HWC order."""
    n, out = CASES["flatten_gemm"]()
    qmodel = quantize(n.model(out), "qoperator", activation="int8")
    graph = load_onnx(qmodel)
    dense = graph.nodes[2]
    from onnx import numpy_helper
    inits = {i.name: numpy_helper.to_array(i) for i in qmodel.graph.initializer}
    gemm = next(node for node in qmodel.graph.node if node.op_type == "QGemm"
                or node.op_type == "QLinearMatMul")
    weight = inits[gemm.input[3]]
    weight = weight.T if weight.shape[0] == 7 else weight  # (12 features CHW, 7)
    c, h, w = 3, 2, 2
    hwc = np.arange(c * h * w).reshape(c, h, w).transpose(1, 2, 0).reshape(-1)
    assert np.array_equal(dense.weight, weight[hwc])


@pytest.mark.parametrize("fmt", ["qdq", "qoperator"])
def test_batchnorm_after_quant_pre_process(tmp_path, fmt):
    """onnxruntime's quant_pre_process folds BatchNormalization before quantize_static."""
    import onnx
    from onnxruntime.quantization.shape_inference import quant_pre_process

    from tests.frontend.cases import batchnorm
    n, out = batchnorm()
    onnx.save(n.model(out), tmp_path / "a.onnx")
    quant_pre_process(str(tmp_path / "a.onnx"), str(tmp_path / "b.onnx"))
    qmodel = quantize(onnx.load(tmp_path / "b.onnx"), fmt, activation="int8")
    graph = load_onnx(qmodel)
    _check(graph, qmodel, fmt)


def test_imported_graph_file_round_trip(tmp_path):
    """An imported graph (metadata included) survives accelgen's graph file."""
    from accel.compiler.graph_file import load_graph, save_graph
    from accel.compiler.reference import run_reference
    n, out = CASES["residual"]()
    graph = load_onnx(quantize(n.model(out), "qdq"))
    save_graph(graph, tmp_path / "g.npz")
    again = load_graph(tmp_path / "g.npz")
    assert again.metadata == graph.metadata and again.tensors == graph.tensors
    q = np.random.default_rng(0).integers(-128, 128, size=graph.input_tensor.shape)
    assert np.array_equal(run_reference(again, q), run_reference(graph, q))


def test_qgemm_float_output():
    """A com.microsoft QGemm without an output scale: its int32 sums are the graph output
    (dequantized by the input scale x weight scale)."""
    import onnx
    from onnx import TensorProto, helper

    from accel.compiler.reference import run_reference
    from tests.frontend.models import session
    rng = np.random.default_rng(3)
    f = onnx.numpy_helper.from_array
    weight = rng.integers(-127, 128, size=(4, 6)).astype(np.int8)
    inits = [f(np.float32(0.02), "xs"), f(np.int8(3), "xz"), f(weight, "w"),
             f(np.float32(0.01), "ws"), f(np.int8(0), "wz"),
             f(rng.integers(-500, 500, size=4).astype(np.int32), "b")]
    nodes = [helper.make_node("QuantizeLinear", ["x", "xs", "xz"], ["xq"]),
             helper.make_node("QGemm", ["xq", "xs", "xz", "w", "ws", "wz", "b"], ["y"],
                              domain="com.microsoft", transB=1, name="gemm")]
    graph = helper.make_graph(nodes, "qgemm", [helper.make_tensor_value_info(
        "x", TensorProto.FLOAT, [1, 6])], [helper.make_tensor_value_info(
            "y", TensorProto.FLOAT, [1, 4])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13),
                                                    helper.make_opsetid("com.microsoft", 1)])
    imported = load_onnx(model)
    out = imported.output_tensor
    assert out.dtype == "int32" and out.scale == pytest.approx(0.02 * 0.01)
    run = session(model)
    for q in rng.integers(-128, 128, size=(4, 6)):
        x = ((q - 3) * 0.02).astype(np.float32)[None]
        expected = run.run(None, {"x": x})[0][0]
        ours = out.dequantize(run_reference(imported, q))
        assert np.allclose(ours, expected, rtol=1e-5, atol=1e-5)


def test_unquantized_last_gemm_gives_int32_sums():
    """A QDQ model whose last Gemm output is not quantized: the graph output is its int32
    accumulators, at scale input scale x weight scale."""
    from accel.compiler.reference import run_reference
    from tests.frontend.models import session, to_onnx
    n, out = CASES["flatten_gemm"]()
    qmodel = quantize(n.model(out), "qdq", per_channel=False, activation="int8")
    nodes = qmodel.graph.node
    dequant = next(node for node in nodes if node.output[0] == qmodel.graph.output[0].name)
    quant = next(node for node in nodes if dequant.input[0] in node.output)
    gemm = next(node for node in nodes if quant.input[0] in node.output)
    assert gemm.op_type == "Gemm"
    gemm.output[0] = dequant.output[0]
    nodes.remove(quant)
    nodes.remove(dequant)
    graph = load_onnx(qmodel)
    assert graph.output_tensor.dtype == "int32"
    run = session(qmodel)
    for q in np.random.default_rng(1).integers(-128, 128, size=(4, *graph.input_tensor.shape)):
        expected = run.run(None, {"x": to_onnx(graph, q)})[0][0]
        ours = graph.output_tensor.dequantize(run_reference(graph, q))
        assert np.allclose(ours, expected, rtol=1e-4, atol=1e-4 * np.abs(expected).max())
