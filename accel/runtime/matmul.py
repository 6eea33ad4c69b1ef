"""`accel.runtime.matmul`: one call that tiles, runs and checks a matrix multiplication on a
backend."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from accel.config import AccelConfig, preset
from accel.perf.timeline import Timeline
from accel.golden import GoldenModel
from accel.isa.spec import Counter
from accel.runtime.rtl import Waves
from accel.compiler.tiler import MatmulPlan, Requant, plan_matmul

__all__ = ["BACKENDS", "MatmulStats", "matmul"]

BACKENDS = ("golden", "rtl")


@dataclass(frozen=True)
class MatmulStats:
    """What a matmul run cost.

    Members
    -------
    backend : str
    instructions : int
        Commands in the program.
    macs : int
        Useful multiply-accumulates (m * k * n).
    load_bytes, store_bytes : int
        Main-memory bytes moved by the DMA.
    cycles : int or None
        Clock cycles from the first command offered to the last response (None on the golden
        backend, which is untimed).
    timeline : Timeline or None
        The RTL's per-unit busy intervals, when asked for (``matmul(..., timeline=True)``).
    """

    backend: str
    instructions: int
    macs: int
    load_bytes: int
    store_bytes: int
    cycles: int | None = None
    timeline: Timeline | None = None

    def utilization(self, config: AccelConfig) -> float | None:
        """MACs / (cycles * PEs), or None when untimed."""
        if not self.cycles:
            return None
        return self.macs / (self.cycles * config.pe_count)


def _check_operand(name: str, value: np.ndarray, ndim: int, width: int) -> np.ndarray:
    array = np.asarray(value)
    if array.ndim != ndim:
        raise ValueError(f"{name} must be a {ndim}-D array, not {array.ndim}-D")
    if array.size == 0:
        raise ValueError(f"{name} must not be empty")
    if not np.issubdtype(array.dtype, np.integer):
        raise ValueError(f"{name} must hold integers, not {array.dtype}")
    lo, hi = -(1 << (width - 1)), (1 << (width - 1)) - 1
    if array.min() < lo or array.max() > hi:
        raise ValueError(f"{name} values must be between {lo} and {hi} ({width}-bit signed)")
    return array.astype(np.int64)


def matmul(a: np.ndarray, b: np.ndarray, *, config: AccelConfig | None = None,
           backend: str = "golden", bias: np.ndarray | None = None,
           requant: Requant | None = None, return_stats: bool = False,
           simulator: str = "verilator", waves: Waves | None = None,
           timeline: bool = False):
    """Compute ``a @ b`` (+ ``bias``) on the accelerator through a tiled program.

    Parameters
    ----------
    a : (M, K) integer array
        Values in the signed ``config.input_width`` range.
    b : (K, N) integer array
    config : AccelConfig, optional
        Defaults to the "default" preset (16x16, weight-stationary).
    backend : {"golden", "rtl"}
        Where the program runs: the NumPy golden model, or the accelerator's emitted Verilog
        under cocotb (built once per configuration and cached), checked against the golden
        model as it runs.
    bias : (N,) integer array, optional
        Added to every row (signed ``acc_width`` range), via a broadcast accumulator load.
    requant : Requant, optional
        Send the result through the activation unit (requantize, ReLU, zero point, saturate);
        the result then has the input width instead of the accumulator width.
    return_stats : bool
        Also return a `MatmulStats`.
    simulator : {"verilator", "icarus"}
        The simulator of the "rtl" backend.
    waves : Waves, optional
        Record the "rtl" backend's waveform (one simulator run).
    timeline : bool
        Record the "rtl" backend's per-unit busy intervals into ``MatmulStats.timeline``.

    Returns
    -------
    ndarray, or (ndarray, MatmulStats)
        int32 (M, N) raw accumulator values (int64 when acc_width > 32), or int8 (M, N) when
        ``requant`` is given (int16 when input_width > 8).

    Raises
    ------
    ValueError
        On bad shapes, out-of-range values, an unknown backend, or ``waves`` or ``timeline``
        on "golden".
    RuntimeError
        When the RTL's result differs from the golden model's (a hardware bug).
    """
    config = config if config is not None else preset("default")
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, not {backend!r}")
    if waves is not None and backend != "rtl":
        raise ValueError("waveforms need a simulator: use the rtl backend")
    if timeline and backend != "rtl":
        raise ValueError("an RTL timeline needs a simulator: use the rtl backend")
    a = _check_operand("a", a, 2, config.input_width)
    b = _check_operand("b", b, 2, config.input_width)
    if a.shape[1] != b.shape[0]:
        raise ValueError(f"inner dimensions differ: a is {a.shape[0]}x{a.shape[1]}, "
                         f"b is {b.shape[0]}x{b.shape[1]}")
    if bias is not None:
        bias = _check_operand("bias", bias, 1, config.acc_width)
        if bias.shape[0] != b.shape[1]:
            raise ValueError(f"bias must have {b.shape[1]} elements, not {bias.shape[0]}")
    m, k = a.shape
    n = b.shape[1]
    plan = plan_matmul(config, m, k, n, bias=bias is not None, requant=requant)
    result, stats = _run_golden(plan, a, b, bias)
    if backend == "rtl":
        result, stats = _run_rtl(plan, a, b, bias, stats, simulator, waves, timeline)
    return (result, stats) if return_stats else result


def _run_golden(plan: MatmulPlan, a: np.ndarray, b: np.ndarray,
                bias: np.ndarray | None) -> tuple[np.ndarray, MatmulStats]:
    model = GoldenModel(plan.config, mem_size=plan.layout.mem_size)
    model.mem[:] = plan.memory_image(a, b, bias)
    model.run(plan.program)
    stats = MatmulStats("golden", len(plan.program), model.counters[Counter.MACS],
                        model.counters[Counter.LOAD_BYTES], model.counters[Counter.STORE_BYTES])
    return plan.read_result(model.mem), stats


def _run_rtl(plan: MatmulPlan, a: np.ndarray, b: np.ndarray, bias: np.ndarray | None,
             golden: MatmulStats, simulator: str, waves: Waves | None, timeline: bool = False
             ) -> tuple[np.ndarray, MatmulStats]:
    from accel.runtime.rtl import Program, run_programs
    from accel.perf.bound import gemm_bound
    from accel.runtime.timeline import rtl_timeline

    run = run_programs(plan.config, plan.memory_image(a, b, bias), [Program(plan.program)],
                       simulator=simulator, return_memory=True, waves=waves, timeline=timeline)
    if run.mismatches:
        raise RuntimeError("the RTL disagrees with the golden model: " + run.mismatches[0])
    drawn = None
    if timeline:
        (m, k), n = a.shape, b.shape[1]
        drawn = rtl_timeline(plan.config, f"GEMM {m}x{k} @ {k}x{n}"
                             + (" + bias" if bias is not None else ""),
                             [(run.timelines[0], run.cycles[0], "")],
                             gemm_bound(plan.config, m, k, n, bias=bias is not None))
    stats = MatmulStats("rtl", golden.instructions, golden.macs, golden.load_bytes,
                        golden.store_bytes, cycles=run.cycles[0], timeline=drawn)
    return plan.read_result(run.memory), stats
