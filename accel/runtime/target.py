"""One view of a compiled network for every backend: a native `CompiledNetwork` or a compiled
`accel.compiler.graph.Graph` (`accel.compiler.lower.CompiledGraph`).

A backend needs the same few facts of both: the steps (accelerator programs, each ending with a
fence, and host operations between them), the memory image, where the int8 input goes and how
uint8 pixels become it (a 256-entry table, `Target.lut`), and where the output is left (int8 or
int32 values). `as_target` builds the view from a network or graph (compiling it) or from a
compiled one; `run_golden` runs it on the golden model, the reference every other backend is
checked against.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable

import numpy as np

from accel.config import AccelConfig
from accel.compiler.steps import run_steps
from accel.nn.inference import Inference

__all__ = ["Target", "as_target", "run_golden", "bound_cycles", "host_work"]


@dataclass(frozen=True, eq=False)
class Target:
    """What the backends run: one compiled network on one configuration.

    Members
    -------
    compiled : CompiledNetwork or CompiledGraph
        The compiled object this views.
    name : str
    steps : tuple
        Accelerator steps (``.commands``, ending with a fence) and host steps (``.op``, an
        `accel.compiler.hostops` operation), in order.
    input_addr : int
        Where the packed HWC int8 input goes.
    input_shape : (h, w, c) or (n,)
    lut : ndarray (256,) of int8
        ``input = lut[pixel]`` for uint8 pixels.
    input_shift : int or None
        When ``lut`` is ``pixel >> input_shift`` (the firmware then shifts four pixels at once).
    output_addr : int
    output_shape : tuple of int
    output_dtype : {"int8", "int32"}
    macs : int
        The network's multiply-accumulates per inference (not the padding the programs spend).
    """

    compiled: object
    name: str
    steps: tuple
    input_addr: int
    input_shape: tuple
    lut: np.ndarray
    input_shift: int | None
    output_addr: int
    output_shape: tuple
    output_dtype: str
    macs: int

    @property
    def config(self) -> AccelConfig:
        return self.compiled.config

    @property
    def base(self) -> int:
        return self.compiled.base

    @property
    def mem_size(self) -> int:
        return self.compiled.mem_size

    @property
    def commands(self) -> int:
        return sum(len(s.commands) for s in self.steps if hasattr(s, "commands"))

    @property
    def output_count(self) -> int:
        return int(np.prod(self.output_shape))

    @property
    def output_item(self) -> int:
        """Bytes per output value."""
        return 1 if self.output_dtype == "int8" else 4

    @property
    def input_size(self) -> int:
        return int(np.prod(self.input_shape))

    def memory_image(self) -> np.ndarray:
        return self.compiled.memory_image()

    def check_image(self, image: np.ndarray) -> np.ndarray:
        """``image`` as uint8 pixels, HWC flattened; raises ValueError on a bad shape or range."""
        image = np.asarray(image)
        if not np.issubdtype(image.dtype, np.integer) or image.size and (
                image.min() < 0 or image.max() > 255):
            raise ValueError(f"{self.name}: images must hold integer pixels between 0 and 255")
        h, w, c = self.input_hwc
        shapes = ((h, w, c),) + (((h, w),) if c == 1 else ()) if len(self.input_shape) == 3 \
            else (self.input_shape,)
        if image.shape not in shapes:
            raise ValueError(f"{self.name}: the network takes {self.input_shape} images (HWC), "
                             f"not {image.shape}")
        return image.astype(np.uint8).reshape(-1)

    @property
    def input_hwc(self) -> tuple[int, int, int]:
        """The input shape as (h, w, c); a vector of n features is (1, 1, n)."""
        shape = tuple(self.input_shape)
        return shape if len(shape) == 3 else (1, 1, shape[0])

    def input_bytes(self, image: np.ndarray) -> np.ndarray:
        """The bytes to write at `input_addr` for one uint8 image (through `lut`)."""
        return self.lut[self.check_image(image)].view(np.uint8)

    def read_output(self, mem: np.ndarray | bytes) -> np.ndarray:
        """The output values, flattened (int8 or int32), from main memory or from exactly the
        output's bytes."""
        raw = bytes(mem) if isinstance(mem, (bytes, bytearray)) else None
        size = self.output_count * self.output_item
        if raw is None or len(raw) != size:
            raw = bytes(np.asarray(mem)[self.output_addr:self.output_addr + size])
        return np.frombuffer(raw, dtype="i1" if self.output_item == 1 else "<i4").copy()


def _graph_types():
    try:
        from accel.compiler.graph import Graph
        from accel.compiler.lower import CompiledGraph, compile_graph
    except ImportError:  # the general compiler is not there yet
        return None
    return Graph, CompiledGraph, compile_graph


def _native(compiled) -> Target:
    network = compiled.network
    lut = (np.arange(256) >> network.input_shift).astype(np.int8)
    shift = network.input_shift if network.input_shift < 8 else None
    return Target(compiled, network.name, tuple(compiled.steps), compiled.input_addr,
                  tuple(network.input_shape), lut, shift, compiled.logits_addr,
                  (compiled.classes,), "int32", network.macs())


def _graph(compiled) -> Target:
    from accel.compiler.pixels import normalization, pixel_lut

    graph = compiled.graph
    spec = normalization(graph)
    if compiled.input_codes is not None:    # the programs convert the pixels as they load them
        lut, shift = np.arange(256).astype(np.uint8).view(np.int8), 0
    else:
        lut = pixel_lut(graph)
        shift = spec["shift"] if spec["kind"] == "shift" and spec["shift"] < 8 else None
    out = graph.output_tensor
    return Target(compiled, graph.name, tuple(compiled.steps), compiled.input_addr,
                  tuple(graph.input_tensor.shape), lut, shift, compiled.output_addr,
                  tuple(out.shape), out.dtype, graph.macs())


def as_target(network, config: AccelConfig | None = None, *, base: int | None = None) -> Target:
    """The `Target` of ``network``.

    Parameters
    ----------
    network : QuantizedNetwork, Graph, CompiledNetwork or CompiledGraph
        A network or graph is compiled for ``config`` at ``base`` (default 0); a compiled one
        is used as it is unless ``base`` (or a different ``config``) asks to recompile it.
    config : AccelConfig, optional
        Needed for an uncompiled network.

    Raises
    ------
    ValueError
        When ``network`` is none of these, or does not compile for ``config``.
    """
    from accel.nn.compiler import CompiledNetwork, compile_network
    from accel.nn.network import QuantizedNetwork

    graph_types = _graph_types()
    if isinstance(network, CompiledNetwork):
        if (base is None or base == network.base) and config in (None, network.config):
            return _native(network)
        config, network = config or network.config, network.network
    if graph_types is not None and isinstance(network, graph_types[1]):
        if (base is None or base == network.base) and config in (None, network.config):
            return _graph(network)
        config, network = config or network.config, network.graph
    if config is None:
        raise ValueError("compiling a network needs a configuration")
    if isinstance(network, QuantizedNetwork):
        return _native(compile_network(network, config, base=base or 0))
    if graph_types is not None and isinstance(network, graph_types[0]):
        return _graph(graph_types[2](network, config, base=base or 0))
    raise ValueError(f"cannot run a {type(network).__name__}: give a QuantizedNetwork, a Graph "
                     "or one of them compiled")


def host_work(op) -> int:
    """An upper bound of the bytes a host operation reads and writes (for cycle budgets)."""
    h, w, c = (getattr(op, k, 1) for k in ("height", "width", "channels"))
    size = getattr(op, "size", 1)  # hostops.MaxPool
    window = getattr(op, "kernel_h", size) * getattr(op, "kernel_w", size)
    return (window + 2) * h * w * c + 1


def bound_cycles(target: Target, inference: Inference) -> int:
    """max(MACs / (rows x cols), bytes moved / bus bytes per cycle) for one inference (bytes
    moved: the program's main-memory traffic, the golden model's counters)."""
    cfg = target.config
    compute = -(-target.macs // (cfg.rows * cfg.cols))
    traffic = -(-(inference.load_bytes + inference.store_bytes) // (cfg.bus_width // 8))
    return max(compute, traffic)


def run_golden(target: Target, images: Iterable[np.ndarray],
               progress: Callable[[int], None] | None = None) -> list[Inference]:
    """Run every uint8 image through the golden model, one after the other in one memory; the
    `Inference` holds the output values (flattened) as its ``logits``."""
    runs = run_steps(target.config, target.memory_image(), target.steps, target.input_addr,
                     images, target.input_bytes, target.read_output, progress)
    return [Inference(r.output, r.macs, r.load_bytes, r.store_bytes, r.instructions)
            for r in runs]
