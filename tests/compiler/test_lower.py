"""compile_graph on the golden model is bit-exact with accel.compiler.reference on small seeded
graphs: every op and attribute, both dataflows, non-square arrays, small memories."""

from __future__ import annotations

import numpy as np
import pytest

from accel.compiler.graph import Conv2D, Graph, Requantize, Tensor
from accel.compiler.hostops import AddOp, AvgPoolOp, MaxPoolOp
from accel.compiler.lower import compile_graph
from accel.compiler.reference import run_reference
from accel.compiler.run import run_golden
from accel.compiler.steps import AccelStep, HostStep
from accel.config import AccelConfig
from accel.isa import decode
from tests.compiler.graph_builder import Builder

SMALL = dict(sp_kib=1, acc_kib=1, sp_banks=1, acc_banks=1)
CONFIGS = {
    "2x3ws": AccelConfig(rows=2, cols=3, **SMALL),
    "4x4os": AccelConfig(rows=4, cols=4, dataflow="os", **SMALL),
    "8x8ws": AccelConfig(rows=8, cols=8),
    "3x2os": AccelConfig(rows=3, cols=2, dataflow="os", **SMALL),
}


def check(builder: Builder, config: AccelConfig, count: int = 2, output=None, base: int = 0):
    graph = builder.graph(output)
    compiled = compile_graph(graph, config, base=base)
    inputs = builder.inputs(count)
    results = run_golden(compiled, inputs)
    for x, result in zip(inputs, results):
        want = run_reference(graph, x)
        assert result.output.shape == want.shape
        np.testing.assert_array_equal(result.output, want)
    return compiled, results


@pytest.mark.parametrize("name", sorted(CONFIGS))
@pytest.mark.parametrize("kernel, stride, pads", [
    ((3, 3), (1, 1), (0, 0, 0, 0)),
    ((3, 3), (1, 1), (1, 1, 1, 1)),           # SAME
    ((5, 5), (2, 2), (2, 2, 2, 2)),
    ((1, 1), (1, 1), (0, 0, 0, 0)),
    ((7, 7), (2, 2), (3, 3, 3, 3)),
    ((3, 3), (3, 3), (0, 1, 1, 0)),           # asymmetric SAME-style pads
    ((4, 4), (2, 2), (1, 1, 2, 2)),           # TF SAME with an even kernel
    ((3, 2), (1, 3), (1, 0, 1, 1)),           # sh != sw: one GEMM per output row
    ((2, 3), (2, 1), (0, 1, 1, 1)),
])
def test_conv(name, kernel, stride, pads):
    b = Builder(sum(kernel) * 100 + sum(stride) * 10 + sum(pads), (9, 8, 3))
    b.conv(4, kernel, stride, pads)
    check(b, CONFIGS[name])


@pytest.mark.parametrize("name", sorted(CONFIGS))
@pytest.mark.parametrize("per_channel", [False, True])
def test_depthwise_grouped_and_one_channel(name, per_channel):
    b = Builder(3, (7, 6, 4), zero_point=11)
    b.conv(4, (3, 3), (1, 1), (1, 1, 1, 1), groups=4, per_channel=per_channel, relu=True)
    b.conv(6, (3, 3), (2, 2), (1, 1, 1, 1), groups=2, per_channel=per_channel)
    b.conv(1, (1, 1), per_channel=per_channel)
    b.conv(1, (3, 3), (1, 1), (1, 1, 1, 1))
    compiled, _ = check(b, CONFIGS[name])
    dw = compiled.layers()[1]  # after the padded input copy
    assert dw.op == "Conv2D" and dw.accel_macs >= 4 * dw.macs  # block-diagonal overhead
    channel = any(decode(c)[0].name == "config_act_channels"
                  for s in compiled.steps if isinstance(s, AccelStep) for c in s.commands)
    assert channel == per_channel


@pytest.mark.parametrize("name", ["2x3ws", "4x4os"])
def test_pools(name):
    b = Builder(5, (10, 11, 2))
    b.conv(3, (3, 3), (1, 1), (1, 1, 1, 1), relu=True)
    b.maxpool((3, 3), (3, 3))
    b2 = Builder(6, (9, 9, 3))
    b2.maxpool((3, 3), (2, 2), (1, 1, 1, 1))   # padded graph input: copy on the accelerator
    b2.avgpool((3, 3), (1, 1), (1, 1, 1, 1), include=False)
    b2.avgpool((2, 3), (2, 2), (0, 1, 1, 1), include=True)
    b2.avgpool(b2.tensors[b2.last].shape[:2], (1, 1))     # global average pool
    for builder in (b, b2):
        compiled, _ = check(builder, CONFIGS[name])
    ops = [type(s.op) for s in compiled.steps if isinstance(s, HostStep)]
    assert ops == [MaxPoolOp, AvgPoolOp, AvgPoolOp, AvgPoolOp]
    assert compiled.layers()[0].op == "copy"


@pytest.mark.parametrize("name", sorted(CONFIGS))
@pytest.mark.parametrize("relu", [False, True])
def test_residual_add(name, relu):
    b = Builder(7, (6, 5, 3))
    stem = b.conv(4, (3, 3), (1, 1), (1, 1, 1, 1), relu=True)
    h = b.conv(4, (3, 3), (1, 1), (1, 1, 1, 1))
    h = b.conv(4, (1, 1), src=h)
    s = b.add(stem, h, relu=relu)
    b.maxpool((2, 2), (2, 2), (1, 1, 1, 1), src=s)
    b.avgpool((2, 2), (1, 1))
    b.dense(5, requant=False)
    compiled, _ = check(b, CONFIGS[name])
    assert any(isinstance(s.op, AddOp) for s in compiled.steps if isinstance(s, HostStep))


@pytest.mark.parametrize("name", sorted(CONFIGS))
@pytest.mark.parametrize("requant, per_channel", [(False, False), (True, False), (True, True)])
def test_dense_head(name, requant, per_channel):
    b = Builder(9, (3, 4, 2))
    b.conv(3, (2, 2))
    b.dense(7, requant=True, per_channel=per_channel, relu=True)
    b.dense(5, requant=requant, per_channel=per_channel)
    compiled, _ = check(b, CONFIGS[name])
    assert compiled.output_dtype == ("int8" if requant else "int32")


def test_conflicting_layouts_get_copies():
    """One tensor read by a padded conv (fill = zero point), a padded max pool (fill -128), a
    dense layer (packed) and an add (any layout)."""
    b = Builder(11, (6, 6, 2))
    t = b.conv(3, (3, 3), (1, 1), (1, 1, 1, 1))
    c = b.conv(3, (3, 3), (1, 1), (1, 1, 1, 1), src=t)
    p = b.maxpool((3, 3), (1, 1), (1, 1, 1, 1), src=t)
    s = b.add(c, p)
    d = b.dense(4, src=t)
    e = b.dense(4, src=s)
    b.add(d, e)
    for name in ("2x3ws", "4x4os"):
        compiled, _ = check(b, CONFIGS[name])
        copies = [row.name for row in compiled.layers() if row.op == "copy"]
        # the padded input; t's -128 buffer and its packed one beside the padded primary
        assert copies == ["x:copy", f"{t}:copy", f"{t}:copy"]


def test_many_inputs_in_one_memory_and_base():
    b = Builder(13, (5, 5, 1), zero_point=40)
    b.conv(2, (3, 3), (1, 1), (1, 1, 1, 1))
    b.maxpool((2, 2), (1, 1), (0, 0, 1, 1))
    b.dense(3, requant=False)
    compiled, results = check(b, CONFIGS["2x3ws"], count=4, base=4096)
    assert compiled.input_addr >= 4096 and all(a >= 4096 for a, _ in compiled.constants)
    assert len({r.output.tobytes() for r in results}) == 4
    assert all(r.macs >= compiled.macs for r in results)


def test_native_mnist_network_graph():
    from accel.nn.model_file import load_default
    from accel.nn.network import quantize_input, reference
    from accel.nn.to_graph import network_to_graph

    network = load_default("cnn")
    graph = network_to_graph(network)
    compiled = compile_graph(graph, CONFIGS["8x8ws"])
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (2, 28, 28))
    inputs = [quantize_input(i, network.input_shift).reshape(graph.input_tensor.shape)
              for i in images]
    for image, result in zip(images, run_golden(compiled, inputs)):
        np.testing.assert_array_equal(result.output, reference(network, image))


def test_compiled_members():
    b = Builder(17, (4, 4, 2))
    b.conv(2, (3, 3), (1, 1), (1, 1, 1, 1))
    b.dense(3)
    graph = b.graph()
    compiled = compile_graph(graph, CONFIGS["4x4os"])
    assert compiled.output_shape == (3,) and compiled.output_dtype == "int8"
    assert compiled.commands == sum(len(s.commands) for s in compiled.steps)
    assert compiled.macs == graph.macs()
    image = compiled.memory_image()
    assert image.size == compiled.mem_size and image.dtype == np.uint8
    x = b.inputs(1)[0]
    assert compiled.input_bytes(x).tobytes() == x.astype(np.int8).tobytes()
    rows = compiled.layers()
    assert [r.where for r in rows] == ["accel"] * 3 and rows[2].shape == (3,)
    assert all(r.commands for r in rows)


def test_padded_input_copy_and_border():
    """The packed input is copied into a buffer whose border holds its zero point (-3)."""
    b = Builder(18, (4, 4, 2))
    b.conv(2, (3, 3), (1, 1), (1, 1, 1, 1))
    compiled, _ = check(b, CONFIGS["4x4os"])
    rows = compiled.layers()
    assert [r.op for r in rows] == ["copy", "Conv2D"] and rows[0].name == "x:copy"
    fills = [data for _, data in compiled.constants if data.size == 6 * 6 * 2]
    assert any((data.view(np.int8) == -3).all() for data in fills)


@pytest.mark.parametrize("config, message", [
    (AccelConfig(rows=4, cols=4, input_width=16), "input_width"),
    (AccelConfig(rows=4, cols=4, mem_addr_width=12), "main memory"),
])
def test_config_errors(config, message):
    b = Builder(19, (16, 16, 8))
    b.conv(8, (3, 3), (1, 1), (1, 1, 1, 1))
    with pytest.raises(ValueError, match=message):
        compile_graph(b.graph(), config)


def test_other_errors():
    b = Builder(23, (3, 3, 1))
    b.conv(1, (1, 1))
    graph = b.graph()
    with pytest.raises(ValueError, match="base"):
        compile_graph(graph, CONFIGS["2x3ws"], base=-1)
    with pytest.raises(ValueError, match="Graph"):
        compile_graph("net", CONFIGS["2x3ws"])
    compiled = compile_graph(graph, CONFIGS["2x3ws"])
    with pytest.raises(ValueError, match="shape"):
        compiled.input_bytes(np.zeros((3, 3)))
    with pytest.raises(ValueError, match="between -128 and 127"):
        compiled.input_bytes(np.full((3, 3, 1), 200))
    # a bias that overflows int32 once the input zero point is folded in
    weight = np.full((1, 1, 1, 1), 127)
    conv = Conv2D("big", "x", "y", weight, np.array([(1 << 31) - 100]),
                  Requantize([1 << 30], [40]))
    tensors = {"x": Tensor("x", (2, 2, 1), 1.0, -128), "y": Tensor("y", (2, 2, 1), 1.0)}
    with pytest.raises(ValueError, match="big: the bias"):
        compile_graph(Graph("g", tensors, (conv,), "x", "y"), CONFIGS["2x3ws"])


def test_table_predicts_accelerator_cycles():
    b = Builder(31, (6, 6, 2))
    b.conv(3, (3, 3), (2, 2), (1, 1, 1, 1))
    b.avgpool((3, 3), (1, 1))
    b.dense(4, requant=False)
    compiled = compile_graph(b.graph(), CONFIGS["2x3ws"])
    rows = compiled.table()
    assert [r["op"] for r in rows] == ["copy", "Conv2D", "AvgPool", "Dense"]
    assert [r["where"] for r in rows] == ["accel", "accel", "host", "accel"]
    assert rows[2]["cycles"] is None and all(r["cycles"] > 0 for r in rows if r["where"] ==
                                             "accel")
    assert rows[1]["macs"] == (3 * 3 * 3) * (3 * 3 * 2) and rows[1]["accel_macs"] >= rows[1]["macs"]
    assert all(r["cycles"] is None for r in compiled.table(predict=False))


def _random_graph(seed: int) -> Builder:
    """A random chain with a residual branch: convs of random kernel/stride/pads/groups, pools,
    an add, and a dense head."""
    rng = np.random.default_rng(seed)
    size = int(rng.integers(5, 10))
    b = Builder(seed, (size, int(rng.integers(5, 10)), int(rng.integers(1, 4))),
                zero_point=int(rng.integers(-128, 128)))
    for _ in range(int(rng.integers(1, 4))):
        h, w, c = b.tensors[b.last].shape
        kh, kw = (int(v) for v in rng.integers(1, 4, 2))
        kh, kw = min(kh, h + 2), min(kw, w + 2)
        pads = tuple(int(rng.integers(0, k)) for k in (kh, kw, kh, kw))
        if h + pads[0] + pads[2] < kh or w + pads[1] + pads[3] < kw:
            pads = (kh - 1, kw - 1, kh - 1, kw - 1)
        groups = c if rng.integers(3) == 0 else 1
        cout = c * int(rng.integers(1, 3)) if groups > 1 else int(rng.integers(1, 5))
        stride = tuple(int(v) for v in rng.integers(1, 3, 2))
        b.conv(cout, (kh, kw), stride, pads, groups, per_channel=bool(rng.integers(2)),
               relu=bool(rng.integers(2)))
    first = b.last
    h, w, c = b.tensors[first].shape
    b.conv(c, (3, 3), (1, 1), (1, 1, 1, 1), src=first)
    b.add(first, b.last, relu=bool(rng.integers(2)))
    if min(h, w) >= 2 and rng.integers(2):
        b.maxpool((2, 2), (1, 1), (0, 0, 1, 1))
    if rng.integers(2):
        b.avgpool((2, 2), (1, 1), (1, 1, 0, 0), include=bool(rng.integers(2)))
    b.dense(int(rng.integers(1, 6)), requant=bool(rng.integers(2)),
            per_channel=bool(rng.integers(2)))
    return b


@pytest.mark.parametrize("seed", range(12))
def test_random_graphs(seed):
    name = sorted(CONFIGS)[seed % len(CONFIGS)]
    check(_random_graph(seed), CONFIGS[name], count=1)
