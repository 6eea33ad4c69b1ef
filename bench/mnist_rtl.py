"""Cycles per MNIST inference on the accelerator's RTL against the bound (and the cycle model).

Each row is ``accelgen mnist eval --model NET --backend rtl --rows N --cols N --images I``: the
committed default network, the first I held-out offline images, the same `accel.runtime.evaluate`
call, so cycles per inference (the mean over the images, rounded as the CLI prints it) and
accuracy are the CLI's. The bound is the physical one (`accel.perf.bound.network_bound`: max(MACs
/ PEs, minimal bytes / bus bytes per cycle), every tensor moved once); the CLI's bound of the
program's own traffic is the column after it. Host steps
(max pooling) take no simulated time here; the SoC, where the firmware does them, is
bench/soc_mnist.py. When `accel.perf.predict_network` exists its prediction is an extra column.

Usage::

    python bench/mnist_rtl.py --size 8 --size 16 --images 2
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.configs import cli_config  # noqa: E402
from bench.markdown import table, versus  # noqa: E402

__all__ = ["eval_images", "mnist_table"]


def eval_images(count: int):
    """The first ``count`` held-out offline images and labels (``accelgen mnist eval``'s
    default evaluation set)."""
    from accel.nn.mnist import data

    images, labels = data.load_offline(seed=0)
    _, _, images, labels = data.split_offline(images, labels, holdout=0.2, seed=0)
    return images[:count], labels[:count]


def mnist_table(sizes: list[int], networks: tuple[str, ...] = ("cnn", "mlp"), *,
                images: int = 1, log=None) -> str:
    """One Markdown row per (array size, default network), as described in the module
    docstring.

    Raises
    ------
    RuntimeError
        When the RTL's logits differ from the golden model's.
    """
    from accel.nn.compiler import compile_network
    from accel.runtime.evaluate import evaluate
    from accel.nn.model_file import load_default
    from accel.perf import predict_network

    pixels, labels = eval_images(images)
    from accel.perf.bound import network_bound

    head = ["array", "net", "MACs", "bytes moved", "minimal bytes", "cycles/inference", "bound",
            "bound / cycles", "program-traffic bound", "model cycles (vs RTL)", "accuracy",
            "wall s"]
    rows = []
    for size in sizes:
        config = cli_config(size)
        for name in networks:
            network = load_default(name)
            start = time.perf_counter()
            report = evaluate(network, config, pixels, labels, backend="rtl")
            wall = time.perf_counter() - start
            if report.agree != report.images:
                raise RuntimeError(f"{name} on {size}x{size}: RTL logits differ from the golden "
                                   f"model's on {report.images - report.agree} images")
            cycles = f"{report.mean_cycles:.0f}"  # as the CLI prints it
            model = versus(predict_network(config, compile_network(network, config)).cycles,
                           report.mean_cycles)
            bound = network_bound(config, network)
            rows.append([f"{size}x{size}", name, f"{report.macs:,}", f"{report.bytes_moved:,}",
                         f"{bound.min_bytes:,}", cycles, f"{bound.cycles}",
                         f"{bound.fraction(report.mean_cycles):.1%}", f"{report.bound}", model,
                         f"{report.accuracy:.0%} of {report.images}", f"{wall:.0f}"])
            if log is not None:
                log(f"mnist {size}x{size} {name}: {cycles} cycles ({wall:.0f} s)")
    return table(head, rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, action="append",
                        help="array rows = cols (repeatable; default 8 and 16)")
    parser.add_argument("--images", type=int, default=2)
    args = parser.parse_args()
    print(mnist_table(args.size or [8, 16], images=args.images,
                      log=lambda line: print(line, file=sys.stderr, flush=True)))


if __name__ == "__main__":
    main()
