"""Cycles per MNIST inference on the SoC (firmware on PicoRV32 driving the accelerator over PCPI).

For each configuration (``--size`` N: an N x N weight-stationary array) and network, runs a few
images through `accel.runtime.network_soc.run_soc` (logits checked against the golden model) and
prints a Markdown table: the firmware's cycles per inference, the physical bound
(`accel.perf.bound.network_bound`: max(MACs / PEs, minimal bytes / bus bytes per cycle), every
tensor moved once), their ratio, the program's own traffic bound, and where the core spent the
cycles (input quantization, max pooling, issuing commands, waiting in the fences).

Networks are trained models when given (``--model FILE``, `accel.nn.model_file`), else random
int8 networks of the demo's shapes: CNN conv3x3 1->8, pool, conv3x3 8->16, pool, dense 400->10;
MLP 784-128-10. Timing does not depend on the weights or the pixels.

Usage::

    python bench/soc_mnist.py                       # 8x8 and 16x16, 256 KiB SRAM, 2 images
    python bench/soc_mnist.py --size 8 --model accel/nn/mnist/models/cnn.npz
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from accel.config import AccelConfig  # noqa: E402
from accel.nn.inference import bound_cycles  # noqa: E402
from accel.nn.network import Conv2D, Dense, MaxPool2D, QuantizedNetwork  # noqa: E402
from accel.perf.bound import network_bound  # noqa: E402
from accel.runtime.network_soc import run_soc, soc_firmware  # noqa: E402
from accel.runtime.soc_image import plan_layout  # noqa: E402
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
    parser.add_argument("--sram-kib", type=int, default=256)
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
    images = np.random.default_rng(1).integers(0, 256, (args.images, 28, 28)).astype(np.uint8)
    rows = []
    for size in args.size or [8, 16]:
        config = AccelConfig(rows=size, cols=size, soc_sram_kib=args.sram_kib,
                             name=f"soc-mnist-{size}x{size}")
        for network in networks:
            start = time.perf_counter()
            results = run_soc(network, config, images, simulator=args.simulator)
            wall = time.perf_counter() - start
            compiled = plan_layout(network, config, soc_firmware(config).free_start).compiled
            r = results[0]
            bound = network_bound(config, network).cycles
            program_bound = bound_cycles(compiled, r)
            spread = max(x.cycles for x in results) - min(x.cycles for x in results)
            rows.append((f"{size}x{size}", network.name, compiled.commands, r.cycles, spread,
                         bound, r.cycles / bound, r.phases, wall, program_bound))
            print(f"{size}x{size} {network.name}: {r.cycles} cycles ({wall:.0f} s)",
                  file=sys.stderr, flush=True)
    print(f"\nMNIST on the SoC ({origin}; ws arrays, 32-bit bus, SRAM {args.sram_kib} KiB, "
          f"{args.images} images each, logits equal to the golden model's)\n")
    print("| array | net | commands | cycles/inference | bound | ratio | program-traffic bound "
          "| quant | pool | issue | wait | other |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for size, name, commands, cycles, spread, bound, ratio, phases, _, program_bound in rows:
        other = cycles - sum(phases.values())
        cyc = f"{cycles}" + (f" (±{spread})" if spread else "")
        print(f"| {size} | {name} | {commands} | {cyc} | {bound} | {ratio:.1f}x | "
              f"{program_bound} | {phases['quant']} | {phases['pool']} | {phases['issue']} | "
              f"{phases['wait']} | {other} |")
    print(f"\nwall: {', '.join(f'{r[0]} {r[1]} {r[8]:.0f} s' for r in rows)}")


if __name__ == "__main__":
    main()
