"""Compiled networks on the accelerator's RTL (Verilator): logits identical to the reference.

The configurations are the differential tests' (tests/sim), so the simulator builds are shared.
"""

import numpy as np
import pytest

from accel.config import AccelConfig
from accel.nn.compiler import compile_network
from accel.nn.inference import bound_cycles, run_golden
from accel.runtime.network_rtl import run_rtl
from accel.nn.network import reference
from tests.support.nets import random_cnn, random_images, random_mlp

pytestmark = pytest.mark.rtl

SMALL = dict(sp_kib=1, acc_kib=1, sp_banks=1, acc_banks=1)


def _check(network, config, images):
    compiled = compile_network(network, config)
    results = run_rtl(compiled, images, batch=2)
    golden = run_golden(compiled, images)
    assert len(results) == len(images)
    for result, want, image in zip(results, golden, images):
        np.testing.assert_array_equal(result.logits, reference(network, image))
        np.testing.assert_array_equal(result.logits, want.logits)
        assert result.cycles >= bound_cycles(compiled, want)
    return results


def test_cnn_on_rtl_weight_stationary():
    config = AccelConfig(rows=4, cols=4, dataflow="ws", **SMALL)
    results = _check(random_cnn(seed=4), config, random_images(3, seed=4))
    assert len({r.cycles for r in results}) <= 2    # data-independent timing, give or take


def test_default_cnn_on_rtl_classifies_held_out_digits():
    from accel.nn.mnist import data
    from accel.nn.model_file import load_default

    images, labels = data.load_offline(seed=0)
    _, _, images, labels = data.split_offline(images, labels, holdout=0.2, seed=0)
    config = AccelConfig(rows=4, cols=4, dataflow="ws", **SMALL)
    results = _check(load_default("cnn"), config, images[2:5])
    assert [r.prediction for r in results] == list(labels[2:5])


def test_mlp_on_rtl_output_stationary():
    config = AccelConfig(rows=4, cols=4, dataflow="os", **SMALL)
    _check(random_mlp(seed=5), config, random_images(1, seed=5))
