"""The analytical cycle model (`accel.perf`) against RTL cycles: a Markdown table and the errors.

For each configuration, a set of GEMMs (square and ragged, with and without bias and
requantization; the programs `accel.compiler.tiler.plan_matmul` emits) and every accelerator step of
the default MNIST networks (`accel.nn.compiler.compile_network`) run on the RTL (Verilator, one
simulator run per configuration and workload kind) and through the model; the table lists both
and the error ``(model - RTL) / RTL``, then the worst and the mean absolute error per kind.

Usage::

    python bench/cycle_model.py                     # 2x2 .. 8x8, both dataflows
    python bench/cycle_model.py --quick             # 4x4 ws and os only
    python bench/cycle_model.py --configs 4x4-os,3x5-ws --no-mnist
    python bench/cycle_model.py --max-error 10      # exit 1 when an error exceeds 10 %
    python bench/cycle_model.py --rtl-cache rtl.json   # re-check the model, simulate only once

With ``--rtl-cache FILE`` the RTL cycles are read from FILE (JSON, keyed by configuration and
workload) where present and the new ones written back, so that a change of the model is checked
against the same RTL figures without simulating again (delete the file after an RTL change).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from accel.config import AccelConfig  # noqa: E402
from accel.perf import predict_matmul, predict_network  # noqa: E402
from accel.verify.cycle_model import (GemmCase, percent_error, rtl_gemm_cycles,  # noqa: E402
                                 rtl_network_cycles)
from accel.compiler.tiler import Requant  # noqa: E402

SMALL = dict(sp_kib=1, acc_kib=1, sp_banks=1, acc_banks=1)

#: Configurations by name: the differential tests' small ones (their simulator builds are
#: shared) and an 8x8 array with the default memories.
CONFIGS = {
    "2x2-ws": AccelConfig(rows=2, cols=2, dataflow="ws", **SMALL),
    "4x4-ws": AccelConfig(rows=4, cols=4, dataflow="ws", **SMALL),
    "4x4-os": AccelConfig(rows=4, cols=4, dataflow="os", **SMALL),
    "3x5-ws": AccelConfig(rows=3, cols=5, dataflow="ws", sp_kib=1, acc_kib=1, sp_banks=2,
                          acc_banks=2),
    "2x3-os-bus64": AccelConfig(rows=2, cols=3, dataflow="os", bus_width=64, acc_width=24,
                                **SMALL),
    "8x8-os": AccelConfig(rows=8, cols=8, dataflow="os"),
}
QUICK = ("4x4-ws", "4x4-os")

REQUANT = Requant(multiplier=1 << 20, shift=24, relu=True)
GEMMS = (
    GemmCase(1, 1, 1),
    GemmCase(4, 4, 4),
    GemmCase(16, 16, 16),
    GemmCase(64, 64, 64),
    GemmCase(5, 7, 3, bias=True),
    GemmCase(33, 17, 9, requant=REQUANT),
    GemmCase(16, 16, 16, bias=True, requant=REQUANT),
    GemmCase(100, 30, 20, bias=True, requant=REQUANT),
    GemmCase(7, 50, 13),
    GemmCase(128, 16, 8, bias=True),
)


def _mnist_rows(name: str, config: AccelConfig, cache: dict) -> list[tuple[str, str, int, int]]:
    from accel.nn.compiler import compile_network
    from accel.nn.model_file import load_default

    rows = []
    for model in ("cnn", "mlp"):
        try:
            compiled = compile_network(load_default(model), config)
        except ValueError as exc:     # e.g. not int8 -> int32
            print(f"{name}: no MNIST ({exc})", file=sys.stderr)
            return rows
        estimate = predict_network(config, compiled)
        key = f"{name} {model}"
        if key not in cache:
            cache[key] = rtl_network_cycles(compiled)
        for layer, cycles in zip(estimate.layers, cache[key]):
            if cycles is not None:
                rows.append((name, f"{model} {layer.name}", cycles, layer.cycles))
    return rows


def _summary(kind: str, errors: list[float]) -> str:
    if not errors:
        return f"- {kind}: no cases"
    worst = max(errors, key=abs)
    mean = sum(abs(e) for e in errors) / len(errors)
    return (f"- {kind}: {len(errors)} cases, worst error {worst:+.1f} %, "
            f"mean absolute error {mean:.1f} %")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", default=",".join(CONFIGS),
                        help=f"Comma-separated names among {', '.join(CONFIGS)}.")
    parser.add_argument("--quick", action="store_true", help=f"Only {', '.join(QUICK)}.")
    parser.add_argument("--no-mnist", action="store_true", help="GEMMs only.")
    parser.add_argument("--no-gemm", action="store_true", help="MNIST steps only.")
    parser.add_argument("--max-error", type=float, default=None, metavar="PERCENT",
                        help="Exit with status 1 when any absolute error exceeds this.")
    parser.add_argument("--rtl-cache", type=Path, default=None, metavar="FILE",
                        help="Read RTL cycles from FILE where present; write new ones back.")
    args = parser.parse_args(argv)
    names = list(QUICK) if args.quick else [n.strip() for n in args.configs.split(",")]
    unknown = [n for n in names if n not in CONFIGS]
    if unknown:
        parser.error(f"unknown configuration {unknown[0]!r}; choose from {', '.join(CONFIGS)}")

    started = time.time()
    cache = json.loads(args.rtl_cache.read_text()) \
        if args.rtl_cache is not None and args.rtl_cache.is_file() else {}
    rows: list[tuple[str, str, int, int]] = []
    kinds: dict[str, list[float]] = {"GEMM": [], "MNIST step": []}
    for name in names:
        config = CONFIGS[name]
        print(f"{name}: running on the RTL ...", file=sys.stderr)
        if not args.no_gemm:
            missing = [case for case in GEMMS if f"{name} GEMM {case.label}" not in cache]
            if missing:
                for case, cycles in zip(missing, rtl_gemm_cycles(config, missing)):
                    cache[f"{name} GEMM {case.label}"] = cycles
            for case in GEMMS:
                cycles = cache[f"{name} GEMM {case.label}"]
                predicted = predict_matmul(config, case.m, case.k, case.n, bias=case.bias,
                                           requant=case.requant).cycles
                rows.append((name, f"GEMM {case.label}", cycles, predicted))
                kinds["GEMM"].append(percent_error(predicted, cycles))
        if not args.no_mnist:
            for row in _mnist_rows(name, config, cache):
                rows.append(row)
                kinds["MNIST step"].append(percent_error(row[3], row[2]))
        if args.rtl_cache is not None:
            args.rtl_cache.write_text(json.dumps(cache, indent=1) + "\n")

    print("| config | workload | RTL cycles | model cycles | error |")
    print("|---|---|---:|---:|---:|")
    for name, workload, cycles, predicted in rows:
        print(f"| {name} | {workload} | {cycles:,} | {predicted:,} | "
              f"{percent_error(predicted, cycles):+.1f} % |")
    print()
    for kind, errors in kinds.items():
        print(_summary(kind, errors))
    print(f"\n({time.time() - started:.0f} s)")
    every = kinds["GEMM"] + kinds["MNIST step"]
    if args.max_error is not None and every and max(abs(e) for e in every) > args.max_error:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
