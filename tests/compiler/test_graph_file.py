"""accel.compiler.graph_file: graphs survive a save/load round trip byte for byte, and every
broken file is one GraphFileError line."""

from __future__ import annotations

import zipfile

import numpy as np
import pytest

from accel.compiler.graph import (Add, AvgPool, Conv2D, Dense, Graph, MaxPool, Requantize,
                                  Tensor)
from accel.compiler.graph_file import (GraphFileError, graph_to_bytes, is_graph_file,
                                       load_graph, save_graph)
from accel.nn.model_file import load_default, save


def every_op_graph(seed: int = 3) -> Graph:
    rng = np.random.default_rng(seed)
    w = lambda *shape: rng.integers(-127, 128, shape)  # noqa: E731
    b = lambda n: rng.integers(-1000, 1000, n)  # noqa: E731
    per_channel = Requantize.from_scales(rng.uniform(1e-3, 1e-2, 4), zero_point=-128, relu=True)
    tensors = [Tensor("x", (7, 6, 2), 0.02, 5), Tensor("c", (4, 3, 4), 0.05, -128),
               Tensor("d", (4, 3, 4), 0.05, -128), Tensor("s", (4, 3, 4), 0.07, -3),
               Tensor("p", (1, 2, 4), 0.07, -3), Tensor("a", (1, 2, 4), 0.03, 2),
               Tensor("y", (3,), 0.5, 0, "int32")]
    mult, shift = AvgPool.factors(0.07 / 0.03, 2)
    nodes = [Conv2D("conv", "x", "c", w(3, 3, 2, 4), b(4), per_channel, (2, 2), (1, 1, 1, 0)),
             Conv2D("dw", "c", "d", w(3, 3, 1, 4), b(4), Requantize.from_scales(0.5, -128),
                    pads=(1, 1, 1, 1), groups=4),
             Add("res", "c", "d", "s", *Add.factors(0.05 / 0.07, 0.05 / 0.07), relu=True),
             MaxPool("pool", "s", "p", (3, 3), (2, 2), (0, 1, 0, 1)),
             AvgPool("avg", "p", "a", (1, 2), (1, 1), mult, shift, (0, 0, 0, 1), True),
             Dense("fc", "a", "y", w(8, 3), b(3), None)]
    return Graph("every-op", {t.name: t for t in tensors}, nodes, "x", "y", "softmax",
                 {"source": "test"})


def _same(a: Graph, b: Graph) -> None:
    assert (a.name, a.input, a.output, a.postprocess, a.metadata) == \
        (b.name, b.input, b.output, b.postprocess, b.metadata)
    assert a.tensors == b.tensors
    for x, y in zip(a.nodes, b.nodes, strict=True):
        assert type(x) is type(y) and x.name == y.name
        for key, value in vars(x).items():
            other = getattr(y, key)
            if isinstance(value, Requantize):
                assert np.array_equal(value.multiplier, other.multiplier)
                assert np.array_equal(value.shift, other.shift)
                assert (value.zero_point, value.relu) == (other.zero_point, other.relu)
            elif isinstance(value, np.ndarray):
                assert np.array_equal(value, other)
            else:
                assert value == other, key


def test_round_trip_keeps_every_field(tmp_path):
    graph = every_op_graph()
    path = tmp_path / "g.npz"
    save_graph(graph, path)
    assert is_graph_file(path)
    loaded = load_graph(path)
    _same(graph, loaded)
    assert graph_to_bytes(loaded) == path.read_bytes()


def test_the_same_graph_gives_the_same_bytes():
    assert graph_to_bytes(every_op_graph(5)) == graph_to_bytes(every_op_graph(5))
    assert graph_to_bytes(every_op_graph(5)) != graph_to_bytes(every_op_graph(6))


def test_a_native_model_file_is_not_a_graph_file(tmp_path):
    path = tmp_path / "cnn.npz"
    save(load_default("cnn"), path)
    assert not is_graph_file(path)
    with pytest.raises(GraphFileError, match="does not declare format 'accelgen-graph'"):
        load_graph(path)


@pytest.mark.parametrize("damage, message", [
    (lambda data: data[:len(data) // 2], "not a valid .npz"),
    (lambda data: b"garbage" * 10, "not a valid .npz"),
])
def test_broken_files_are_one_line_errors(tmp_path, damage, message):
    path = tmp_path / "g.npz"
    path.write_bytes(damage(graph_to_bytes(every_op_graph())))
    with pytest.raises(GraphFileError, match=message) as info:
        load_graph(path)
    assert "\n" not in str(info.value) and str(path) in str(info.value)


def test_a_missing_member_or_a_bad_node_is_named(tmp_path):
    good = tmp_path / "good.npz"
    save_graph(every_op_graph(), good)
    bad = tmp_path / "bad.npz"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(bad, "w") as dst:
        for item in src.infolist():
            if item.filename != "n0.weight.npy":
                dst.writestr(item, src.read(item))
    with pytest.raises(GraphFileError, match="'n0.weight' is missing"):
        load_graph(bad)
    with pytest.raises(GraphFileError, match="no such file"):
        load_graph(tmp_path / "absent.npz")
