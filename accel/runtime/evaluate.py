"""Evaluate a quantized network on a backend: accuracy, agreement with the golden model, cycles.

`evaluate` is what ``accelgen mnist eval`` prints. Agreement means identical logits: on the
"golden" backend, the golden model's (accelerator programs run on the NumPy model of the
accelerator) against the plain NumPy integer `reference`; on "rtl" and "soc", the hardware's
against the golden model's, image by image.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Sequence

import numpy as np

from accel.config import AccelConfig
from accel.compiler.graph import Graph
from accel.compiler.pixels import quantize_pixels
from accel.compiler.reference import run_reference
from accel.nn.inference import Inference
from accel.nn.network import QuantizedNetwork, reference
from accel.perf.timeline import Timeline
from accel.runtime.network_rtl import run_rtl
from accel.runtime.target import as_target, bound_cycles, run_golden

if TYPE_CHECKING:
    from accel.runtime.rtl import Waves

__all__ = ["BACKENDS", "EvalReport", "evaluate", "confusion_matrix"]

BACKENDS = ("golden", "rtl", "soc")


@dataclass(frozen=True)
class EvalReport:
    """What one evaluation measured.

    Members
    -------
    predictions, labels : ndarray of int
    logits : ndarray (images, classes) of int32
    agree : int
        Images whose logits are identical to the golden model's (see module docstring).
    cycles : list of int, or None
        Per image on "rtl" (the accelerator alone) and "soc" (the firmware's whole inference).
    bound : int
        ``max(MACs / (rows * cols), bytes moved / bus bytes per cycle)`` of one inference,
        with the network's MACs and the program's main-memory traffic.
    seconds : float
        Wall time of the backend run (simulation included).
    timeline : Timeline or None
        Where the cycles went (``evaluate(..., timeline=True)``): the first image on "rtl",
        the first simulator run on "soc".
    """

    backend: str
    network: str
    config: AccelConfig
    predictions: np.ndarray
    labels: np.ndarray
    logits: np.ndarray
    agree: int
    cycles: list[int] | None
    bound: int
    macs: int
    bytes_moved: int
    seconds: float
    timeline: Timeline | None = field(default=None, repr=False)

    @property
    def images(self) -> int:
        return len(self.labels)

    @property
    def accuracy(self) -> float:
        return float(np.mean(self.predictions == self.labels)) if self.images else 0.0

    @property
    def mean_cycles(self) -> float | None:
        return float(np.mean(self.cycles)) if self.cycles else None

    def to_dict(self) -> dict:
        """JSON-ready figures, predictions and cycles."""
        return {
            "backend": self.backend, "network": self.network, "config": self.config.to_dict(),
            "images": self.images, "accuracy": self.accuracy, "agree": self.agree,
            "macs": self.macs, "bytes_moved": self.bytes_moved, "bound_cycles": self.bound,
            "mean_cycles": self.mean_cycles, "cycles": self.cycles,
            "seconds": round(self.seconds, 3),
            "predictions": self.predictions.tolist(), "labels": self.labels.tolist(),
        }

    def lines(self) -> list[str]:
        """The human-readable summary."""
        cfg = self.config
        out = [f"model {self.network} on {self.backend} ({cfg.rows}x{cfg.cols} "
               f"{cfg.dataflow}): {self.images} images",
               f"accuracy {self.accuracy * 100:.2f}% ({int(np.sum(self.predictions == self.labels))}"
               f"/{self.images})",
               f"identical logits to the golden model: {self.agree}/{self.images}",
               f"per inference: {self.macs} MACs, {self.bytes_moved} bytes moved, "
               f"bound {self.bound} cycles"]
        if self.cycles:
            mean = self.mean_cycles
            out.append(f"cycles per inference {mean:.0f} (min {min(self.cycles)}, max "
                       f"{max(self.cycles)}), {self.bound / mean * 100:.1f}% of bound")
        out.append(f"{self.images / self.seconds:.3g} simulated images/s "
                   f"({self.seconds:.1f} s)" if self.seconds > 0 else "")
        return [line for line in out if line]


def confusion_matrix(labels: np.ndarray, predictions: np.ndarray, classes: int = 10) -> np.ndarray:
    """``matrix[true, predicted]`` counts."""
    matrix = np.zeros((classes, classes), dtype=np.int64)
    np.add.at(matrix, (np.asarray(labels), np.asarray(predictions)), 1)
    return matrix


def _reference(network: QuantizedNetwork | Graph, image: np.ndarray) -> np.ndarray:
    """The exact NumPy output of one uint8 image, flattened."""
    if isinstance(network, QuantizedNetwork):
        return reference(network, image)
    return run_reference(network, quantize_pixels(network, image)).reshape(-1)


def evaluate(network: QuantizedNetwork | Graph, config: AccelConfig, images: np.ndarray,
             labels: np.ndarray, *, backend: str = "golden", simulator: str = "verilator",
             progress: Callable[[int], None] | None = None,
             waves: "Waves | None" = None, timeline: bool = False) -> EvalReport:
    """Run ``images`` through ``network`` (a native network or a `Graph`, e.g. an imported ONNX
    model) compiled for ``config`` on ``backend``; predictions are the argmax of the outputs.

    ``progress`` is called with the number of images finished (per image on "golden", per
    simulator run on "rtl" and "soc"); ``waves`` records each simulator run's waveform;
    ``timeline`` records `EvalReport.timeline`.

    Raises
    ------
    ValueError
        Unknown backend, mismatched image and label counts, a network that does not compile
        for ``config``, or ``waves`` or ``timeline`` on the golden backend.
    RuntimeError
        The RTL disagrees with the golden model, or the SoC run failed.
    """
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, not {backend!r}")
    if waves is not None and backend == "golden":
        raise ValueError("waveforms need a simulator: use the rtl or soc backend")
    if timeline and backend == "golden":
        raise ValueError("a timeline needs a simulator: use the rtl or soc backend")
    images, labels = np.asarray(images), np.asarray(labels)
    if len(images) != len(labels):
        raise ValueError(f"{len(images)} images but {len(labels)} labels")
    target = as_target(network, config)
    start = time.perf_counter()
    results: Sequence[Inference]
    timelines: list[Timeline] | None = [] if timeline else None
    if backend == "golden":
        results = run_golden(target, images, progress=progress)
        wanted = [_reference(network, image) for image in images]
    else:
        golden = run_golden(target, images)
        wanted = [g.logits for g in golden]
        if backend == "rtl":
            results = run_rtl(target.compiled, list(images), simulator=simulator,
                              progress=progress, waves=waves, timelines=timelines)
        else:
            from accel.runtime.network_soc import run_soc
            results = run_soc(network, config, list(images), simulator=simulator,
                              progress=progress, waves=waves, timelines=timelines)
    seconds = time.perf_counter() - start
    logits = np.array([r.logits for r in results], dtype=np.int32).reshape(len(images), -1)
    agree = sum(bool(np.array_equal(r.logits, w)) for r, w in zip(results, wanted))
    first = results[0] if len(results) else None
    if first is not None:
        macs = network.macs()
        moved = first.load_bytes + first.store_bytes
        bound = bound_cycles(target, first)
    else:
        macs = moved = bound = 0
    cycles = [r.cycles for r in results] if backend != "golden" else None
    return EvalReport(backend, network.name, config,
                      np.array([r.prediction for r in results], dtype=np.int64), labels,
                      logits, agree, cycles, bound, macs, moved, seconds,
                      timelines[0] if timelines else None)
