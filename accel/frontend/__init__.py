"""Front ends: models from other tools as `accel.compiler.graph.Graph` (model layer: NumPy,
onnx and onnxruntime, never Amaranth). `load_onnx` reads ONNX (float, QDQ, QOperator)."""

from accel.frontend.errors import FrontendError
from accel.frontend.onnx import load_onnx

__all__ = ["FrontendError", "load_onnx"]
