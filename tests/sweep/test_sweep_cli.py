"""``accelgen sweep`` end to end on a Dask LocalCluster, its --scheduler mode and its errors.

The main sweep is CI-sized: 16 configurations (2..4 x 2..4, both dataflows, two scratchpad
sizes; plus combinations with 200 rows that validation rejects) on a LocalCluster of two worker
processes, measuring predicted CNN cycles and ECP5 resources of the systolic array (the whole
accelerator takes minutes per configuration to synthesize). It runs once per module, with a
fresh synthesis cache, and the tests below check what it wrote.
"""

import csv
import json
import struct

import pytest
from click.testing import CliRunner

from accel.cli import main

SWEEP_ARGS = ["sweep", "--rows", "2,4,200", "--cols", "2,4", "--dataflow", "ws,os",
              "--sp-kib", "16,64", "--metrics", "cycles,resources", "--resource-top", "array",
              "--workers", "2"]


@pytest.fixture(scope="module")
def swept(tmp_path_factory):
    out = tmp_path_factory.mktemp("sweep")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ACCELGEN_SIM_CACHE", str(out / "cache"))  # workers inherit it
        result = CliRunner().invoke(main, [*SWEEP_ARGS, "--out", str(out / "results")])
    assert result.exit_code == 0, result.output
    return out / "results", result


def _rows(results):
    with open(results / "sweep.csv", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.fpga
@pytest.mark.slow
def test_writes_csv_json_and_png(swept):
    results, _ = swept
    rows = _rows(results)
    assert len(rows) == 16
    assert all(row["errors"] == "" for row in rows), [r["errors"] for r in rows]
    data = json.loads((results / "sweep.json").read_text())
    assert [row["label"] for row in data["rows"]] == [row["label"] for row in rows]
    assert data["metrics"] == ["cycles", "resources"] and data["resource_top"] == "array"
    png = (results / "pareto.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])  # the IHDR chunk
    assert width >= 400 and height >= 300 and len(png) > 10_000


@pytest.mark.fpga
@pytest.mark.slow
def test_rows_come_in_sweep_order(swept):
    labels = [row["label"] for row in _rows(swept[0])]
    expected = [f"{r}x{c}/{d} sp{s}K" for r in (2, 4) for c in (2, 4) for d in ("ws", "os")
                for s in (16, 64)]
    assert labels == expected


@pytest.mark.fpga
@pytest.mark.slow
def test_invalid_combinations_are_listed_not_run(swept):
    results, result = swept
    data = json.loads((results / "sweep.json").read_text())
    assert len(data["rejected"]) == 8
    assert all("rows must be an integer between 1 and 128, not 200" in r["reason"]
               for r in data["rejected"])
    assert result.stderr.count("skipped rows=200") == 8
    assert "Traceback" not in result.output


def _by_label(rows):
    return {row["label"]: row for row in rows}


@pytest.mark.fpga
@pytest.mark.slow
@pytest.mark.parametrize("dataflow", ["ws", "os"])
def test_more_pes_means_fewer_cycles_and_more_luts(swept, dataflow):
    rows = _by_label(_rows(swept[0]))
    for sp in (16, 64):
        def row(r, c):
            return rows[f"{r}x{c}/{dataflow} sp{sp}K"]
        for small, big in [((2, 2), (2, 4)), ((2, 2), (4, 2)), ((2, 4), (4, 4)),
                           ((4, 2), (4, 4))]:
            a, b = row(*small), row(*big)
            assert int(b["cycles_cnn"]) < int(a["cycles_cnn"]), (a, b)
            assert int(b["lut"]) > int(a["lut"]) and int(b["dsp"]) > int(a["dsp"]), (a, b)
            assert int(b["bound_cnn"]) <= int(b["cycles_cnn"])


@pytest.mark.fpga
@pytest.mark.slow
def test_identical_arrays_get_identical_resources(swept):
    # The scratchpad size does not change the array: the second synthesis is a cache hit.
    rows = _rows(swept[0])
    for first, second in zip(rows[0::2], rows[1::2]):
        assert first["label"].replace("sp16K", "sp64K") == second["label"]
        assert [first[k] for k in ("lut", "ff", "dsp", "bram")] == \
            [second[k] for k in ("lut", "ff", "dsp", "bram")]


@pytest.mark.fpga
@pytest.mark.slow
def test_pareto_front_is_marked_and_printed(swept):
    results, result = swept
    rows = _rows(results)
    front = [row for row in rows if row["front_cnn"] == "True"]
    assert front
    for row in rows:  # a point off the front is dominated by one on it
        if row["front_cnn"] != "True":
            assert any(int(f["lut"]) <= int(row["lut"])
                       and int(f["cycles_cnn"]) <= int(row["cycles_cnn"]) for f in front)
    data = json.loads((results / "sweep.json").read_text())
    assert data["pareto"]["cnn"]["labels"] == [row["label"] for row in sorted(
        front, key=lambda r: (int(r["lut"]), int(r["cycles_cnn"])))]
    assert "Pareto front of cnn (cycles_cnn vs lut)" in result.stdout
    for row in front:
        assert row["label"] in result.stdout.split("Pareto front")[1]
    assert "16 configurations (8 skipped) on LocalCluster, 2 workers" in result.stdout


@pytest.mark.fpga
@pytest.mark.slow
def test_progress_goes_to_stderr(swept):
    _, result = swept
    assert "[16/16]" in result.stderr and "[16/16]" not in result.stdout


@pytest.mark.slow
def test_scheduler_option_uses_the_given_cluster(tmp_path):
    from distributed import LocalCluster

    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                      dashboard_address=":0") as cluster:
        result = CliRunner().invoke(main, [
            "sweep", "--rows", "4,8", "--cols", "8", "--dataflow", "ws", "--workload", "mlp",
            "--workload", "gemm:32x32x32", "--scheduler", cluster.scheduler_address,
            "--out", str(tmp_path)])
        assert result.exit_code == 0, result.output
        ran = [key for key in cluster.scheduler.task_prefixes if key.startswith("sweep")]
        assert ran, list(cluster.scheduler.task_prefixes)
    assert f"scheduler {cluster.scheduler_address}, 1 worker" in result.stdout
    rows = _rows(tmp_path)
    assert [row["label"] for row in rows] == ["4x8/ws", "8x8/ws"]
    assert int(rows[1]["cycles_mlp"]) < int(rows[0]["cycles_mlp"])
    assert int(rows[1]["cycles_gemm_32x32x32"]) < int(rows[0]["cycles_gemm_32x32x32"])
    assert (tmp_path / "pareto.png").stat().st_size > 0


@pytest.mark.parametrize("args, fragment", [
    (["--rows", "2,,4"], "--rows has an empty item"),
    (["--rows", "two"], "--rows must be a comma-separated list of integers"),
    (["--cols", "4,4"], "--cols lists '4' twice"),
    (["--dataflow", "ws,rs"], "--dataflow items must be among ws, os, not 'rs'"),
    (["--sp-kib", ""], "--sp-kib must be a non-empty comma-separated list"),
    (["--metrics", "cycles,power"], "--metrics items must be among"),
    (["--workload", "gemm:0x4x4"], "GEMM dimensions must be between 1 and 4096"),
    (["--workload", "resnet"], "--workload must be cnn, mlp or gemm:MxKxN"),
    (["--workload", "cnn,cnn"], "--workload names a workload twice"),
    (["--x-axis", "lut"], "needs the resources metric"),
    (["--rows", "200"], "no combination of the swept values is a valid configuration"),
    (["--preset", "huge"], "unknown preset 'huge'"),
    (["--scheduler", "tcp://127.0.0.1:1", "--workers", "2"], "--workers sizes the LocalCluster"),
    (["--workers", "0"], "--workers"),
    (["--scheduler", "nonsense://x"], "cannot connect to the Dask scheduler at 'nonsense://x'"),
])
def test_bad_input_is_one_error_line_and_exit_2(tmp_path, args, fragment):
    result = CliRunner().invoke(main, ["sweep", "--rows", "4", "--cols", "4", *args,
                                       "--out", str(tmp_path / "out")])
    assert result.exit_code == 2, result.output
    errors = [line for line in result.stderr.splitlines() if not line.startswith("skipped")]
    assert len(errors) == 1 and errors[0].startswith("Error: "), result.stderr
    assert fragment in errors[0]
    assert not (tmp_path / "out").exists()
