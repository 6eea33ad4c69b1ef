"""Cycles per MNIST inference on the SoC (firmware on PicoRV32 driving the accelerator over PCPI).

For each configuration (``--size`` N: an N x N weight-stationary array, or ``--board NAME``: that
board's default configuration) and network, runs a few images through
`accel.runtime.network_soc.run_soc` (logits checked against the golden model) and prints a
Markdown table: the firmware's cycles per inference, the physical bound
(`accel.perf.bound.graph_bound`: max(MACs / PEs, minimal bytes / bus bytes per cycle), every
tensor moved once), their ratio, the program's own traffic bound, the accelerator commands the
network's programs hold and those the core issues per inference (one EXEC_BUFFER and one FENCE
per accelerator step, one status read), and where the core spent the cycles (input quantization,
host operations such as pooling, EXEC_BUFFERs, waiting in the fences).

Networks run as the SoC path runs them: the graph compilation (`accel.nn.to_graph`).

Networks are trained models when given (``--model FILE``, `accel.nn.model_file`), else random
int8 networks of the demo's shapes: CNN conv3x3 1->8, pool, conv3x3 8->16, pool, dense 400->10;
MLP 784-128-10. Timing does not depend on the weights or the pixels.

Usage::

    python bench/soc_mnist.py                       # 8x8 and 16x16, 256 KiB SRAM, 2 images
    python bench/soc_mnist.py --size 8 --model accel/nn/mnist/models/cnn.npz
    python bench/soc_mnist.py --board ulx3s-85f --model accel/nn/mnist/models/cnn.npz
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from accel.config import AccelConfig  # noqa: E402
from accel.nn.to_graph import network_to_graph  # noqa: E402
from boards import get_board  # noqa: E402
from accel.nn.network import Conv2D, Dense, MaxPool2D, QuantizedNetwork  # noqa: E402
from accel.runtime.network_soc import run_soc, soc_firmware  # noqa: E402
from accel.runtime.soc_image import plan_layout  # noqa: E402
from accel.runtime.target import bound_cycles  # noqa: E402
from accel.perf.bound import graph_bound  # noqa: E402
from accel.compiler.tiler import Requant  # noqa: E402


def random_networks(seed: int = 0) -> list[QuantizedNetwork]:
    rng = np.random.default_rng(seed)

    def w(*shape):
        return rng.integers(-128, 128, shape)

    def b(n):
        return rng.integers(-3000, 3000, n)

    cnn = QuantizedNetwork("cnn", [
        Conv2D(w(3, 3, 1, 8), b(8), Requant(1 << 30, 40, relu=True)), MaxPool2D(2),
        Conv2D(w(3, 3, 8, 16), b(16), Requant(1 << 30, 41, relu=True)), MaxPool2D(2),
        Dense(w(400, 10), b(10), None)])
    mlp = QuantizedNetwork("mlp", [
        Dense(w(784, 128), b(128), Requant(1 << 30, 43, relu=True)),
        Dense(w(128, 10), b(10), None)])
    return [cnn, mlp]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, action="append",
                        help="array rows = cols (repeatable; default 8 and 16)")
    parser.add_argument("--board", action="append", default=[],
                        help="a board's default configuration (repeatable, e.g. ulx3s-85f)")
    parser.add_argument("--sram-kib", type=int, default=256,
                        help="SoC SRAM of the --size configurations")
    parser.add_argument("--images", type=int, default=2)
    parser.add_argument("--model", action="append", type=Path, help="trained model file(s)")
    parser.add_argument("--simulator", choices=["verilator", "icarus"], default="verilator")
    args = parser.parse_args()

    if args.model:
        from accel.nn.model_file import load
        networks = [load(path) for path in args.model]
        origin = "trained"
    else:
        networks = random_networks()
        origin = "random weights"
    networks = [network_to_graph(network) for network in networks]
    images = np.random.default_rng(1).integers(0, 256, (args.images, 28, 28)).astype(np.uint8)
    rows = []
    configs = [(f"{board}", get_board(board).default_config) for board in args.board]
    configs += [(f"{size}x{size}", AccelConfig(rows=size, cols=size, soc_sram_kib=args.sram_kib,
                                               name=f"soc-mnist-{size}x{size}"))
                for size in args.size or ([] if args.board else [8, 16])]
    for label, config in configs:
        for network in networks:
            start = time.perf_counter()
            results = run_soc(network, config, images, simulator=args.simulator)
            wall = time.perf_counter() - start
            target = plan_layout(network, config, soc_firmware(config).free_start).target
            r = results[0]
            bound = graph_bound(config, network).cycles
            program_bound = bound_cycles(target, r)
            spread = max(x.cycles for x in results) - min(x.cycles for x in results)
            core = 2 * sum(hasattr(step, "commands") for step in target.steps) + 1
            rows.append((label, network.name, target.commands, core, r.cycles, spread,
                         bound, r.cycles / bound, r.phases, wall, program_bound))
            print(f"{label} {network.name}: {r.cycles} cycles ({wall:.0f} s)",
                  file=sys.stderr, flush=True)
    print(f"\nMNIST on the SoC ({origin}; {args.images} images each, logits equal to the golden "
          f"model's)\n")
    print("| config | array | bus | SRAM KiB | net | commands | by the core | cycles/inference "
          "| bound | ratio | program-traffic bound | quant | host ops | exec_buffer | wait "
          "| other |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for (label, name, commands, core, cycles, spread, bound, ratio, phases, _, program_bound), \
            (_, config) in zip(rows, [c for c in configs for _ in networks]):
        other = cycles - sum(phases.values())
        cyc = f"{cycles}" + (f" (±{spread})" if spread else "")
        print(f"| {label} | {config.rows}x{config.cols} {config.dataflow.value} | "
              f"{config.bus_width} | {config.soc_sram_kib} | {name} | {commands} | {core} | "
              f"{cyc} | {bound} | {ratio:.1f}x | {program_bound} | {phases['quant']} | "
              f"{phases['pool']} | {phases['issue']} | {phases['wait']} | {other} |")
    print(f"\nwall: {', '.join(f'{r[0]} {r[1]} {r[9]:.0f} s' for r in rows)}")


if __name__ == "__main__":
    main()
