"""`accelgen mnist eval` and `accel.runtime.evaluate` on the golden backend."""

import json

import numpy as np
import pytest
from click.testing import CliRunner

from accel.cli import main
from accel.config import AccelConfig
from accel.runtime.evaluate import confusion_matrix, evaluate
from tests.support.nets import random_cnn, random_images


def test_evaluate_reports_accuracy_agreement_and_bound():
    network = random_cnn(seed=2)
    images = random_images(4, seed=2)
    labels = np.array([0, 1, 2, 3])
    report = evaluate(network, AccelConfig(rows=4, cols=4), images, labels)
    assert report.images == 4 and report.agree == 4 and report.cycles is None
    assert report.accuracy == np.mean(report.predictions == labels)
    assert report.bound >= network.macs() // 16
    assert report.to_dict()["predictions"] == report.predictions.tolist()
    with pytest.raises(ValueError, match="backend must be one of"):
        evaluate(network, AccelConfig(rows=4, cols=4), images, labels, backend="fpga")
    with pytest.raises(ValueError, match="4 images but 3 labels"):
        evaluate(network, AccelConfig(rows=4, cols=4), images, labels[:3])


def test_confusion_matrix_counts_pairs():
    matrix = confusion_matrix(np.array([1, 1, 2]), np.array([1, 2, 2]), classes=3)
    assert matrix.tolist() == [[0, 0, 0], [0, 1, 1], [0, 0, 1]]


def test_cli_eval_on_held_out_samples(tmp_path):
    out = tmp_path / "eval.json"
    result = CliRunner().invoke(main, ["mnist", "eval", "--images", "30", "--offset", "5",
                                       "--rows", "8", "--cols", "8", "--json", str(out)])
    assert result.exit_code == 0, result.output
    assert "identical logits to the golden model: 30/30" in result.output
    data = json.loads(out.read_text())
    assert data["images"] == 30 and data["agree"] == 30 and data["accuracy"] >= 0.9
    assert data["config"]["rows"] == 8 and data["bound_cycles"] > 0


@pytest.mark.parametrize("args,message", [
    (["--model", "missing.npz"], "missing.npz"),
    (["--offset", "5000"], "past the 1000"),
    (["--backend", "fpga"], "Invalid value for '--backend'"),
    (["--rows", "0"], "rows"),
])
def test_cli_eval_bad_input_is_one_line(args, message):
    result = CliRunner().invoke(main, ["mnist", "eval", *args])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert lines[-1].startswith("Error:") and message in result.output
