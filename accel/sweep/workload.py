"""What a sweep measures cycles on: a default MNIST network (``cnn``, ``mlp``) or one GEMM.

`Workload.predict` asks the analytical cycle model (`accel.perf`) for the cycles of one
inference (or one GEMM); `Workload.simulate` runs the same work on the accelerator's RTL
(Verilator by default) and returns the cycles it counted. Both compile for the configuration
at hand, so a configuration the compiler cannot serve reports that as the metric's error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from accel.config import AccelConfig
from accel.sweep.errors import SweepError

__all__ = ["NETWORKS", "Workload"]

#: Network workloads: the committed default models of `accel.nn.model_file`.
NETWORKS = ("cnn", "mlp")

_GEMM = re.compile(r"^gemm:(\d+)x(\d+)x(\d+)$")
_MAX_GEMM_DIM = 4096
#: Seed of the synthetic operands (image, matrices) that the RTL runs on; the accelerator's
#: timing does not depend on the data.
_SEED = 7


@lru_cache(maxsize=None)
def _network(name: str):
    from accel.nn.model_file import load_default

    return load_default(name)


@lru_cache(maxsize=4)
def _compiled(name: str, config: AccelConfig):
    from accel.nn.compiler import compile_network

    return compile_network(_network(name), config)


@dataclass(frozen=True)
class Workload:
    """One workload of a sweep.

    Members
    -------
    kind : {"cnn", "mlp", "gemm"}
    shape : (m, k, n) or None
        The GEMM's shape (``None`` for a network).
    """

    kind: str
    shape: tuple[int, int, int] | None = None

    @classmethod
    def parse(cls, text: str) -> "Workload":
        """``cnn``, ``mlp`` or ``gemm:MxKxN`` (e.g. ``gemm:64x64x64``).

        Raises
        ------
        SweepError
            On anything else, or a GEMM dimension outside 1..4096.
        """
        text = text.strip()
        if text in NETWORKS:
            return cls(text)
        match = _GEMM.match(text)
        if match is None:
            raise SweepError(f"--workload must be {', '.join(NETWORKS)} or gemm:MxKxN "
                             f"(e.g. gemm:64x64x64), not {text!r}")
        shape = tuple(int(v) for v in match.groups())
        if not all(1 <= v <= _MAX_GEMM_DIM for v in shape):
            raise SweepError(f"--workload {text!r}: GEMM dimensions must be between 1 and "
                             f"{_MAX_GEMM_DIM}")
        return cls("gemm", shape)

    @property
    def name(self) -> str:
        """As written on the command line: ``cnn`` or ``gemm:64x64x64``."""
        if self.shape is None:
            return self.kind
        return "gemm:" + "x".join(str(v) for v in self.shape)

    @property
    def slug(self) -> str:
        """The suffix of this workload's result columns: ``cnn``, ``gemm_64x64x64``."""
        return self.name.replace(":", "_")

    @property
    def unit(self) -> str:
        return "inference" if self.shape is None else "GEMM"

    def predict(self, config: AccelConfig) -> dict[str, int]:
        """Predicted ``cycles`` (and the model's lower ``bound``) of one run on ``config``.

        Raises
        ------
        ValueError
            When the workload cannot be compiled for ``config``.
        """
        from accel.perf import predict_matmul, predict_network

        if self.shape is None:
            estimate = predict_network(config, _compiled(self.kind, config))
        else:
            estimate = predict_matmul(config, *self.shape)
        return {"cycles": int(estimate.cycles), "bound": int(estimate.bound)}

    def simulate(self, config: AccelConfig, simulator: str = "verilator") -> int:
        """Cycles of one run on the accelerator's RTL (checked against the golden model).

        Raises
        ------
        RuntimeError
            When the RTL disagrees with the golden model or times out.
        """
        rng = np.random.default_rng(_SEED)
        if self.shape is None:
            from accel.runtime.network_rtl import run_rtl

            image = rng.integers(0, 256, size=(28, 28), dtype=np.uint8)
            (inference,) = run_rtl(_compiled(self.kind, config), [image], simulator=simulator)
            return int(inference.cycles)
        from accel.runtime.matmul import matmul

        m, k, n = self.shape
        lo, hi = -(1 << (config.input_width - 1)), 1 << (config.input_width - 1)
        a = rng.integers(lo, hi, size=(m, k))
        b = rng.integers(lo, hi, size=(k, n))
        _, stats = matmul(a, b, config=config, backend="rtl", return_stats=True,
                          simulator=simulator)
        return int(stats.cycles)
