"""SCALE-Sim next to the analytical cycle model and the RTL, on the same GEMM shapes.

SCALE-Sim (``pip install scalesim``, v3; the ``bench`` extra) simulates a systolic array of the
same height, width and dataflow (ws, os) from a GEMM topology. Its GEMM is M x K times K x N:
weight-stationary maps K onto the rows and N onto the columns, output-stationary M onto the rows
and N onto the columns, as this accelerator does. The shapes are a few GEMMs (the programs
`accel.compiler.tiler.plan_matmul` emits) and the steps of the default MNIST networks, whose layers
SCALE-Sim gets as `accel.nn.compiler` lowers them: a convolution is one im2col GEMM with
``M = (oh - 1) * pitch + ow`` rows, ``K = kh * kw * cin``, ``N = cout``; a dense layer is
``1 x K x N`` (os) or, transposed, ``N x K x 1`` (ws).

Printed per shape or step: RTL cycles (Verilator), `accel.perf` cycles, and SCALE-Sim's cycles
twice: its compute cycles with ideal memory ("Total Cycles") and with the interface bandwidth
set to the accelerator's bus (bus_width / 8 int8 words per cycle). docs/cycle_model.md explains
the differences.

Usage::

    python bench/scalesim_compare.py                 # 4x4 ws and os, GEMMs and MNIST layers
    python bench/scalesim_compare.py --configs 4x4-ws --no-rtl
"""

from __future__ import annotations

import argparse
import builtins
import csv
import functools
import importlib.util
import io
import sys
import tempfile
from contextlib import redirect_stdout
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from accel.config import AccelConfig, Dataflow  # noqa: E402
from accel.perf import predict_matmul  # noqa: E402
from accel.verify.cycle_model import GemmCase, rtl_gemm_cycles  # noqa: E402

SMALL = dict(sp_kib=1, acc_kib=1, sp_banks=1, acc_banks=1)
CONFIGS = {
    "4x4-ws": AccelConfig(rows=4, cols=4, dataflow="ws", **SMALL),
    "4x4-os": AccelConfig(rows=4, cols=4, dataflow="os", **SMALL),
    "8x8-os": AccelConfig(rows=8, cols=8, dataflow="os"),
}
GEMMS = (GemmCase(16, 16, 16), GemmCase(64, 64, 64), GemmCase(100, 30, 20), GemmCase(7, 50, 13))

_CONFIG_TEMPLATE = """\
[general]
run_name = accelgen

[architecture_presets]
ArrayHeight : {rows}
ArrayWidth : {cols}
IfmapSramSzkB : {sram_kib}
FilterSramSzkB : {sram_kib}
OfmapSramSzkB : {sram_kib}
IfmapOffset : 0
FilterOffset : 10000000
OfmapOffset : 20000000
Dataflow : {dataflow}
Bandwidth : {bandwidth}
ReadRequestBuffer : 32
WriteRequestBuffer : 32

[layout]
IfmapCustomLayout : False
IfmapSRAMBankBandwidth : 10
IfmapSRAMBankNum : 10
IfmapSRAMBankPort : 2
FilterCustomLayout : False
FilterSRAMBankBandwidth : 10
FilterSRAMBankNum : 10
FilterSRAMBankPort : 2

[sparsity]
SparsitySupport : false
SparseRep : ellpack_block
OptimizedMapping : false
BlockSize : 8
RandomNumberGeneratorSeed : 40

[run_presets]
InterfaceBandwidth : {mode}
UseRamulatorTrace : False
"""


def _numpy2_shim() -> None:
    """SCALE-Sim 3.0.0 calls ``int()`` on one-element arrays, which NumPy 2 refuses; give its
    memory models an ``int`` that takes them, only while they service requests (their
    constructors pass ``int`` as a dtype, so it cannot stay replaced)."""
    from scalesim.memory import double_buffered_scratchpad_mem as dbm
    from scalesim.memory import read_buffer

    cls = dbm.double_buffered_scratchpad
    if getattr(cls.service_memory_requests, "_accelgen_shim", False):
        return

    def lenient_int(value, *args):
        array = np.asarray(value)
        if array.ndim and array.size == 1:
            return builtins.int(array.reshape(-1)[0])
        return builtins.int(value, *args)

    original = cls.service_memory_requests

    @functools.wraps(original)
    def service(self, *args, **kwargs):
        dbm.int = read_buffer.int = lenient_int
        try:
            return original(self, *args, **kwargs)
        finally:
            del dbm.int, read_buffer.int

    service._accelgen_shim = True
    cls.service_memory_requests = service


def scalesim_cycles(config: AccelConfig, gemms: list[tuple[str, int, int, int]], *,
                    bandwidth: int | None = None) -> dict[str, dict[str, int]]:
    """SCALE-Sim's compute report for each ``(name, m, k, n)`` on ``config``'s array.

    ``bandwidth`` (words per cycle) selects SCALE-Sim's USER bandwidth mode; None its CALC mode
    (the bandwidth that never stalls the array). Returns, per name, ``total`` ("Total Cycles":
    compute plus stalls, without the initial prefetch), ``with_prefetch`` and ``stalls``.
    """
    _numpy2_shim()
    from scalesim.scale_sim import scalesim

    with tempfile.TemporaryDirectory(prefix="accelgen-scalesim-") as tmp:
        root = Path(tmp)
        (root / "arch.cfg").write_text(_CONFIG_TEMPLATE.format(
            rows=config.rows, cols=config.cols, dataflow=config.dataflow,
            sram_kib=max(config.sp_kib, config.acc_kib), bandwidth=bandwidth or 1,
            mode="USER" if bandwidth else "CALC"))
        topology = "Layer, M, N, K,\n" + "".join(f"{name}, {m}, {n}, {k},\n"
                                                  for name, m, k, n in gemms)
        (root / "gemm.csv").write_text(topology)
        # The layout file is only read for custom SRAM layouts, which are off; it must parse.
        layout = "Layer name," + ",".join(["factor"] * 20) + ",\n"
        layout += "".join(f"{name}," + ",".join(["1"] * 20) + ",\n" for name, *_ in gemms)
        (root / "layout.csv").write_text(layout)
        with redirect_stdout(io.StringIO()):
            sim = scalesim(save_disk_space=True, verbose=False, config=str(root / "arch.cfg"),
                           topology=str(root / "gemm.csv"), layout=str(root / "layout.csv"),
                           input_type_gemm=True)
            sim.run_scale(top_path=str(root / "out"))
        report = next((root / "out").glob("*/COMPUTE_REPORT.csv"))
        with report.open() as f:
            rows = [[cell.strip() for cell in row] for row in csv.reader(f)]
    header = rows[0]
    out = {}
    for (name, *_), row in zip(gemms, rows[1:]):
        values = dict(zip(header, row))
        out[name] = {"total": int(float(values["Total Cycles"])),
                     "with_prefetch": int(float(values["Total Cycles (incl. prefetch)"])),
                     "stalls": int(float(values["Stall Cycles"]))}
    return out


def layer_gemms(network, dataflow: Dataflow) -> dict[int, tuple[int, int, int]]:
    """Each matrix layer of ``network`` as the compiler lowers it: index -> (m, k, n)."""
    from accel.nn.network import Conv2D, Dense, MaxPool2D

    out = {}
    shape, pitch = network.input_shape, network.input_shape[1]
    for index, layer in enumerate(network.layers):
        out_shape = layer.output_shape(shape)
        if isinstance(layer, Conv2D):
            kh, kw, cin, cout = layer.weight.shape
            oh, ow, _ = out_shape
            out[index] = ((oh - 1) * pitch + ow, kh * kw * cin, cout)
        elif isinstance(layer, Dense):
            k, n = layer.weight.shape
            out[index] = (n, k, 1) if dataflow is Dataflow.WS else (1, k, n)
        elif isinstance(layer, MaxPool2D):
            pitch = out_shape[1]
        shape = out_shape
    return out


def _mnist_rows(name: str, config: AccelConfig, rtl: bool) -> list[str]:
    """Table rows for every accelerator step of the default networks (a step's SCALE-Sim
    cycles are the sum over its layers)."""
    from accel.nn.compiler import AccelStep, compile_network
    from accel.nn.model_file import load_default
    from accel.perf import predict_network
    from accel.verify.cycle_model import rtl_network_cycles

    rows = []
    for model in ("cnn", "mlp"):
        network = load_default(model)
        compiled = compile_network(network, config)
        gemms = layer_gemms(network, config.dataflow)
        labels = [(f"{model}-{index}", *gemms[index]) for index in sorted(gemms)]
        ideal = scalesim_cycles(config, labels)
        bounded = scalesim_cycles(config, labels, bandwidth=config.bus_bytes // config.in_bytes)
        estimate = predict_network(config, compiled)
        measured = rtl_network_cycles(compiled) if rtl else [None] * len(compiled.steps)
        for step, layer, cycles in zip(compiled.steps, estimate.layers, measured):
            if not isinstance(step, AccelStep):
                continue
            keys = [f"{model}-{index}" for index in step.layers]
            shape = " + ".join("x".join(map(str, gemms[i])) for i in step.layers)
            sim = sum(ideal[k]["total"] for k in keys)
            bus = sum(bounded[k]["total"] for k in keys)
            rtl_text = f"{cycles:,}" if cycles is not None else "-"
            rows.append(f"| {name} | {model} {layer.name} | {shape} | {rtl_text} | "
                        f"{layer.cycles:,} | {sim:,} | {bus:,} | {layer.cycles / sim:.2f} |")
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", default="4x4-ws,4x4-os",
                        help=f"Comma-separated names among {', '.join(CONFIGS)}.")
    parser.add_argument("--no-rtl", action="store_true", help="Skip the RTL column.")
    args = parser.parse_args(argv)
    names = [n.strip() for n in args.configs.split(",")]
    for name in names:
        if name not in CONFIGS:
            parser.error(f"unknown configuration {name!r}; choose from {', '.join(CONFIGS)}")
    if importlib.util.find_spec("scalesim") is None:
        parser.error("SCALE-Sim is not installed: pip install 'accelgen[bench]' (or scalesim)")

    print("| config | shape | M x K x N | RTL | accel.perf | SCALE-Sim ideal | "
          "SCALE-Sim at bus bandwidth | model / SCALE-Sim ideal |")
    print("|---|---|---|---:|---:|---:|---:|---:|")
    for name in names:
        config = CONFIGS[name]
        shapes = [(f"gemm-{c.m}x{c.k}x{c.n}", c.m, c.k, c.n) for c in GEMMS]
        print(f"{name}: SCALE-Sim ...", file=sys.stderr)
        ideal = scalesim_cycles(config, shapes)
        bounded = scalesim_cycles(config, shapes, bandwidth=config.bus_bytes // config.in_bytes)
        cases = [GemmCase(m, k, n) for _, m, k, n in shapes]
        if args.no_rtl:
            measured = [None] * len(cases)
        else:
            print(f"{name}: RTL ...", file=sys.stderr)
            measured = rtl_gemm_cycles(config, cases)
        for (label, m, k, n), case, rtl in zip(shapes, cases, measured):
            model = predict_matmul(config, m, k, n).cycles
            sim, bus = ideal[label]["total"], bounded[label]["total"]
            rtl_text = f"{rtl:,}" if rtl is not None else "-"
            print(f"| {name} | {label} | {m}x{k}x{n} | {rtl_text} | {model:,} | {sim:,} | "
                  f"{bus:,} | {model / sim:.2f} |")
        for row in _mnist_rows(name, config, rtl=not args.no_rtl):
            print(row)
    return 0


if __name__ == "__main__":
    sys.exit(main())
