"""Verilog emission cost of a top level (the accelerator, or the array alone) versus its size.

Usage: ``python bench/emit.py [--top accelerator|array] [--sizes 4,16,32,64] [--dataflow ws]
[--tracemalloc]``

Each size runs in a fresh Python process, so its figures are its own: wall time of
``accel.generate_verilog`` (split into Amaranth elaboration + RTLIL, done in Python, and Yosys
writing Verilog, done in WebAssembly in the same process), and peak resident memory (``ru_maxrss``
of that process; "over base" subtracts the high-water mark reached by the imports alone). With
``--tracemalloc`` a second process per size reports the peak of Python-heap allocations
(Yosys' WebAssembly memory is not a Python allocation and is not included; tracemalloc slows
Python down, so its run is not timed). A 1x1 warm-up process runs first so that one-off
WebAssembly compilation is not charged to the first size. `measure_sizes` and `markdown_table`
are what ``python -m bench`` (bench/report.py) prints.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def _child(rows: int, cols: int, dataflow: str, top: str, trace: bool,
           kib: int | None = None) -> dict:
    """Emit one top level in this process and return its measurements."""
    if trace:
        import tracemalloc
        tracemalloc.start()
    from amaranth.back import verilog as amaranth_verilog

    from accel import AccelConfig, generate_verilog

    base_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    yosys_seconds = 0.0
    convert_rtlil_text = amaranth_verilog._convert_rtlil_text

    def timed_yosys(*args, **kwargs):
        nonlocal yosys_seconds
        start = time.perf_counter()
        try:
            return convert_rtlil_text(*args, **kwargs)
        finally:
            yosys_seconds += time.perf_counter() - start

    amaranth_verilog._convert_rtlil_text = timed_yosys
    config = AccelConfig(rows=rows, cols=cols, dataflow=dataflow)
    if kib is not None:
        config = config.replace(sp_kib=kib, acc_kib=kib)
    start = time.perf_counter()
    text = generate_verilog(config, top)
    seconds = time.perf_counter() - start
    result = {"seconds": seconds, "yosys_seconds": yosys_seconds, "bytes": len(text.encode()),
              "maxrss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
              "base_kib": base_kib}
    if trace:
        result["py_peak_bytes"] = tracemalloc.get_traced_memory()[1]
    return result


def _measure(rows: int, cols: int, dataflow: str, top: str, trace: bool = False,
             kib: int | None = None) -> dict:
    args = [sys.executable, str(Path(__file__).resolve()), "--child", f"{rows}x{cols}",
            "--dataflow", dataflow, "--top", top]
    if kib is not None:
        args += ["--kib", str(kib)]
    if trace:
        args.append("--tracemalloc")
    done = subprocess.run(args, cwd=REPO, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"emitting {rows}x{cols} failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure_sizes(sizes: list[int], *, dataflow: str = "ws", top: str = "accelerator",
                  trace: bool = False, kib: int | None = None, log=None) -> dict[int, dict]:
    """Emit an ``n x n`` ``top`` for each ``n`` in ``sizes``, each in a fresh process (after a
    1x1 warm-up), and return per size: ``seconds``, ``yosys_seconds``, ``bytes`` of Verilog,
    ``maxrss_kib`` and ``base_kib`` (peak RSS, and the peak after the imports alone), plus
    ``py_peak_bytes`` with ``trace`` (a second, untimed process under tracemalloc). ``kib``
    sets the scratchpad and accumulator sizes (default: the configuration's).

    Raises
    ------
    RuntimeError
        When a child process fails (the message ends with its stderr).
    """
    _measure(1, 1, dataflow, top, kib=kib)  # warm-up: WebAssembly compilation caches
    results = {}
    for n in sizes:
        results[n] = _measure(n, n, dataflow, top, kib=kib)
        if trace:
            results[n]["py_peak_bytes"] = _measure(n, n, dataflow, top, True, kib)["py_peak_bytes"]
        if log is not None:
            log(f"emit {n}x{n}: {results[n]['seconds']:.2f} s")
    return results


def markdown_table(results: dict[int, dict]) -> str:
    """`measure_sizes` results as a Markdown table (memory over the import baseline)."""
    trace = all("py_peak_bytes" in r for r in results.values())
    lines = ["| array | PEs | Verilog bytes | total s | elaboration s | Yosys s | peak RSS MiB "
             "| RSS over imports MiB | ms/PE" + (" | Python heap peak MiB |" if trace else " |"),
             "|---" * (9 + trace) + "|"]
    for n, r in results.items():
        extra = (r["maxrss_kib"] - r["base_kib"]) / 1024
        line = (f"| {n}x{n} | {n * n} | {r['bytes']:,} | {r['seconds']:.2f} | "
                f"{r['seconds'] - r['yosys_seconds']:.2f} | {r['yosys_seconds']:.2f} | "
                f"{r['maxrss_kib'] / 1024:.1f} | {extra:.1f} | {1000 * r['seconds'] / n / n:.1f} |")
        if trace:
            line += f" {r['py_peak_bytes'] / 2**20:.1f} |"
        lines.append(line)
    return "\n".join(lines)


def _table(results: dict[int, dict], trace: bool) -> str:
    ref = results.get(16) or next(iter(results.values()))
    head = (f"{'size':>7} {'PEs':>5} {'Verilog':>10} {'total s':>8} {'elab s':>7} {'yosys s':>8}"
            f" {'RSS MiB':>8} {'+base':>7} {'t/t16':>6} {'m/m16':>6} {'ms/PE':>6} {'KiB/PE':>7}"
            + (f" {'py-heap MiB':>11}" if trace else ""))
    lines = [head, "-" * len(head)]
    for n, r in results.items():
        pes = n * n
        extra = r["maxrss_kib"] - r["base_kib"]
        ref_extra = ref["maxrss_kib"] - ref["base_kib"]
        line = (f"{f'{n}x{n}':>7} {pes:>5} {r['bytes']:>10,} {r['seconds']:>8.2f}"
                f" {r['seconds'] - r['yosys_seconds']:>7.2f} {r['yosys_seconds']:>8.2f}"
                f" {r['maxrss_kib'] / 1024:>8.1f} {extra / 1024:>7.1f}"
                f" {r['seconds'] / ref['seconds']:>6.2f} {extra / max(ref_extra, 1):>6.2f}"
                f" {1000 * r['seconds'] / pes:>6.1f} {extra / pes:>7.1f}")
        if trace:
            line += f" {r['py_peak_bytes'] / 2**20:>11.1f}"
        lines.append(line)
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="4,16,32,64", help="square array sizes (default: "
                        "%(default)s)")
    parser.add_argument("--dataflow", default="ws", choices=("ws", "os"))
    parser.add_argument("--top", default="accelerator", choices=("accelerator", "array"))
    parser.add_argument("--tracemalloc", action="store_true",
                        help="also measure the Python-heap peak (extra, untimed process per size)")
    parser.add_argument("--kib", type=int, help="scratchpad and accumulator KiB (default: the "
                        "configuration's default)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        rows, cols = map(int, args.child.split("x"))
        print(json.dumps(_child(rows, cols, args.dataflow, args.top, args.tracemalloc,
                                args.kib)))
        return
    sizes = [int(s) for s in args.sizes.split(",")]
    try:
        results = measure_sizes(sizes, dataflow=args.dataflow, top=args.top,
                                trace=args.tracemalloc, kib=args.kib,
                                log=lambda line: print(f"  {line}", file=sys.stderr, flush=True))
    except RuntimeError as exc:
        sys.exit(f"bench/emit.py: {exc}")
    print(f"Verilog emission of the {args.dataflow} {args.top} "
          f"(one fresh process per size; ratios vs 16x16; per-PE = total / PEs; "
          f"memory ratios and per-PE use RSS over the import baseline)")
    print(_table(results, args.tracemalloc))


if __name__ == "__main__":
    main()
