"""Every imported model of the zoo on the accelerator's RTL: outputs identical to the golden
model (and so to the exact reference) in both dataflows, on a non-square array."""

from __future__ import annotations

import numpy as np
import pytest

from accel.compiler.lower import compile_graph
from accel.frontend import load_onnx
from accel.runtime.network_rtl import run_rtl
from accel.runtime.target import as_target, run_golden
from tests.frontend.cases import CASES
from tests.frontend.models import quantize
from tests.support.configs import CONFIGS


@pytest.mark.rtl
@pytest.mark.parametrize("config_name, half", [("3x5-ws", 0), ("4x4-os", 1)])
def test_the_zoo_on_the_rtl_equals_the_golden_model(config_name, half):
    """Half of the zoo on each configuration (alternating by name), so that every model runs
    on the RTL once and both dataflows see convolutions, pools and residual adds."""
    config = CONFIGS[config_name]
    rng = np.random.default_rng(11)
    for case in sorted(CASES)[half::2]:
        n, out = CASES[case]()
        fmt, activation = ("qoperator", "uint8") if len(case) % 2 else ("qdq", "int8")
        graph = load_onnx(quantize(n.model(out), fmt, activation=activation))
        target = as_target(compile_graph(graph, config))
        images = [rng.integers(0, 256, size=graph.input_tensor.shape, dtype=np.uint8)]
        rtl = run_rtl(target.compiled, images)  # raises on any difference from golden
        golden = run_golden(target, images)
        assert np.array_equal(rtl[0].logits, golden[0].logits), case
        assert rtl[0].cycles > 0, case
