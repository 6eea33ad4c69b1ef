"""The bring-your-own-model example exports cnn5, quantizes it with onnxruntime in both formats,
the int8 models stay within half a point of float on the held-out digits, and the imported
models run on the golden model (and the RTL) with outputs equal to the exact reference and to
onnxruntime's."""

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


def accelerator_lines(out):
    return re.findall(r"(golden|rtl|soc): int8 ([\d.]+)% on (\d+) digits; outputs equal the exact "
                      r"reference: (\w+); (.*)", out)


@pytest.mark.slow
def test_imported_models_run_on_the_golden_model(tmp_path):
    out = run_example("--images", "200", "--accel-images", "12", "--rows", "4", "--cols", "4",
                      "--out", str(tmp_path))
    lines = accelerator_lines(out)
    assert len(lines) == 3, out  # float (accelgen's quantizer), QDQ, QOperator
    assert all(backend == "golden" and count == "12" and exact == "True"
               for backend, _, count, exact, _ in lines)
    for _, _, _, _, agreement in lines[1:]:
        assert "equal onnxruntime's on 100.0% of images" in agreement
    assert len(re.findall(r"cycles per inference \(cycle model\), physical bound", out)) == 3


@pytest.mark.slow
@pytest.mark.rtl
def test_imported_models_run_on_the_rtl(tmp_path):
    out = run_example("--images", "1", "--accel-images", "1", "--rows", "4", "--cols", "4",
                      "--backend", "rtl", "--out", str(tmp_path), timeout=3600)
    lines = accelerator_lines(out)
    assert len(lines) == 3 and all(b == "rtl" and e == "True" for b, _, _, e, _ in lines), out
    assert len(re.findall(r"cycles per inference \(RTL\)", out)) == 3


@pytest.mark.slow
@pytest.mark.soc
def test_imported_models_run_on_the_soc(tmp_path):
    out = run_example("--images", "1", "--accel-images", "1", "--rows", "4", "--cols", "4",
                      "--backend", "soc", "--out", str(tmp_path), timeout=3600)
    lines = accelerator_lines(out)
    assert len(lines) == 3 and all(b == "soc" and e == "True" for b, _, _, e, _ in lines), out
    assert len(re.findall(r"cycles per inference \(SoC, host steps included\)", out)) == 3
