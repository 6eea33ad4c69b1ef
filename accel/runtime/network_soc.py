"""Run compiled networks on the SoC: the ``mnist`` firmware on PicoRV32 starts each accelerator
step with one EXEC_BUFFER custom-0 instruction (the step's records in SRAM) and a FENCE, runs the
host operations (pooling, adds) on the core, and prints each image's output.

`run_soc` builds the firmware for the configuration, compiles the network (a native
`QuantizedNetwork` or a `Graph`) into the SRAM above it (`accel.runtime.soc_image`), runs
batches of images on the SoC's Verilog (one simulator build per configuration, SRAM loaded at
reset), parses the UART transcript and checks every image's output against the golden model.
Cycles are the firmware's own measurement (SoC timer) of quantizing the input, running every
step and reading the output back; printing is excluded.
"""

from __future__ import annotations

import fcntl
import functools
import json
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Sequence

import numpy as np

from accel.config import AccelConfig
from accel.isa.spec import ErrorCause
from accel.isa.status import decode_status
from accel.nn.inference import Inference
from accel.runtime.soc_image import SocLayout, SramTooSmall, plan_layout
from accel.runtime.target import bound_cycles, host_work, run_golden

if TYPE_CHECKING:
    from accel.runtime.rtl import Waves

__all__ = ["SocError", "SocInference", "SocImageResult", "SocFirmware", "SramTooSmall",
           "describe_status", "run_batch", "run_soc", "soc_firmware"]

APP = "mnist"
#: Images per simulator run at most (progress is reported per run).
MAX_BATCH = 16
#: Cycles from reset to the first image (boot, header checks, the first line).
_BOOT_CYCLES = 200_000

_LINE = re.compile(r"^img (\d+) pred (\d+) cycles (\d+) quant (\d+) pool (\d+) issue (\d+) "
                   r"wait (\d+) status 0x([0-9a-f]{8}) logits (-?\d+(?:,-?\d+)*)$", re.M)
PHASES = ("quant", "pool", "issue", "wait")


class SocError(RuntimeError):
    """The SoC run failed: the firmware stopped, timed out, reported an accelerator error,
    printed something unexpected, or disagreed with the golden model."""


@dataclass(frozen=True)
class SocInference(Inference):
    """An `Inference` from the SoC, with the firmware's split of its cycles.

    Members
    -------
    phases : dict
        ``quant`` (input quantization), ``pool`` (host operations on the core), ``issue`` (issuing
        commands, including waits for room in the command queue), ``wait`` (in each program's
        final fence); the rest of ``cycles`` is the status and output read-back and loop
        overhead.
    """

    phases: dict = field(default_factory=dict)


@dataclass(frozen=True)
class SocFirmware:
    """The ``mnist`` firmware built for one configuration."""

    binary: bytes
    free_start: int


@functools.lru_cache(maxsize=None)
def soc_firmware(config: AccelConfig) -> SocFirmware:
    """Build the ``mnist`` firmware for ``config`` (once per process) into
    ``<cache>/firmware/mnist-<config digest>`` (`accel.util.cache`), under a lock shared with
    other processes."""
    from accel.util.cache import kind_dir
    from accel.build.firmware import build_firmware, is_firmware_build

    out = kind_dir("firmware") / f"{APP}-{config.hardware_digest()}"
    # The lock lies beside the build directory, which each build replaces whole.
    with open(out.with_name(out.name + ".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if out.is_dir() and not is_firmware_build(out):  # a cache entry of an older layout
            shutil.rmtree(out)
        elf = build_firmware(config, APP, out)
        binary = elf.with_suffix(".bin").read_bytes()
        info = json.loads(elf.with_suffix(".json").read_text())
    return SocFirmware(binary, int(info["free_start"]))


def describe_status(status: int) -> str:
    """The accelerator's status word in words: ``ok`` or the error cause and failing command."""
    fields = decode_status(status)
    if not fields["error"]:
        return f"status {status:#010x} (ok)"
    cause = fields["cause"]
    name = ErrorCause(cause).name if cause in set(ErrorCause) else f"cause {cause}"
    return (f"status {status:#010x}: error {name} from the command with funct7 "
            f"{fields['err_funct7']:#04x}, funct3 {fields['err_funct3']}")


@dataclass(frozen=True)
class SocImageResult:
    """One ``img`` line of the firmware: what it printed about one image (``logits``: the
    output values, whatever their type)."""

    index: int
    prediction: int
    cycles: int
    status: int
    phases: dict
    logits: np.ndarray

    @property
    def failed(self) -> bool:
        return bool(decode_status(self.status)["error"])


def _budget(layout: SocLayout, golden: Sequence[Inference]) -> int:
    """A cycle limit for a batch, several times what it takes: a hang, not slowness, hits it."""
    from sim.soc_runner import DEFAULT_DIVISOR

    target = layout.target
    host_bytes = sum(host_work(s.op) for s in target.steps if not hasattr(s, "commands"))
    line = 10 * DEFAULT_DIVISOR * (100 + 12 * target.output_count)
    per_image = [2 * bound_cycles(target, g) + 150 * target.commands + 60 * host_bytes
                 + 40 * layout.image_bytes + line for g in golden]
    return _BOOT_CYCLES + 4 * sum(per_image)


def _parse(transcript: str, first: int, count: int) -> list[SocImageResult]:
    stop = re.search(r"^ERROR.*$", transcript, re.M)
    if stop:
        raise SocError(f"the mnist firmware stopped: {stop.group(0)}")
    found = {int(m.group(1)): m for m in _LINE.finditer(transcript)}
    results = []
    for index in range(first, first + count):
        m = found.get(index)
        if m is None:
            raise SocError(f"the mnist firmware printed no result for image {index}; "
                           f"transcript ends {transcript[-300:]!r}")
        logits = np.array([int(v) for v in m.group(9).split(",")], dtype=np.int64)
        phases = dict(zip(PHASES, (int(m.group(i)) for i in range(4, 8))))
        results.append(SocImageResult(index, int(m.group(2)), int(m.group(3)),
                                      int(m.group(8), 16), phases, logits.astype(np.int32)))
    if not re.search(r"^DONE$", transcript, re.M):
        raise SocError("the mnist firmware did not finish with DONE")
    return results


def run_batch(layout: SocLayout, firmware: SocFirmware, images: Sequence[np.ndarray], *,
              first: int = 0, max_cycles: int, simulator: str = "verilator",
              waves: "Waves | None" = None,
              timeline_file: str | None = None) -> list[SocImageResult]:
    """One simulator run: ``images`` (at most ``layout.capacity``), numbered from ``first``,
    through the network of ``layout``; what the firmware printed, unchecked. ``waves`` records
    the run's waveform; ``timeline_file`` (``.npz``) receives the run's busy intervals
    (``SOC_TIMELINE`` of ``sim.bench_soc``).

    Raises
    ------
    SocError
        When the firmware stops with an ERROR line, the run times out or traps, or the
        transcript lacks an image's line or the final DONE.
    """
    from sim.soc_runner import SocRunError, run_soc_image

    image = layout.sram_image(firmware.binary, images, first)
    env = {"SOC_END": r"^(DONE|ERROR.*)$", "SOC_MAX_CYCLES": str(max_cycles),
           **({"SOC_TIMELINE": str(timeline_file)} if timeline_file is not None else {})}
    trace = waves.next_path() if waves is not None else None
    try:
        run = run_soc_image(layout.target.config, image, env=env, simulator=simulator,
                            waves=waves.format if waves is not None else None, waves_file=trace)
    except SocRunError as exc:
        reason = next((line.strip() for line in str(exc).splitlines()
                       if line.strip().startswith("run_firmware")), str(exc).splitlines()[0])
        tail = exc.transcript[-300:]
        shown = "" if repr(tail)[1:-1] in reason else f"; transcript ends {tail!r}"
        raise SocError(f"the SoC run of images {first}..{first + len(images) - 1} failed "
                       f"({reason}){shown}") from None
    finally:
        if waves is not None and trace is not None:
            waves.record(trace)
    return _parse(run.transcript, first, len(images))


def run_soc(network, config: AccelConfig,
            images: Sequence[np.ndarray], *, simulator: str = "verilator",
            progress: Callable[[int], None] | None = None, batch: int = MAX_BATCH,
            check: bool = True, waves: "Waves | None" = None,
            timelines: list | None = None) -> list[SocInference]:
    """Run uint8 ``images`` through ``network`` on the SoC of ``config``.

    Parameters
    ----------
    network : QuantizedNetwork, Graph, CompiledNetwork or CompiledGraph
        A compiled network is recompiled for ``config`` at the SRAM address the firmware
        leaves free (only its network or graph is used).
    config : AccelConfig
        Accelerator and SoC (``soc_sram_kib`` must hold the firmware, the network, its command
        tables and at least one image).
    images : sequence of uint8 arrays
        Pixels of the network's input shape (HWC; (h, w) for one channel), which the
        firmware maps through the network's pixel table.
    simulator : {"verilator", "icarus"}
    progress : callable, optional
        Called with the number of images finished after each simulator run.
    batch : int
        Images per simulator run at most (fewer when the SRAM holds fewer).
    check : bool
        Raise `SocError` when an output value differs from the golden model's.
    waves : accel.runtime.rtl.Waves, optional
        Record each simulator run's waveform.
    timelines : list, optional
        Receives the `Timeline` of the first simulator run (its images, from the first busy
        cycle to the last; `accel.runtime.timeline.soc_timeline`).

    Returns
    -------
    list of SocInference
        Output values (``logits``, flattened, int8 or int32) and cycles from the SoC; MACs and
        bytes moved from the golden model.

    Raises
    ------
    SramTooSmall
        When the SRAM is too small (the message says how many KiB are needed).
    SocError
        When the firmware stops, times out, reports an accelerator error or disagrees with
        the golden model.
    accel.build.firmware.FirmwareError
        When the firmware does not build.
    """
    if isinstance(batch, bool) or not isinstance(batch, int) or batch < 1:
        raise ValueError(f"batch must be a positive integer, not {batch!r}")
    images = list(images)
    firmware = soc_firmware(config)
    layout = plan_layout(network, config, firmware.free_start, max_images=batch)
    target = layout.target
    golden = run_golden(target, images)
    results: list[SocInference] = []
    for first in range(0, len(images), layout.capacity):
        chunk = images[first:first + layout.capacity]
        references = golden[first:first + len(chunk)]
        with tempfile.TemporaryDirectory(prefix="soc-timeline-") as tmp:
            record = Path(tmp) / "timeline.npz" if timelines is not None and first == 0 \
                else None
            lines = run_batch(layout, firmware, chunk, first=first, simulator=simulator,
                              max_cycles=_budget(layout, references), waves=waves,
                              timeline_file=record)
            if record is not None:
                from accel.perf.timeline import workload_bound
                from accel.runtime.timeline import soc_timeline

                rows = np.load(record)["rows"]
                count = f"{len(chunk)} image" + ("s" if len(chunk) > 1 else "")
                timelines.append(soc_timeline(config, f"{target.name}: {count}", rows,
                                              workload_bound(config, target.compiled),
                                              len(chunk)))
        for line, ref in zip(lines, references):
            if line.failed:
                raise SocError(f"image {line.index}: the accelerator reported "
                               f"{describe_status(line.status)}")
            if line.logits.size != target.output_count \
                    or line.prediction != int(np.argmax(line.logits)):
                raise SocError(f"image {line.index}: the firmware printed {line.logits.size} "
                               f"values and prediction {line.prediction}, which disagree")
            if check and not np.array_equal(line.logits, ref.logits):
                raise SocError(f"image {line.index}: the SoC's output {line.logits.tolist()} "
                               f"differs from the golden model's {ref.logits.tolist()}")
            output = line.logits.astype(ref.logits.dtype)
            results.append(SocInference(output, ref.macs, ref.load_bytes, ref.store_bytes,
                                        ref.instructions, line.cycles, line.phases))
        if progress is not None:
            progress(len(chunk))
    return results
