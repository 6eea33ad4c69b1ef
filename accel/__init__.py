"""accelgen: a generator of systolic-array AI accelerators in Amaranth HDL.

The stable Python interface:

* :class:`AccelConfig` (and :class:`ConfigError`) — the one validated parameter object;
* :func:`generate_verilog` — Verilog text of a top level (``"accelerator"``, ``"array"``) for a
  configuration;
* :func:`matmul` — a GEMM tiled into an accelerator program, run on the golden model or the RTL;
* :func:`compile` — a model (ONNX file, accelgen model file, ``"cnn"``/``"mlp"``) compiled for a
  configuration: ``.run(x, backend="golden"|"rtl"|"soc")`` and ``.info()``
  (`accel.runtime.model`).

Heavy modules (Amaranth, the hardware blocks) are imported only when used.
"""

from accel.config import AccelConfig, ConfigError
from accel.runtime.matmul import matmul
from accel.compiler.tiler import Requant
from accel.build.verilog import generate_verilog
from accel.runtime.model import compile_model as compile

__all__ = ["AccelConfig", "ConfigError", "Requant", "__version__", "compile", "generate_verilog",
           "matmul"]


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("accelgen")
    except PackageNotFoundError:  # running from a source tree that is not installed
        return "0.0.0+unknown"


__version__ = _version()
