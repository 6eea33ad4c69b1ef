"""One sweep job (`accel.sweep.evaluate`) and the synthesis behind the resources metric."""

import shutil
import subprocess

import pytest

from accel.config import AccelConfig
from accel.sweep import JobPlan, Workload, evaluate
from accel.sweep.fmax import wrapper_verilog
from accel.sweep.resources import FAMILIES, count_resources, synthesize


def test_a_failing_metric_is_recorded_not_raised():
    # Networks are int8 -> int32: an int4 configuration cannot run them, a GEMM still can.
    config = AccelConfig(rows=4, cols=4, input_width=4, acc_width=16, sp_kib=4, acc_kib=4)
    plan = JobPlan(("cycles",), (Workload.parse("cnn"), Workload.parse("gemm:16x16x16")))
    row = evaluate(config, plan)
    assert "cycles_cnn" not in row
    assert "int8" in row["errors"]["cycles_cnn"] and "\n" not in row["errors"]["cycles_cnn"]
    assert row["cycles_gemm_16x16x16"] >= row["bound_gemm_16x16x16"] >= 16 ** 3 // 16


def test_predicted_cycles_come_from_the_cycle_model():
    from accel.perf import predict_matmul

    config = AccelConfig(rows=4, cols=8, dataflow="os", sp_kib=16, acc_kib=16)
    row = evaluate(config, JobPlan(("cycles",), (Workload.parse("gemm:24x40x16"),)))
    assert row["errors"] == {}
    assert row["cycles_gemm_24x40x16"] == predict_matmul(config, 24, 40, 16).cycles


@pytest.mark.fpga
def test_ecp5_synthesis_of_an_array_is_cached(tmp_path, monkeypatch):
    monkeypatch.setenv("ACCELGEN_SIM_CACHE", str(tmp_path))
    config = AccelConfig(rows=1, cols=2, sp_kib=4, acc_kib=4)
    first = synthesize(config, "array", "ecp5")
    assert first["dsp"] == 2  # one MULT18X18D per PE
    assert first["lut"] > 0 and first["ff"] > 2 * 8 and first["bram"] == 0
    assert first["cached"] is False
    second = synthesize(config.replace(sp_kib=8), "array", "ecp5")  # the same array
    assert second["cached"] is True
    assert {k: second[k] for k in ("lut", "ff", "dsp")} == {k: first[k] for k in
                                                            ("lut", "ff", "dsp")}


def test_resources_count_carry_cells_twice_and_every_ice40_flip_flop():
    assert count_resources(FAMILIES["ecp5"], {"LUT4": 10, "CCU2C": 3, "TRELLIS_FF": 7,
                                              "MULT18X18D": 2, "DP16KD": 1}) == \
        {"lut": 16, "ff": 7, "dsp": 2, "bram": 1}
    assert count_resources(FAMILIES["ice40"], {"SB_LUT4": 5, "SB_DFF": 2, "SB_DFFER": 3,
                                               "SB_CARRY": 9}) == \
        {"lut": 5, "ff": 5, "dsp": 0, "bram": 0}


@pytest.mark.rtl
def test_fmax_shell_wraps_every_port_in_legal_verilog(tmp_path):
    from accel.build.verilog import generate

    iverilog = shutil.which("iverilog")
    assert iverilog, "iverilog not found: apt-get install iverilog"
    verilog, ports = generate(AccelConfig(rows=1, cols=2), "array")
    shell = wrapper_verilog("array", ports)
    for port in ports:
        assert f".{port['name']}(" in shell
    (tmp_path / "array.v").write_text(verilog)
    (tmp_path / "shell.v").write_text(shell)
    result = subprocess.run([iverilog, "-g2012", "-Wall", "-s", "fmax_shell", "-o",
                             str(tmp_path / "a.vvp"), "array.v", "shell.v"], cwd=tmp_path,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "port" not in result.stderr.lower(), result.stderr  # no width mismatches
