"""``python -m bench``: a well-formed Markdown report whose figures are the CLI's."""

import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from accel.cli import main as accelgen

REPO = Path(__file__).resolve().parent.parent.parent


def _bench(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bench", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=600)


def _tables(markdown: str) -> list[list[list[str]]]:
    """Every Markdown table as rows of cells (the separator row dropped)."""
    tables, current = [], []
    for line in markdown.splitlines() + [""]:
        if line.startswith("|"):
            current.append([cell.strip() for cell in line.strip("|").split("|")])
        elif current:
            tables.append(current)
            current = []
    return tables


@pytest.mark.rtl
def test_quick_report_is_markdown_and_matches_the_cli(tmp_path):
    out = tmp_path / "report.md"
    done = _bench("--quick", "--sections", "gemm,fpga", "--out", str(out))
    assert done.returncode == 0, done.stderr[-3000:]
    text = done.stdout
    assert out.read_text() == text
    lines = text.splitlines()
    assert lines[0] == "# accelgen bench report"
    for item in ("command: `python -m bench --quick --sections gemm,fpga", "date: ",
                 "machine: ", "packages: amaranth 0.5", "Icarus: ", "mode: quick"):
        assert any(line.startswith(f"- {item}") for line in lines), item
    headings = [line for line in lines if line.startswith("## ")]
    assert headings == ["## 1. GEMM utilization", "## 2. FPGA resources and Fmax"]
    assert "skipped: pass --fpga" in text
    assert "failed" not in text

    [table] = _tables(text)
    head, separator, *rows = table
    assert all(set(cell) == {"-"} for cell in separator)
    assert all(len(row) == len(head) for row in [separator, *rows])
    assert len(rows) == 1
    row = dict(zip(head, rows[0]))
    assert row["array"] == "4x4 ws" and row["GEMM"] == "16^3"
    assert int(row["resident cycles"]) >= 16 ** 3 // 16  # the bound: MACs / PEs

    cli = CliRunner().invoke(accelgen, ["matmul", "--rows", "4", "--cols", "4", "--m", "16",
                                        "--k", "16", "--n", "16", "--backend", "rtl"])
    assert cli.exit_code == 0, cli.output
    figures = dict(re.findall(r"^(cycles|bound|utilization) +(\S+)", cli.output, re.M))
    assert row["e2e cycles"] == figures["cycles"]
    assert row["e2e bound"] == figures["bound"]
    assert row["e2e util"] == figures["utilization"]


def test_bad_section_is_one_error_line():
    done = _bench("--sections", "gemm,nonsense")
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.strip().splitlines() == [
        "Error: argument --sections: unknown section 'nonsense'; choose from emit, gemm, mnist, "
        "simspeed, fpga"]
