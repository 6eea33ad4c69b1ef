"""MNIST on accelgen, end to end, in a page.

    python examples/mnist/walkthrough.py [--backend golden|rtl|soc] [--images N] [--out DIR]

1. load the committed int8 CNN (``accelgen mnist train --arch cnn`` reproduces it);
2. compile it for a 16x16 weight-stationary accelerator and look at the program;
3. classify held-out digits on the golden model (and, with --backend, on the RTL or the SoC),
   checking every logit against the plain NumPy integer reference;
4. save a confusion matrix and the misclassified digits as PNG files.
"""

import argparse
from pathlib import Path

import numpy as np

from accel.config import AccelConfig
from accel.nn.mnist import data
from accel.nn.compiler import AccelStep, compile_network
from accel.runtime.evaluate import confusion_matrix, evaluate
from accel.nn.model_file import load_default


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["golden", "rtl", "soc"], default="golden")
    parser.add_argument("--images", type=int, default=200)
    parser.add_argument("--rows", type=int, default=16)
    parser.add_argument("--cols", type=int, default=16)
    parser.add_argument("--out", type=Path, default=Path("build/mnist"))
    args = parser.parse_args()

    # 1. The model: int8 weights, int32 biases, one multiplier/shift per layer.
    network = load_default("cnn")
    print(f"model {network.name}: {network.macs():,} MACs per inference; shapes "
          + " -> ".join("x".join(map(str, s)) for s in network.shapes()))

    # 2. Compile: convolutions become GEMMs whose im2col the DMA does with overlapping strided
    #    reads; pooling runs on the host (the control core on the SoC).
    config = AccelConfig(rows=args.rows, cols=args.cols, soc_sram_kib=256)
    compiled = compile_network(network, config)
    for step in compiled.steps:
        if isinstance(step, AccelStep):
            print(f"  accelerator program for layers {step.layers}: {len(step.commands)} "
                  "instructions")
        else:
            print(f"  host step for layer {step.layer}: {step.op}")

    # 3. Evaluate on digits the model never saw in training.
    images, labels = data.load_offline(seed=0)
    _, _, images, labels = data.split_offline(images, labels, holdout=0.2, seed=0)
    images, labels = images[:args.images], labels[:args.images]
    report = evaluate(network, config, images, labels, backend=args.backend)
    print("\n".join(report.lines()))
    assert report.agree == report.images, "some logits differ from the golden model"

    # 4. Pictures.
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    args.out.mkdir(parents=True, exist_ok=True)
    matrix = confusion_matrix(labels, report.predictions)
    fig, ax = plt.subplots(figsize=(5, 5))
    ax.imshow(matrix, cmap="Blues")
    for (true, pred), count in np.ndenumerate(matrix):
        if count:
            ax.text(pred, true, str(count), ha="center", va="center", fontsize=8)
    ax.set(xlabel="predicted", ylabel="true", xticks=range(10), yticks=range(10),
           title=f"{network.name} int8, {report.accuracy * 100:.1f}% of {report.images}")
    fig.savefig(args.out / "confusion.png", dpi=120, bbox_inches="tight")

    wrong = np.flatnonzero(report.predictions != labels)[:8]
    fig, axes = plt.subplots(1, max(len(wrong), 1), figsize=(1.6 * max(len(wrong), 1), 2))
    for ax, index in zip(np.atleast_1d(axes), wrong):
        ax.imshow(images[index], cmap="gray_r")
        ax.set_title(f"{labels[index]} -> {report.predictions[index]}", fontsize=9)
    for ax in np.atleast_1d(axes):
        ax.axis("off")
    fig.savefig(args.out / "misclassified.png", dpi=120, bbox_inches="tight")
    print(f"wrote {args.out / 'confusion.png'} and {args.out / 'misclassified.png'}")


if __name__ == "__main__":
    main()
