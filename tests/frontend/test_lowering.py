"""Imported graphs through the general compiler: every case of the zoo, quantized by
onnxruntime, compiles for a 4x4 accelerator and its golden-model run equals the exact
reference (the ONNX front end's graphs are what `accel.compiler.lower` takes)."""

from __future__ import annotations

import numpy as np
import pytest

from accel.compiler.lower import compile_graph
from accel.compiler.reference import run_reference
from accel.compiler.run import run_golden
from accel.config import AccelConfig
from accel.frontend import load_onnx
from tests.frontend.cases import CASES
from tests.frontend.models import quantize


@pytest.mark.parametrize("case", sorted(CASES))
def test_imported_graph_on_golden_model(case):
    n, out = CASES[case]()
    graph = load_onnx(quantize(n.model(out), "qoperator", activation="uint8"))
    compiled = compile_graph(graph, AccelConfig(rows=4, cols=4))
    rng = np.random.default_rng(7)
    inputs = [rng.integers(-128, 128, size=graph.input_tensor.shape) for _ in range(2)]
    for result, q in zip(run_golden(compiled, inputs), inputs):
        assert np.array_equal(np.asarray(result.output).reshape(-1),
                              run_reference(graph, q).reshape(-1))
