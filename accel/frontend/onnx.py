"""Bring your own model: an ONNX model as an `accel.compiler.graph.Graph`.

Three forms are read (default-domain opsets 7..21):

* **float** models, quantized by accelgen's own post-training quantizer: activation ranges
  calibrated with onnxruntime (`accel.frontend.calibrate`), asymmetric int8 activations (a
  non-negative range, such as a ReLU output, gets zero point -128 and all 256 levels),
  per-output-channel symmetric int8 weights, int32 biases at ``in_scale x w_scale[c]``,
  BatchNormalization folded into the Conv before it, Relu/Clip fused into the producer's
  requantization, a bias Add of a constant folded into the Conv/Gemm/MatMul before it;
* **QDQ** models (DequantizeLinear -> op -> QuantizeLinear, as onnxruntime's
  ``quantize_static`` writes them, per tensor or per channel, uint8 or int8 activations);
* **QOperator** models (QLinearConv, QLinearMatMul, QGemm, QLinearAdd, QLinearAveragePool,
  QLinearGlobalAveragePool, QuantizeLinear/DequantizeLinear at the ends, MaxPool).

The input is NCHW (batch 1, or symbolic), NHWC when the model transposes it to NCHW first (as
TensorFlow exporters write it), or ``(batch, features)``; the graph input is HWC (or the
features) either way.

uint8 tensors become int8 by subtracting 128 from values and zero points (exact): feed the graph
``uint8 input - 128`` where the ONNX model's input QuantizeLinear is uint8
(``graph.metadata["input_dtype"]``). accelgen requantizes with 31-bit fixed-point multipliers
rounding half up where onnxruntime rounds a float product half to even: outputs differ from
onnxruntime's by at most one unit in the last place on a few elements.
"""

from __future__ import annotations

import math
import os

from accel.compiler.graph import Graph
from accel.frontend.calibrate import calibration_inputs, collect_ranges, input_quant
from accel.frontend.errors import FrontendError
from accel.frontend.loader import read_model
from accel.frontend.ops import FLOAT_HANDLERS
from accel.frontend.qlinear import QOPERATOR_HANDLERS
from accel.frontend.walk import COMMON_HANDLERS, Walker, check_ops

__all__ = ["FrontendError", "load_onnx"]


def load_onnx(model, *, calibration=None, mean: float = 0.0, std: float = 1.0,
              name: str | None = None) -> Graph:
    """Import ``model`` as a quantized graph.

    Parameters
    ----------
    model : str, os.PathLike or onnx.ModelProto
    calibration : str, os.PathLike or ndarray, optional
        Float models only: calibration inputs (`accel.frontend.calibrate.calibration_inputs`);
        None calibrates a 28x28x1 model on offline MNIST samples.
    mean, std : float
        The model's input normalization of uint8 pixels ``(p / 255 - mean) / std``, recorded
        in the metadata (``"pixels"``, ``"normalization"``) and used for uint8 calibration data.
    name : str, optional
        The graph name (default: the file name without extension, or the ONNX graph name).

    Returns
    -------
    Graph
        Input HWC (or a feature vector); output int8, or the int32 sums of a last Gemm/MatMul
        a quantized model leaves unquantized (per-tensor weight scale); ``metadata`` holds
        ``source``, ``form``, ``opset``, ``normalization``, ``pixels``, ``input_layout``,
        ``input_dtype`` and ``output_layout``.

    Raises
    ------
    FrontendError
        (a ValueError) with a one-line message naming the file or node: a malformed file, an
        unsupported op, attribute or layout, dynamic shapes, bad calibration data.
    """
    if not (isinstance(mean, (int, float)) and isinstance(std, (int, float))
            and math.isfinite(mean) and math.isfinite(std) and std > 0):
        raise FrontendError(f"mean and std must be finite with std > 0, not {mean!r} and "
                            f"{std!r}")
    parsed = read_model(model)
    handlers = dict(COMMON_HANDLERS)
    handlers.update(FLOAT_HANDLERS if parsed.form != "qoperator" else QOPERATOR_HANDLERS)
    check_ops(parsed, handlers)
    ranges, quant = None, None
    if parsed.form == "float":
        data, pixels = calibration_inputs(calibration, parsed.input_shape, mean, std,
                                          parsed.input_layout)
        ranges = collect_ranges(parsed, data)
        quant = input_quant(data, pixels, mean, std)
    elif calibration is not None:
        raise FrontendError(f"{parsed.source}: a {parsed.form} model is already quantized; "
                            "calibration data apply to float models only")
    walker = Walker(parsed, ranges, quant)
    normalization = {"mean": float(mean), "std": float(std)}
    metadata = {
        "source": parsed.source, "form": parsed.form, "opset": parsed.opset,
        "normalization": normalization, "pixels": {"kind": "normalize", **normalization},
        "input_layout": parsed.input_layout,
    }
    if name is None:
        name = os.path.splitext(parsed.source)[0] or "model"
    graph = walker.run(handlers, name, metadata)
    metadata["input_dtype"] = walker.input_dtype
    metadata["output_layout"] = "NCHW" if len(graph.output_tensor.shape) == 3 else "NC"
    return graph
