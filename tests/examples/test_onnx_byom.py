"""The bring-your-own-model example exports cnn5, quantizes it with onnxruntime in both formats,
and the int8 models stay within half a point of float on the held-out digits."""

import os
import re
import subprocess
import sys
from pathlib import Path

import onnx
import pytest

ROOT = Path(__file__).resolve().parents[2]


def run_example(*args, timeout=900):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    result = subprocess.run([sys.executable, str(ROOT / "examples/onnx/byom.py"), *args],
                            capture_output=True, text=True, cwd=ROOT, timeout=timeout, env=env)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


@pytest.mark.slow
def test_export_and_quantize_keep_accuracy(tmp_path):
    out = run_example("--no-accel", "--out", str(tmp_path))
    float_acc = float(re.search(r"cnn5 float \(NumPy\): ([\d.]+)%", out).group(1))
    assert float_acc >= 98.0
    assert re.search(rf"cnn5.onnx: onnxruntime {float_acc:.2f}%", out)
    for name, op in (("qdq", "QuantizeLinear"), ("qop", "QLinearConv")):
        int8_acc = float(re.search(rf"cnn5-{name}.onnx: onnxruntime int8 ([\d.]+)%",
                                   out).group(1))
        assert abs(int8_acc - float_acc) <= 0.5
        model = onnx.load(tmp_path / f"cnn5-{name}.onnx")
        onnx.checker.check_model(model)
        assert op in {node.op_type for node in model.graph.node}
