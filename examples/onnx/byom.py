"""Bring your own model: a float CNN, exported to ONNX, quantized by onnxruntime, run here.

    python examples/onnx/byom.py [--retrain] [--images N] [--calibration N] [--out DIR]
                                 [--backend golden|rtl|soc] [--rows R] [--cols C]

1. the float ``cnn5`` (5x5 SAME convs, 3x3/3 max-pools, dense 144 -> 10): the committed one,
   or trained again with ``--retrain`` (about a minute);
2. exported to ONNX (`accel.nn.onnx_export.export_float`), as PyTorch would write it, and
   checked against onnxruntime;
3. quantized by ``onnxruntime.quantization.quantize_static`` — int8, per-channel weights, MinMax
   calibration on training digits — in both formats, QDQ (QuantizeLinear/DequantizeLinear
   around float ops) and QOperator (QLinearConv, QLinearMatMul...);
4. the float model (quantized by accelgen's own quantizer, calibrated on training digits) and
   each int8 model imported (`accel.frontend.onnx.load_onnx`), compiled for the accelerator
   (`accel.compiler.lower.compile_graph`) and run on the golden model (with ``--backend rtl``
   on the Verilated RTL, with ``--backend soc`` on the SoC's firmware), printing accuracy,
   agreement with the exact reference and onnxruntime, cycles and the physical bound.

The models land in ``--out`` (default ``build/onnx``): ``cnn5.onnx``, ``cnn5-qdq.onnx``,
``cnn5-qop.onnx``. Inputs are what torchvision's ``ToTensor`` gives: ``pixel / 255``, NCHW.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path

import numpy as np

from accel.nn.float_file import load_default_float
from accel.nn.mnist.recipe import FLOAT_RECIPES, load_dataset, make_float_model
from accel.nn.onnx_export import export_float, to_nchw
from accel.nn.train import float_input

#: ``(name, onnxruntime QuantFormat name)`` of the two int8 models.
FORMATS = (("qdq", "QDQ"), ("qop", "QOperator"))


def onnx_logits(path: Path, inputs: np.ndarray, batch: int = 250) -> np.ndarray:
    """onnxruntime's outputs for float NHWC ``inputs`` (single-threaded, CPU, graph
    optimizations off).

    With its optimizations on, onnxruntime fuses a QDQ model's DequantizeLinear -> Conv ->
    QuantizeLinear into int8 kernels that, on x86 CPUs without VNNI, add pairs of u8 x s8
    products in saturating 16 bits (its warning "Please use QuantFormat.QDQ for activation type
    QInt8..."): the cnn5 QDQ logits then differ by up to 22 steps from the model's meaning.
    Unoptimized, it computes what the operators define, as the QOperator kernels do.
    """
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    return np.concatenate([session.run(None, {name: to_nchw(inputs[i:i + batch])})[0]
                           for i in range(0, len(inputs), batch)])


def quantize_onnx(float_path: Path, out: Path, calibration: np.ndarray, quant_format: str,
                  per_channel: bool = True) -> Path:
    """``quantize_static`` of ``float_path`` into ``out``: int8 activations and weights,
    per-channel weights by default, MinMax calibration over the float NHWC ``calibration``
    inputs, in ``quant_format`` ("QDQ" or "QOperator")."""
    from onnxruntime.quantization import (CalibrationDataReader, CalibrationMethod, QuantFormat,
                                          QuantType, quantize_static)
    from onnxruntime.quantization.shape_inference import quant_pre_process

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self.batches = iter([{"input": to_nchw(calibration[i:i + 1])}
                                 for i in range(len(calibration))])

        def get_next(self):
            return next(self.batches, None)

    prepared = out.with_name(out.stem + "-prep.onnx")
    quant_pre_process(str(float_path), str(prepared), skip_symbolic_shape=True)
    quantize_static(str(prepared), str(out), Reader(),
                    quant_format=getattr(QuantFormat, quant_format),
                    per_channel=per_channel, activation_type=QuantType.QInt8,
                    weight_type=QuantType.QInt8, calibrate_method=CalibrationMethod.MinMax)
    prepared.unlink()
    return out


def physical_bound(graph, config) -> int:
    """max(MACs / PEs, minimal bytes / bus bytes per cycle): minimal bytes move the input,
    every weight and bias, and the output once, and write and read every intermediate once."""
    from accel.compiler.graph import Conv2D, Dense

    weights = sum(node.weight.size + 4 * node.bias.size for node in graph.nodes
                  if isinstance(node, (Conv2D, Dense)))
    out = graph.output_tensor
    between = sum(2 * graph.tensors[node.output].size for node in graph.nodes
                  if node.output != graph.output)
    moved = (graph.input_tensor.size + weights + between
             + out.size * (4 if out.dtype == "int32" else 1))
    return max(-(-graph.macs() // (config.rows * config.cols)),
               -(-moved // (config.bus_width // 8)))


def accelerator_half(path: Path, images: np.ndarray, labels: np.ndarray,
                     reference: np.ndarray, args, calibration=None) -> None:
    """Import one ONNX model (a float one quantized by accelgen on ``calibration`` pixels),
    compile it, run it on the golden model (or the RTL) and print accuracy, agreement with
    onnxruntime's ``reference`` outputs (of the same int8 model; for a float model only the
    class), cycles and bound."""
    if importlib.util.find_spec("accel.frontend.onnx") is None:
        print("    (accel.frontend.onnx is not available: skipping the accelerator)")
        return
    from accel.compiler.pixels import normalization
    from accel.compiler.reference import run_reference
    from accel.config import AccelConfig
    from accel.frontend.onnx import load_onnx
    from accel.perf.program import predict_program
    from accel.runtime.target import as_target, run_golden

    graph = load_onnx(path, calibration=calibration)
    config = AccelConfig(rows=args.rows, cols=args.cols, soc_sram_kib=256)
    target = as_target(graph, config)
    print(f"    imported: {len(graph.nodes)} nodes "
          f"({', '.join(type(n).__name__ for n in graph.nodes)}), pixels "
          f"{normalization(graph)}; compiled for {config.rows}x{config.cols}: "
          f"{target.commands} commands, {target.mem_size:,} bytes of memory")
    if args.backend == "rtl":
        from accel.runtime.network_rtl import run_rtl
        results = run_rtl(target.compiled, list(images))
        cycles, source = [r.cycles for r in results], "RTL"
    elif args.backend == "soc":
        from accel.runtime.network_soc import run_soc
        results = run_soc(graph, config, list(images))  # checked against the golden model
        cycles, source = [r.cycles for r in results], "SoC, host steps included"
    else:
        results = run_golden(target, images)
        predicted = sum(predict_program(config, step.commands).cycles
                        for step in target.steps if hasattr(step, "commands"))
        cycles, source = [predicted] * len(results), "cycle model"
    outputs = np.stack([r.logits.reshape(target.output_shape) for r in results])
    exact = [run_reference(graph, q) for q in _graph_inputs(graph, images)]
    same_reference = all(np.array_equal(o, e.reshape(o.shape)) for o, e in zip(outputs, exact))
    flat = outputs.reshape(len(outputs), -1)
    acc = float(np.mean(flat.argmax(axis=1) == labels))
    same_class = np.mean(flat.argmax(axis=1) == reference.argmax(axis=1))
    if calibration is None:
        out = graph.output_tensor
        ort_q = np.rint(reference / out.scale) + out.zero_point
        agree = (f"equal onnxruntime's on "
                 f"{np.mean((flat == ort_q.reshape(flat.shape)).all(axis=1)):.1%} of images, ")
    else:
        agree = "float "
    bound = physical_bound(graph, config)
    print(f"    {args.backend}: int8 {100 * acc:.2f}% on {len(labels)} digits; outputs equal "
          f"the exact reference: {same_reference}; {agree}same class as onnxruntime on "
          f"{same_class:.1%}")
    print(f"    {np.mean(cycles):,.0f} cycles per inference ({source}), physical bound "
          f"{bound:,} ({bound / np.mean(cycles):.1%} of it)")


def _graph_inputs(graph, images):
    from accel.compiler.pixels import quantize_pixels

    return [quantize_pixels(graph, image) for image in images]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--retrain", action="store_true",
                        help="train cnn5 again instead of loading the committed weights")
    parser.add_argument("--images", type=int, default=1000,
                        help="held-out digits to evaluate (at most 1000)")
    parser.add_argument("--accel-images", type=int, default=100,
                        help="of those, how many run on the accelerator")
    parser.add_argument("--calibration", type=int, default=500,
                        help="training digits for calibration")
    parser.add_argument("--backend", choices=["golden", "rtl", "soc"], default="golden")
    parser.add_argument("--rows", type=int, default=8)
    parser.add_argument("--cols", type=int, default=8)
    parser.add_argument("--out", type=Path, default=Path("build/onnx"))
    parser.add_argument("--no-accel", action="store_true",
                        help="stop after onnxruntime (export and quantization only)")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    dataset = load_dataset()
    recipe = FLOAT_RECIPES["cnn5"]

    # 1. The float network.
    if args.retrain:
        model = make_float_model(recipe, dataset, progress=lambda r: print(
            f"  epoch {r.epoch}/{r.epochs}: loss {r.loss:.4f}, held-out {r.eval_accuracy:.3f}"))
        network = model.network
    else:
        network, _ = load_default_float("cnn5")
    images, labels = dataset.eval_images[:args.images], dataset.eval_labels[:args.images]
    inputs = float_input(images, recipe.input_shift)
    native = network.predict(inputs)
    float_acc = float(np.mean(native.argmax(axis=1) == labels))
    print(f"cnn5 float (NumPy): {100 * float_acc:.2f}% on {len(labels)} held-out digits")

    # 2. ONNX float.
    float_path = args.out / "cnn5.onnx"
    export_float(network, float_path)
    float_logits = onnx_logits(float_path, inputs)
    print(f"{float_path}: onnxruntime {100 * np.mean(float_logits.argmax(1) == labels):.2f}%, "
          f"max |logit - NumPy| {np.abs(float_logits - native).max():.2e}")
    count = min(args.accel_images, len(labels))
    if not args.no_accel:  # 4a. the float model through accelgen's own quantizer
        print("  imported as float, quantized by accelgen on "
              f"{args.calibration} training digits:")
        accelerator_half(float_path, images[:count], labels[:count], float_logits[:count],
                         args, calibration=dataset.train_images[:args.calibration])

    # 3. int8 by onnxruntime, QDQ and QOperator, per-channel weights.
    calibration = float_input(dataset.train_images[:args.calibration], recipe.input_shift)
    for name, quant_format in FORMATS:
        path = quantize_onnx(float_path, args.out / f"cnn5-{name}.onnx", calibration,
                             quant_format)
        logits = onnx_logits(path, inputs)
        int8_acc = float(np.mean(logits.argmax(axis=1) == labels))
        print(f"{path}: onnxruntime int8 {100 * int8_acc:.2f}% "
              f"({100 * (int8_acc - float_acc):+.2f} points from float), "
              f"argmax agrees with float on {np.mean(logits.argmax(1) == native.argmax(1)):.1%}")
        # 4b. The accelerator.
        if not args.no_accel:
            accelerator_half(path, images[:count], labels[:count], logits[:count], args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
