"""``accelgen mnist``: train, inspect (and evaluate) the quantized MNIST networks.

Commands are added to the `mnist` group; a ``--model``/``MODEL`` argument (a file, or the name of
a committed default model) is opened by `accel.cli.options.open_model`.
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import click
import numpy as np

from accel.cli.options import (config_from_options, config_options, json_option, model_option,
                               onnx_options, open_any_model, open_model, seed_option, write_json)
from accel.cli.paths import OutputFile
from accel.cli.simulation import progress as run_progress
from accel.cli.simulation import simulation_options
from accel.cli.timeline import timeline_option, write_timeline

__all__ = ["mnist"]


@click.group()
def mnist() -> None:
    """MNIST: train, evaluate and inspect the int8 demo networks."""


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.2f}%"


@mnist.command()
@click.option("--arch", type=click.Choice(["cnn", "mlp"]), default="cnn", show_default=True,
              help="Network architecture.")
@click.option("--epochs", type=click.IntRange(1, 1000), default=None,
              help="Passes over the training set (default: the recipe's, 30).")
@seed_option("Seed of initialization, shuffling and augmentation.")
@click.option("--data-dir", type=click.Path(path_type=Path), default=None, metavar="DIR",
              help="Train on the official MNIST training set in DIR (idx files, plain or .gz) "
                   "and evaluate on its t10k files; default: the 5,000 offline samples, "
                   "1,000 held out.")
@click.option("--out", type=OutputFile(), required=True, metavar="FILE.npz",
              help="Where to write the int8 model.")
@json_option("the accuracies per epoch and of the saved model")
def train(arch: str, epochs: int | None, seed: int, data_dir: Path | None, out: Path,
          json_path: Path | None) -> None:
    """Train a float network in NumPy, quantize it to int8 and save it.

    Prints the training progress per epoch, then float and int8 accuracy side by side on the
    evaluation images. With the defaults, `accelgen mnist train --arch cnn --out cnn.npz`
    reproduces the committed default model (on the same machine and NumPy/BLAS build).
    """
    from accel.nn.mnist.data import DatasetError
    from accel.nn.model_file import save
    from accel.nn.mnist.recipe import load_dataset, make_model
    from accel.nn.train import TrainConfig

    if not out.parent.is_dir():
        raise click.UsageError(f"cannot write {str(out)!r}: directory {str(out.parent)!r} "
                               "does not exist")
    config = TrainConfig(arch=arch, seed=seed,
                         **({} if epochs is None else {"epochs": epochs}))
    try:
        dataset = load_dataset(data_dir)
    except DatasetError as exc:
        raise click.UsageError(str(exc)) from None
    click.echo(f"training {arch}: {len(dataset.train_labels)} images, {config.epochs} epochs, "
               f"seed {seed}; evaluating on {len(dataset.eval_labels)} {dataset.eval_name} "
               "images")

    epochs_done = []

    def progress(report) -> None:
        epochs_done.append({"epoch": report.epoch, "loss": float(report.loss),
                            "train_accuracy": float(report.train_accuracy),
                            "eval_accuracy": None if report.eval_accuracy is None
                            else float(report.eval_accuracy)})
        click.echo(f"epoch {report.epoch:>3}/{report.epochs}  loss {report.loss:.4f}  "
                   f"train {_percent(report.train_accuracy)}  "
                   f"{dataset.eval_name} {_percent(report.eval_accuracy)}  "
                   f"{report.seconds:6.1f} s")

    command = ["accelgen", "mnist", "train", "--arch", arch, "--epochs", str(config.epochs),
               "--seed", str(seed)]
    if data_dir is not None:
        command += ["--data-dir", "DIR"]
    result = make_model(config, dataset, progress=progress, command=shlex.join(command))
    try:
        save(result.network, out)
    except OSError as exc:
        raise click.UsageError(f"cannot write {str(out)!r}: {exc.strerror or exc}") from None
    network = result.network
    click.echo(f"{dataset.eval_name} accuracy on {len(dataset.eval_labels)} images: "
               f"float {_percent(result.float_accuracy)}, int8 {_percent(result.int8_accuracy)}")
    click.echo(f"saved {out}: {network.macs():,} MACs per inference, "
               f"{network.metadata['weight_bytes']:,} bytes of weights and biases")
    if json_path is not None:
        write_json(json_path, {
            "arch": arch, "epochs": config.epochs, "seed": seed, "model": str(out),
            "train_images": len(dataset.train_labels), "eval_set": dataset.eval_name,
            "eval_images": len(dataset.eval_labels),
            "float_accuracy": float(result.float_accuracy),
            "int8_accuracy": float(result.int8_accuracy), "macs": network.macs(),
            "weight_bytes": network.metadata["weight_bytes"], "history": epochs_done})


def _describe(layer, shape_out) -> tuple[str, str, int, int]:
    """``(kind, requantization, MACs, bytes of weights and biases)`` of one layer."""
    from accel.nn.network import Conv2D, MaxPool2D

    if isinstance(layer, MaxPool2D):
        return f"maxpool {layer.size}x{layer.size}", "", 0, 0
    if isinstance(layer, Conv2D):
        kh, kw, cin, cout = layer.weight.shape
        kind = f"conv {kh}x{kw} {cin}->{cout}"
        macs = shape_out[0] * shape_out[1] * cout * kh * kw * cin
    else:
        kind = f"dense {layer.weight.shape[0]}->{layer.weight.shape[1]}"
        macs = layer.weight.size
    if layer.requant is None:
        requant = "int32 logits"
    else:
        r = layer.requant
        requant = (f"x{r.multiplier}>>{r.shift}" + (" relu" if r.relu else "")
                   + (f" zp {r.zero_point}" if r.zero_point else ""))
    return kind, requant, macs, layer.weight.size + 4 * layer.bias.size


@mnist.command()
@click.argument("model_argument", metavar="[MODEL]", required=False)
@model_option(None, "A model file, or cnn / mlp for a committed default model (default: cnn).")
def info(model_argument: str | None, model: str | None) -> None:
    """Print a model's layers, shapes, MACs, weight bytes and recorded accuracies.

    The model is --model, or MODEL: a model file or the name of a committed default model
    (cnn, mlp); without either, the committed cnn.
    """
    if model_argument is not None and model is not None and model_argument != model:
        raise click.UsageError(f"two models given: {model_argument!r} and --model {model!r}")
    network = open_model(model or model_argument or "cnn")
    shapes = network.shapes()
    fmt = lambda shape: "x".join(map(str, shape))  # noqa: E731
    click.echo(f"{network.name}: input {fmt(network.input_shape)} int8 = pixel >> "
               f"{network.input_shift}, {len(network.layers)} layers, {network.classes} classes")
    click.echo(f"  {'#':>2}  {'layer':<20} {'output':<10} {'MACs':>9} {'bytes':>7}  requant")
    total_bytes = 0
    for index, layer in enumerate(network.layers):
        kind, requant, macs, size = _describe(layer, shapes[index + 1])
        total_bytes += size
        click.echo(f"  {index:>2}  {kind:<20} {fmt(shapes[index + 1]):<10} {macs:>9,} "
                   f"{size:>7,}  {requant}".rstrip())
    click.echo(f"  total MACs per inference {network.macs():,}; weights and biases "
               f"{total_bytes:,} bytes")
    meta = network.metadata
    if "float_accuracy" in meta or "int8_accuracy" in meta:
        click.echo(f"  accuracy on {meta.get('eval_images', '?')} {meta.get('eval_set', '')} "
                   f"images: float {_percent(meta.get('float_accuracy'))}, "
                   f"int8 {_percent(meta.get('int8_accuracy'))}")
    if "command" in meta:
        click.echo(f"  trained by: {meta['command']}")


def _eval_images(data_dir: Path | None, count: int, offset: int):
    """``(images, labels, description)``: the t10k files in ``data_dir``, or the held-out
    offline samples (the split the default models were not trained on)."""
    from accel.nn.mnist import data
    from accel.nn.mnist.data import DatasetError

    try:
        if data_dir is not None:
            images, labels = data.load_dir(data_dir, "test")
            name = "t10k"
        else:
            images, labels = data.load_offline(seed=0)
            _, _, images, labels = data.split_offline(images, labels, holdout=0.2, seed=0)
            name = "held-out offline"
    except DatasetError as exc:
        raise click.UsageError(str(exc)) from None
    if offset >= len(labels):
        raise click.UsageError(f"--offset {offset} is past the {len(labels)} {name} images")
    end = len(labels) if count == 0 else min(len(labels), offset + count)
    return images[offset:end], np.asarray(labels[offset:end], dtype=np.int64), name


@mnist.command(name="eval")
@model_option("cnn", "cnn / mlp (the committed models), an accelgen model file, or an ONNX "
                     "model (float, QDQ or QOperator; compiled on the fly).")
@onnx_options
@click.option("--backend", type=click.Choice(["golden", "rtl", "soc"]), default="golden",
              show_default=True, help="Golden model, accelerator RTL, or the whole SoC with "
                                      "firmware on PicoRV32.")
@click.option("--images", "count", type=click.IntRange(0), default=100, show_default=True,
              help="Images to evaluate (0: all).")
@click.option("--offset", type=click.IntRange(0), default=0, show_default=True,
              help="First image.")
@click.option("--data-dir", type=click.Path(path_type=Path), default=None, metavar="DIR",
              help="Evaluate on the official t10k idx files in DIR (plain or .gz); default: the "
                   "1,000 held-out offline samples.")
@click.option("--simulator", type=click.Choice(["verilator", "icarus"]), default="verilator",
              show_default=True, help="Simulator of the rtl and soc backends.")
@json_option("the figures (and predictions)")
@timeline_option("rtl: the first image; soc: the first simulator run")
@config_options
@simulation_options("mnist-eval")
def eval_(model: str, backend: str, count: int, offset: int, data_dir: Path | None,
          simulator: str, json_path: Path | None, timeline_path: Path | None, waves,
          calibration: Path | None,
          mean: float | None, std: float | None, **config_args) -> None:
    """Classify MNIST digits on a backend: accuracy, identical-logits agreement with the
    golden model, cycles per inference against its bound, simulated images per second.

    The rtl and soc backends report progress after each simulator run (a batch of images) on
    stderr. Exits 1 when any image's logits differ from the golden model's.
    """
    from accel.runtime.evaluate import evaluate

    if waves is not None and backend == "golden":
        raise click.UsageError("--waves needs --backend rtl or soc")
    if timeline_path is not None and backend == "golden":
        raise click.UsageError("--timeline needs --backend rtl or soc (accelgen predict "
                               "--timeline draws the cycle model's)")

    network = open_any_model(model, calibration, mean, std)
    config = config_from_options(config_args)
    images, labels, name = _eval_images(data_dir, count, offset)
    click.echo(f"evaluating {network.name} on {len(labels)} {name} images, backend {backend}",
               err=True)
    try:
        if backend == "golden":
            with click.progressbar(length=len(labels), label="images", file=sys.stderr) as bar:
                report = evaluate(network, config, images, labels, backend=backend,
                                  simulator=simulator, progress=bar.update)
        else:
            report = evaluate(network, config, images, labels, backend=backend,
                              simulator=simulator, progress=run_progress("images", len(labels)),
                              waves=waves, timeline=timeline_path is not None)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    except RuntimeError as exc:  # a simulator missing or failing, a hardware mismatch
        raise click.ClickException(str(exc).splitlines()[0]) from None
    for line in report.lines():
        click.echo(line)
    if timeline_path is not None:
        write_timeline(timeline_path, report.timeline, config)
    if json_path is not None:
        write_json(json_path, report.to_dict())
    if report.agree != report.images:
        raise SystemExit(1)
