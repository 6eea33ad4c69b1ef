"""Achieved clock frequency of one configuration: Yosys + nextpnr-ecp5 place and route.

The top level alone has far more ports than an FPGA package has pins (a 16x16 array's outputs
alone are 512 bits), so it is placed inside `wrapper_verilog`: a shell with three pins (clock,
serial in, serial out) whose input shift register drives every input port (reset included) and
whose capture register loads every output port in parallel and shifts it out. Nothing of the
design can be optimized away, and the shell's own paths are single flip-flop hops, so the
critical path is the design's. Synthesis is the resources metric's ECP5 script
(`accel.sweep.resources.FAMILIES`). The result is nextpnr's achieved frequency of ``clk`` from
its ``--report`` JSON; cached like `resources.synthesize` (by a hash of the RTLIL, the
scripts, the device and the tools' versions).
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

from accel.config import AccelConfig
from accel.sweep.cache import cached, content_key
from accel.sweep.resources import FAMILIES, design_rtlil
from accel.build.fpga_tools import ToolError, run_tool, tool_version

__all__ = ["ECP5_DEVICE", "measure_fmax", "wrapper_verilog"]

#: The nextpnr-ecp5 device options: an ECP5-85F (LFE5U-85F) in the CABGA381 package (ULX3S).
ECP5_DEVICE = ("--85k", "--package", "CABGA381")
#: The clock constraint given to nextpnr (MHz); the achieved figure may be above or below it.
TARGET_MHZ = 100
WRAPPER = "fmax_shell"


def wrapper_verilog(top: str, ports: list[dict]) -> str:
    """Verilog of module ``fmax_shell(clk, sin, sout)`` holding ``top`` with ``ports``.

    ``ports`` is `accel.build.verilog.port_table` of the top (``clk`` and ``rst`` are implicit).
    """
    inputs = [p for p in ports if p["direction"] == "input"]
    outputs = [p for p in ports if p["direction"] == "output"]
    n_in = 1 + sum(p["width"] for p in inputs)  # bit 0 drives rst
    n_out = max(1, sum(p["width"] for p in outputs))
    connections = [".clk(clk)", ".rst(shift_in[0])"]
    offset = 1
    for port in inputs:
        connections.append(f".{port['name']}(shift_in[{offset + port['width'] - 1}:{offset}])")
        offset += port["width"]
    offset = 0
    for port in outputs:
        connections.append(f".{port['name']}(result[{offset + port['width'] - 1}:{offset}])")
        offset += port["width"]
    joined = ",\n    ".join(connections)
    return f"""module {WRAPPER}(input wire clk, input wire sin, output wire sout);
  reg [{n_in - 1}:0] shift_in = 0;
  reg [{n_out - 1}:0] capture = 0;
  wire [{n_out - 1}:0] result;
  always @(posedge clk) shift_in <= {{shift_in, sin}};
  always @(posedge clk)
    if (shift_in[{n_in - 1}]) capture <= result;
    else capture <= {{capture, 1'b0}};
  assign sout = capture[{n_out - 1}];
  {top} dut(
    {joined}
  );
endmodule
"""


def _place_and_route(design: str, top: str, ports: list[dict]) -> dict:
    began = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="accelgen-fmax-") as tmp:
        cwd = Path(tmp)
        (cwd / "design.il").write_text(design)
        (cwd / "shell.v").write_text(wrapper_verilog(top, ports))
        script = (f"read_rtlil design.il; read_verilog shell.v; "
                  f"{FAMILIES['ecp5'].synth.format(top=WRAPPER)}; write_json shell.json")
        run_tool("yosys", ["-p", script], cwd, "yosys.log")
        run_tool("nextpnr-ecp5", [*ECP5_DEVICE, "--json", "shell.json", "--freq",
                                  str(TARGET_MHZ), "--lpf-allow-unconstrained", "--seed", "1",
                                  "--report", "report.json", "--quiet"], cwd, "nextpnr.log")
        report = json.loads((cwd / "report.json").read_text())
    clocks = {name: float(entry["achieved"]) for name, entry in report.get("fmax", {}).items()}
    if not clocks:
        raise ToolError("nextpnr reported no clock (is the design clocked?)")
    clock = next((name for name in clocks if "clk" in name), next(iter(clocks)))
    return {"fmax_mhz": round(clocks[clock], 2), "pnr_seconds": round(time.monotonic() - began, 1)}


def measure_fmax(config: AccelConfig, top: str = "accelerator") -> dict:
    """``fmax_mhz`` (nextpnr's achieved MHz of the clock) of top level ``top`` on an ECP5-85F,
    plus ``pnr_seconds`` and ``cached``.

    Raises
    ------
    ToolError
        When a tool is missing or fails.
    """
    design, ports = design_rtlil(config, top)
    key = content_key(design, top, FAMILIES["ecp5"].synth, " ".join(ECP5_DEVICE),
                      str(TARGET_MHZ), tool_version("yosys"), tool_version("nextpnr-ecp5"))
    result, hit = cached("fmax-ecp5", key, lambda: _place_and_route(design, top, ports))
    return {**result, "cached": hit}
