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
sys.path.insert(0, str(REPO))

from bench.markdown import table  # noqa: E402


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
    """`measure_sizes` results as a Markdown table: times, memory over the import baseline,
    ratios to the 16x16 row (else the first) and per-PE costs."""
    trace = all("py_peak_bytes" in r for r in results.values())
    base = 16 if 16 in results else next(iter(results))
    ref = results[base]
    ref_extra = max(ref["maxrss_kib"] - ref["base_kib"], 1)
    head = ["array", "PEs", "Verilog bytes", "total s", "elaboration s", "Yosys s",
            "peak RSS MiB", "RSS over imports MiB", f"time vs {base}x{base}",
            f"memory vs {base}x{base}", "ms/PE",
            "KiB/PE"] + (["Python heap peak MiB"] if trace else [])
    rows = []
    for n, r in results.items():
        extra = r["maxrss_kib"] - r["base_kib"]
        cells = [f"{n}x{n}", f"{n * n}", f"{r['bytes']:,}", f"{r['seconds']:.2f}",
                 f"{r['seconds'] - r['yosys_seconds']:.2f}", f"{r['yosys_seconds']:.2f}",
                 f"{r['maxrss_kib'] / 1024:.1f}", f"{extra / 1024:.1f}",
                 f"{r['seconds'] / ref['seconds']:.2f}", f"{extra / ref_extra:.2f}",
                 f"{1000 * r['seconds'] / n / n:.1f}", f"{extra / n / n:.1f}"]
        if trace:
            cells.append(f"{r['py_peak_bytes'] / 2**20:.1f}")
        rows.append(cells)
    return table(head, rows)


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
          f"(one fresh process per size; per-PE = total / PEs; memory ratios and per-PE use "
          f"RSS over the import baseline)\n")
    print(markdown_table(results))


if __name__ == "__main__":
    main()
