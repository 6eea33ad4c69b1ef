"""The MNIST walk-through script runs and writes its pictures."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_walkthrough_runs_on_the_golden_backend(tmp_path):
    result = subprocess.run([sys.executable, str(ROOT / "examples/mnist/walkthrough.py"),
                             "--images", "24", "--rows", "4", "--cols", "4", "--out",
                             str(tmp_path)], capture_output=True, text=True, cwd=ROOT,
                            timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "identical logits to the golden model: 24/24" in result.stdout
    for name in ("confusion.png", "misclassified.png"):
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
