"""A compiled graph: its steps, main-memory layout and per-layer table (`compile_graph` in
`accel.compiler.lower` makes it)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from accel.compiler.graph import Graph
from accel.compiler.reference import check_input
from accel.compiler.steps import AccelStep
from accel.config import AccelConfig

__all__ = ["CompiledGraph", "LayerInfo"]


@dataclass(frozen=True)
class LayerInfo:
    """One row of a compiled graph's per-layer table.

    Members
    -------
    name, op : str
        The node's name and kind (``"copy"`` for an identity copy the layout needs).
    shape : tuple of int
        Its output shape.
    macs : int
        The node's real multiply-accumulates.
    accel_macs : int
        What the accelerator spends (straddling rows, block-diagonal zeros); 0 on the host.
    where : {"accel", "host"}
    commands : tuple of Command
        The node's accelerator commands (empty on the host).
    note : str
        A fused pool, or why a pool runs on the host.
    """

    name: str
    op: str
    shape: tuple
    macs: int
    accel_macs: int
    where: str
    commands: tuple = ()
    note: str = ""


@dataclass(frozen=True, eq=False)
class CompiledGraph:
    """Steps plus main-memory layout of one graph for one configuration.

    Members
    -------
    steps : tuple of AccelStep or HostStep
        In order; each `AccelStep` ends with a fence.
    constants : tuple of (address, uint8 array)
        Weights, biases, requantization tables and buffer borders; `memory_image` places them.
    mem_size : int
        End of the last buffer (the main memory it needs).
    input_addr : int
        Where the packed HWC int8 input goes.
    output_addr : int
        Where the last step leaves the packed output (int8, or little-endian int32).
    buffers : dict of str -> Buffer
        Where each tensor's primary copy lives.
    info : tuple of LayerInfo
    input_codes : (shift, flip) or None
        When set, the input buffer holds uint8 pixel codes that the programs load through
        CONFIG_LOAD_CODES (`accel.compiler.input_codes`); `input_bytes` encodes int8 inputs.
    """

    config: AccelConfig
    graph: Graph
    base: int
    steps: tuple
    constants: tuple
    mem_size: int
    input_addr: int
    output_addr: int
    buffers: dict = field(repr=False)
    info: tuple = field(repr=False)
    input_codes: tuple | None = None

    @property
    def output_shape(self) -> tuple:
        return self.graph.output_tensor.shape

    @property
    def output_dtype(self) -> str:
        return self.graph.output_tensor.dtype

    @property
    def commands(self) -> int:
        return sum(len(s.commands) for s in self.steps if isinstance(s, AccelStep))

    @property
    def macs(self) -> int:
        """The graph's multiply-accumulates per inference (real products only)."""
        return self.graph.macs()

    def memory_image(self) -> np.ndarray:
        """Main memory ``[0, mem_size)`` holding the constants (zero elsewhere)."""
        mem = np.zeros(self.mem_size, dtype=np.uint8)
        for addr, data in self.constants:
            mem[addr:addr + data.size] = data
        return mem

    def input_bytes(self, q) -> np.ndarray:
        """The bytes (uint8) to write at `input_addr` for the int8 input tensor ``q``.

        Raises
        ------
        ValueError
            If ``q`` is not an integer array of the input's shape with int8 values, or (with
            `input_codes`) holds a value the pixel mapping cannot produce.
        """
        q = check_input(self.graph.input_tensor, q)
        if self.input_codes is not None:
            from accel.compiler.input_codes import encode_input
            return encode_input(q.reshape(-1), self.input_codes)
        return q.astype(np.int8).reshape(-1).view(np.uint8)

    def read_output(self, mem) -> np.ndarray:
        """The output tensor (int8 or int32, the output's shape) from main memory."""
        buf = self.buffers[self.graph.output]
        return buf.read(np.frombuffer(bytes(mem), np.uint8) if isinstance(
            mem, (bytes, bytearray)) else np.asarray(mem)).reshape(self.output_shape)

    def layers(self) -> list[LayerInfo]:
        """One `LayerInfo` per node (and per identity copy), in execution order."""
        return list(self.info)

    def predicted_cycles(self) -> int:
        """The cycle model's cycles of every accelerator step as a whole (layers overlap
        across their boundaries, so this is at most the table's sum)."""
        from accel.perf.program import predict_program

        return sum(predict_program(self.config, s.commands).cycles for s in self.steps
                   if isinstance(s, AccelStep))

    def table(self, predict: bool = True) -> list[dict]:
        """The per-layer table for a CLI: name, op, shape, MACs, accelerator MACs, where it
        runs and, with ``predict``, the cycle model's cycles of the node's commands
        (`accel.perf.program.predict_program`, each node as its own fenced program; None on
        the host)."""
        from accel.perf.program import predict_program
        from accel.isa.encoding import encode

        fence = encode("fence")
        rows = []
        for row in self.info:
            cycles = None
            if predict and row.commands:
                cycles = predict_program(self.config, row.commands + (fence,)).cycles
            rows.append({"name": row.name, "op": row.op, "shape": row.shape, "macs": row.macs,
                         "accel_macs": row.accel_macs, "where": row.where, "cycles": cycles,
                         "note": row.note})
        return rows
