"""Parsing of the sweep's lists and workloads, and the expansion of the design space."""

import pytest

from accel.config import AccelConfig
from accel.sweep import SweepError, SweepSpace, Workload, expand
from accel.sweep.metrics import metric_columns
from accel.sweep.params import parse_choice_list, parse_int_list


def test_int_lists_keep_their_order():
    assert parse_int_list("8,2, 4", "--rows") == (8, 2, 4)
    assert parse_int_list("16", "--cols") == (16,)


@pytest.mark.parametrize("text, fragment", [
    ("", "non-empty"),
    ("2,,4", "empty item"),
    ("2,four", "list of integers"),
    ("2.5", "list of integers"),
    ("4,4", "twice"),
    ("4,04", "repeats a value"),
])
def test_bad_int_lists(text, fragment):
    with pytest.raises(SweepError, match=fragment) as info:
        parse_int_list(text, "--rows")
    assert "--rows" in str(info.value) and "\n" not in str(info.value)


def test_choice_lists():
    assert parse_choice_list("os,ws", "--dataflow", ("ws", "os")) == ("os", "ws")
    with pytest.raises(SweepError, match="among ws, os, not 'rs'"):
        parse_choice_list("ws,rs", "--dataflow", ("ws", "os"))


@pytest.mark.parametrize("text, name, slug", [
    ("cnn", "cnn", "cnn"), ("mlp", "mlp", "mlp"),
    ("gemm:64x32x8", "gemm:64x32x8", "gemm_64x32x8"),
])
def test_workloads(text, name, slug):
    workload = Workload.parse(text)
    assert (workload.name, workload.slug) == (name, slug)


@pytest.mark.parametrize("text", ["resnet", "gemm:4x4", "gemm:0x4x4", "gemm:4x4x5000",
                                  "gemm:axbxc"])
def test_bad_workloads(text):
    with pytest.raises(SweepError, match="--workload"):
        Workload.parse(text)


def test_expand_is_the_ordered_product_and_lists_rejections():
    space = SweepSpace({"rows": (2, 200), "cols": (4, 8), "dataflow": ("ws", "os")},
                       AccelConfig(sp_kib=16, acc_kib=16))
    configs, rejected = expand(space)
    assert [(c.rows, c.cols, c.dataflow) for c in configs] == [
        (2, 4, "ws"), (2, 4, "os"), (2, 8, "ws"), (2, 8, "os")]
    assert [c.name for c in configs] == ["2x4/ws", "2x4/os", "2x8/ws", "2x8/os"]
    assert all(c.sp_kib == 16 for c in configs)
    assert len(rejected) == 4
    assert all("rows must be an integer between 1 and 128, not 200" in r.reason
               for r in rejected)
    assert rejected[0].label == "rows=200, cols=4, dataflow=ws, sp_kib=16, acc_kib=16"


def test_memory_sizes_too_small_for_the_array_are_rejected_with_the_reason():
    space = SweepSpace({"rows": (4, 64), "cols": (64,), "acc_kib": (16,)})
    configs, rejected = expand(space)
    assert [c.rows for c in configs] == [4]
    assert "accumulator" in rejected[0].reason


def test_labels_name_swept_memory_sizes():
    configs, _ = expand(SweepSpace({"rows": (4,), "cols": (4,), "sp_kib": (16, 64)}))
    assert [c.name for c in configs] == ["4x4/ws sp16K", "4x4/ws sp64K"]


def test_metric_columns_follow_metrics_and_workloads():
    workloads = (Workload.parse("cnn"), Workload.parse("gemm:8x8x8"))
    assert metric_columns(("resources", "cycles"), workloads) == [
        "cycles_cnn", "bound_cnn", "cycles_gemm_8x8x8", "bound_gemm_8x8x8",
        "lut", "ff", "dsp", "bram"]
    assert metric_columns(("rtl", "fmax"), workloads[:1]) == ["fmax_mhz", "rtl_cycles_cnn"]
