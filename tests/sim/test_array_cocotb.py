"""cocotb runs of ``sim.bench_array`` on the emitted SystolicArray Verilog (Verilator, Icarus)."""

from __future__ import annotations

import json

import pytest

from accel.systolic import SystolicArray
from sim.runner import emit_cached, run_cocotb

pytestmark = pytest.mark.rtl

CASES = [
    # (simulator, rows, cols, dataflow, extra parameters)
    ("verilator", 4, 4, "ws", {}),
    ("verilator", 1, 4, "ws", {}),
    ("verilator", 5, 3, "ws", {"acc_width": 14}),
    ("verilator", 3, 5, "os", {}),
    ("verilator", 1, 4, "os", {"lengths": [1, 1, 2, 1, 5]}),
    ("verilator", 4, 1, "os", {"acc_width": 12}),
    ("icarus", 2, 3, "ws", {"tiles": 2}),
    ("icarus", 3, 2, "os", {"lengths": [1, 2, 4]}),
]


@pytest.mark.parametrize("simulator,rows,cols,dataflow,extra", CASES,
                         ids=[f"{c[0]}-{c[1]}x{c[2]}-{c[3]}" for c in CASES])
def test_array_cocotb(simulator, rows, cols, dataflow, extra):
    params = {"rows": rows, "cols": cols, "dataflow": dataflow, "input_width": 8,
              "acc_width": 32, "seed": rows * 10 + cols, **extra}
    key = (f"systolic-array-{rows}x{cols}-{dataflow}-i{params['input_width']}"
           f"-a{params['acc_width']}")
    source = emit_cached(key, lambda: SystolicArray(
        rows=rows, cols=cols, dataflow=dataflow, input_width=params["input_width"],
        acc_width=params["acc_width"]))
    run_cocotb(sources=[source], toplevel="top", test_module="sim.bench_array", build_key=key,
               simulator=simulator, env={"ARRAY_PARAMS": json.dumps(params)})
