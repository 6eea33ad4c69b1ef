"""Compile a `Graph` into accelerator programs, host steps and a main-memory layout.

`compile_graph` walks the nodes in order:

* `Conv2D` and `Dense` run on the accelerator with the input zero point folded into the bias,
  per-tensor `Requant` when every channel's factor is equal, else a `ChannelRequant` table
  among the constants. A `Dense` without requantization leaves raw int32 sums.
* Weight-stationary convolutions of horizontal stride 1 load their input once
  (`accel.compiler.conv_tiles`); an unpadded `MaxPool` or `AvgPool` that alone reads a conv's
  output is fused into that conv's store (``store_pool``: no buffer, no host step). A
  per-tensor (or raw) `Dense` runs transposed with the input column resident
  (`accel.compiler.dense_tiles`). Everything else is a GEMM of `accel.compiler.lower_gemm`
  through `accel.compiler.tiler`.
* Other pools and `Add` are host steps (`accel.compiler.hostops`); the table's note says why.
* Buffers (`accel.compiler.layout`) are padded for their consumers: the producer stores only
  valid pixels into a border the memory image pre-fills. Conflicting layouts of one tensor and
  a padded graph input get an identity copy on the accelerator.

Consecutive accelerator nodes share one program ending with a fence. Every buffer is allocated
once from ``base``, so one compiled graph serves any number of inputs: write the packed HWC int8
input at `CompiledGraph.input_addr`, run the steps, read the output at `output_addr`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from accel.arch.microarch import align_up
from accel.compiler.graph import Add, AvgPool, Conv2D, Dense, Graph, MaxPool, Requantize
from accel.compiler.hostops import AddOp, AvgPoolOp, MaxPoolOp
from accel.compiler.layout import PACKED, SLACK, Allocator, Buffer, consumer_need, \
    plan_layouts, shape3
from accel.compiler.compiled import CompiledGraph, LayerInfo
from accel.compiler.conv_tiles import const_row, plan_conv
from accel.compiler.copy_tiles import plan_copy
from accel.compiler.dense_tiles import DenseJob, plan_dense, tile_major
from accel.compiler.scratch import flush_stores, invalidate_const, moved_stores
from accel.compiler.lower_gemm import (COPY_REQUANT, conv_gemms, conv_job, copy_gemm,
                                       dense_gemm, dense_weight, fold_bias, fusable_pool,
                                       gemm_macs)
from accel.compiler.steps import AccelStep, HostStep
from accel.compiler.input_codes import apply_input_codes, input_codes
from accel.compiler.tiler import ChannelRequant, ProgramBuilder, Requant, emit_gemm
from accel.config import AccelConfig, Dataflow

__all__ = ["CompiledGraph", "LayerInfo", "compile_graph"]


def _requant(node, constant) -> Requant | ChannelRequant | None:
    rq: Requantize | None = node.requant
    if rq is None:
        return None
    if rq.per_tensor:
        return Requant(int(rq.multiplier[0]), int(rq.shift[0]), rq.zero_point, rq.relu)
    table = np.frombuffer(ChannelRequant.table_bytes(rq.multiplier, rq.shift), np.uint8)
    return ChannelRequant(constant(table), rq.multiplier.size, rq.zero_point, rq.relu)


def _check(config: AccelConfig, base) -> None:
    if config.input_width != 8 or config.acc_width != 32:
        raise ValueError(f"graphs are int8 with int32 accumulators; this configuration has "
                         f"input_width {config.input_width} and acc_width {config.acc_width}")
    if isinstance(base, bool) or not isinstance(base, int) or base < 0:
        raise ValueError(f"base must be a non-negative integer, not {base!r}")


def compile_graph(graph: Graph, config: AccelConfig, *, base: int = 0,
                  pixel_codes: bool = True) -> CompiledGraph:
    """Compile ``graph`` for ``config`` with every buffer at or above ``base``.

    With ``pixel_codes`` (the default), a graph whose pixel mapping is a shift or the int8
    pass-through takes uint8 pixel codes in its input buffer and converts them as it loads them
    (`accel.compiler.input_codes`; `CompiledGraph.input_codes`), so no backend quantizes images.

    Raises
    ------
    ValueError
        When the configuration's widths do not fit int8 graphs, a folded bias leaves int32, or
        the buffers or a GEMM's tiles do not fit the configuration (one line naming the node).
    """
    if not isinstance(graph, Graph):
        raise ValueError(f"compile_graph needs a Graph, not {type(graph).__name__}")
    _check(config, base)
    alloc = Allocator(base, config.mem_size_limit)
    constants: list[tuple[int, np.ndarray]] = []

    def constant(data: np.ndarray, what: str = "a constant") -> int:
        data = np.ascontiguousarray(data, dtype=np.uint8).reshape(-1)
        addr = alloc.take(data.size, what)
        constants.append((addr, data))
        return addr

    def as_bytes(values, dtype: str) -> np.ndarray:
        return np.ascontiguousarray(values, dtype=dtype).reshape(-1).view(np.uint8)

    layouts = plan_layouts(graph)
    buffers: dict = {}  # (tensor, key) -> Buffer; key None is the primary
    # conv index -> its pool's index, for pools fused into the conv's store (no conv buffer)
    fused = {i: j for i, j in ((i, fusable_pool(graph, config, i))
                               for i in range(len(graph.nodes))) if j is not None}
    unstored = {graph.nodes[i].output for i in fused}

    def new_buffer(name: str, pads=(0, 0, 0, 0), fill: int = 0) -> Buffer:
        tensor = graph.tensors[name]
        item = 4 if tensor.dtype == "int32" else 1
        probe = Buffer(name, 0, shape3(tensor.shape), tuple(pads), fill, item)
        # the slack lets row-im2col loads read whole rows past the last pixel
        buf = Buffer(name, alloc.take(probe.size + SLACK, f"tensor {name!r}"), probe.shape,
                     probe.pads, fill, item)
        image = buf.image()
        if image is not None:
            constants.append((buf.addr, image))
        return buf

    def add_primary(name: str) -> None:
        layout = layouts[name]
        buffers[name, None] = new_buffer(name, *(layout.primary[::-1] if layout.primary
                                                 else ()))

    for name, layout in layouts.items():
        if name in unstored:
            continue
        primary = layout.primary
        buffers[name, None] = new_buffer(name, *(primary[::-1] if primary else ()))
        for fill, pads in layout.copies:
            buffers[name, fill] = new_buffer(name, pads, fill)
        if primary is not None and PACKED in [consumer_need(graph, n, name)
                                              for n in graph.consumers(name)]:
            buffers[name, PACKED] = new_buffer(name)

    def source(node, name: str) -> Buffer:
        return buffers[name, layouts[name].key(consumer_need(graph, node, name))]

    steps: list = []
    info: list[LayerInfo] = []
    builder: ProgramBuilder | None = None
    step_nodes: list[int] = []
    eyes: dict[int, int] = {}

    def flush() -> None:
        nonlocal builder, step_nodes
        if builder is not None:
            flush_stores(builder)
            _settle(info, builder)
            builder.op("fence")
            steps.append(AccelStep(tuple(builder.program), tuple(step_nodes)))
        builder, step_nodes = None, []

    def run_gemms(index: int, gemms, what: str) -> tuple:
        nonlocal builder
        if builder is None:
            builder = ProgramBuilder()
        if index not in step_nodes:
            step_nodes.append(index)
        start = len(builder.program)
        flush_stores(builder)
        invalidate_const(builder)
        for gemm in gemms:
            try:
                emit_gemm(config, builder, gemm)
            except ValueError as exc:
                raise ValueError(f"{what}: {exc}") from None
        return _Span(builder, start, len(builder.program))

    def copies(index: int, name: str) -> None:
        """Identity copies of tensor ``name`` into its other layouts (after it is made)."""
        nonlocal builder
        src = buffers[name, None]
        for key in [k for (t, k) in buffers if t == name and k is not None]:
            if builder is None:
                builder = ProgramBuilder()
            start = len(builder.program)
            if plan_copy(config, builder, src, buffers[name, key]):
                if index not in step_nodes:
                    step_nodes.append(index)
                info.append(LayerInfo(f"{name}:copy", "copy", graph.tensors[name].shape, 0,
                                      0, "accel", _Span(builder, start, len(builder.program))))
                continue
            c = src.shape[2]
            if c not in eyes:
                eyes[c] = constant(as_bytes(np.eye(c), "i1"), "an identity matrix")
            gemm = copy_gemm(src, buffers[name, key], eyes[c], _requant_of(COPY_REQUANT))
            cmds = run_gemms(index, [gemm], f"copy of {name!r}")
            info.append(LayerInfo(f"{name}:copy", "copy", graph.tensors[name].shape, 0,
                                  gemm_macs(gemm), "accel", cmds))

    def conv_step(index: int, node: Conv2D, weight, bias, requant, pool_index):
        """The node (and its fused pool) by `plan_conv`, or None when it does not fit."""
        nonlocal builder
        src = source(node, node.input)
        pool = None if pool_index is None else graph.nodes[pool_index]
        dst = buffers[(pool or node).output, None]
        job = conv_job(config, node, pool, graph, src, dst, weight, bias, requant, constant,
                       const_addr)
        if builder is None:
            builder = ProgramBuilder()
        start = len(builder.program)
        try:
            macs = plan_conv(config, builder, job, tag=len(info))
        except ValueError as exc:
            raise ValueError(f"{node.name}: {exc}") from None
        if macs is None:
            return None
        if index not in step_nodes:
            step_nodes.append(index)
        return macs, _Span(builder, start, len(builder.program))

    def dense_step(index: int, node: Dense, src: Buffer, dst: Buffer, bias, requant):
        """The node by `plan_dense` (transposed, input column resident), or None."""
        nonlocal builder
        k, n = node.weight.shape
        w_addr = constant(tile_major(node.weight, config.rows), f"{node.name}'s weights")
        bias_addr = constant(as_bytes(bias, "<i4"), f"{node.name}'s bias")
        job = DenseJob(k, n, src.origin, w_addr, bias_addr, requant, dst.origin, dst.item)
        if builder is None:
            builder = ProgramBuilder()
        start = len(builder.program)
        macs = plan_dense(config, builder, job)
        if macs is None:
            return None
        if index not in step_nodes:
            step_nodes.append(index)
        return macs, _Span(builder, start, len(builder.program))

    consts: dict = {}

    def const_addr() -> int:
        if "row" not in consts:
            consts["row"] = constant(as_bytes(const_row(config.rows), "i1"), "a constant row")
        return consts["row"]

    copies(0, graph.input)  # a padded input copy belongs to the first step
    done: set = set()       # pools computed by their conv's store
    for index, node in enumerate(graph.nodes):
        out_t = graph.tensors[node.output]
        if index in done:
            info.append(LayerInfo(node.name, type(node).__name__, out_t.shape, 0, 0, "accel",
                                  (), f"fused into {graph.nodes[index - 1].name}'s store"))
            copies(index, node.output)
            continue
        accel_macs, where, cmds, note = 0, "host", (), ""
        if isinstance(node, Conv2D) and config.dataflow is Dataflow.WS:
            zx = graph.tensors[node.input].zero_point
            weight = dense_weight(node)
            bias = fold_bias(node.name, node.bias, weight, zx)
            requant = _requant(node, lambda d: constant(d, f"{node.name}'s requantization"))
            pool_index = fused.get(index)
            result = conv_step(index, node, weight, bias, requant, pool_index)
            if result is None and pool_index is not None:
                add_primary(node.output)    # the pool stays on the host
                unstored.discard(node.output)
                pool_index = None
                result = conv_step(index, node, weight, bias, requant, None)
            if result is not None:
                accel_macs, cmds = result
                if pool_index is not None:
                    done.add(pool_index)
                    note = f"+ {graph.nodes[pool_index].name} fused"
                info.append(LayerInfo(node.name, "Conv2D", out_t.shape,
                                      _node_macs(graph, node), accel_macs, "accel", cmds, note))
                if pool_index is None:
                    copies(index, node.output)
                continue
        dst = buffers[node.output, None]
        if isinstance(node, (Conv2D, Dense)):
            src = source(node, node.input)
            zx = graph.tensors[node.input].zero_point
            if isinstance(node, Conv2D):
                weight = dense_weight(node)
            else:
                weight = node.weight
            bias = fold_bias(node.name, node.bias, weight, zx)
            requant = _requant(node, lambda d: constant(d, f"{node.name}'s requantization"))
            transposed = isinstance(node, Dense) and config.dataflow is Dataflow.WS \
                and not isinstance(requant, ChannelRequant)
            if transposed:
                dense = dense_step(index, node, src, dst, bias, requant)
                if dense is not None:
                    accel_macs, cmds = dense
                    info.append(LayerInfo(node.name, "Dense", out_t.shape,
                                          _node_macs(graph, node), accel_macs, "accel", cmds))
                    copies(index, node.output)
                    continue
            w_addr = constant(as_bytes(weight.T if transposed else weight, "i1"),
                              f"{node.name}'s weights")
            bias_addr = constant(as_bytes(bias, "<i4"), f"{node.name}'s bias")
            if isinstance(node, Conv2D):
                gemms = conv_gemms(node, src, dst, w_addr, bias_addr, requant)
            else:
                gemms = [dense_gemm(node, src, dst, w_addr, bias_addr, requant, transposed)]
            cmds = run_gemms(index, gemms, node.name)
            where, accel_macs = "accel", sum(gemm_macs(g) for g in gemms)
        else:
            flush()
            steps.append(HostStep(_host_op(graph, node, source, dst, constant, as_bytes),
                                  index))
            note = _host_reason(graph, node)
        info.append(LayerInfo(node.name, type(node).__name__, out_t.shape,
                              _node_macs(graph, node), accel_macs, where, cmds, note))
        copies(index, node.output)
    flush()
    codes, origin = None, buffers[graph.input, None]
    if pixel_codes and origin.pads == (0, 0, 0, 0):
        codes = input_codes(graph, config)
    if codes is not None:
        steps = list(apply_input_codes(tuple(steps), config, origin.addr,
                                       origin.addr + origin.size + SLACK, codes))
    mem_size = align_up(alloc.end)
    if mem_size > config.mem_size_limit:
        raise ValueError(f"the graph needs {mem_size} bytes of main memory; the bus addresses "
                         f"only {config.mem_size_limit}")
    return CompiledGraph(config, graph, base, tuple(steps), tuple(constants), mem_size,
                         buffers[graph.input, None].origin, buffers[graph.output, None].origin,
                         {t: b for (t, k), b in buffers.items() if k is None}, tuple(info),
                         codes)


@dataclass(frozen=True)
class _Span:
    """Commands ``[start, end)`` of a builder's program, until `_settle` knows which of them
    a later job emitted for an earlier one."""

    builder: ProgramBuilder
    start: int
    end: int


def _settle(info: list, builder: ProgramBuilder) -> None:
    """Replace each `_Span` of ``builder`` in ``info`` by its commands: its own range without
    the stores emitted there for other layers, plus those emitted elsewhere for it."""
    moved = moved_stores(builder)
    foreign = {j: tag for tag, a, b in moved for j in range(a, b)}
    for i, row in enumerate(info):
        span = row.commands
        if not isinstance(span, _Span) or span.builder is not builder:
            continue
        own = {j for j in range(span.start, span.end) if foreign.get(j, i) == i}
        own |= {j for tag, a, b in moved if tag == i for j in range(a, b)}
        info[i] = replace(row, commands=tuple(builder.program[j] for j in sorted(own)))


def _host_reason(graph: Graph, node) -> str:
    """Why a pooling node runs on the host (the compile table's note)."""
    if not isinstance(node, (MaxPool, AvgPool)):
        return ""
    if any(node.pads):
        return "padded pool: host"
    producer = graph.producer(node.input)
    if not isinstance(producer, Conv2D):
        return "not after a conv: host"
    return "not fusable here: host"


def _requant_of(rq: Requantize) -> Requant:
    return Requant(int(rq.multiplier[0]), int(rq.shift[0]), rq.zero_point, rq.relu)


def _node_macs(graph: Graph, node) -> int:
    if isinstance(node, Conv2D):
        oh, ow, cout = graph.tensors[node.output].shape
        return oh * ow * cout * int(np.prod(node.weight.shape[:3]))
    if isinstance(node, Dense):
        return int(node.weight.size)
    return 0


def _host_op(graph: Graph, node, source, dst: Buffer, constant, as_bytes):
    """The host operation of a pooling or addition node."""
    if isinstance(node, MaxPool):
        src = source(node, node.input)
        h, w, c = src.shape
        top, left, bottom, right = node.pads
        return MaxPoolOp(src.pixel(-top, -left), src.pitch, h + top + bottom, w + left + right,
                         c, *node.kernel, *node.stride, dst.origin, dst.pitch)
    if isinstance(node, AvgPool):
        src = source(node, node.input)
        table = constant(AvgPoolOp.table_bytes(node.multiplier, node.shift),
                         f"{node.name}'s divisor table")
        return AvgPoolOp(src.origin, src.pitch, *src.shape, *node.kernel, *node.stride,
                         *node.pads, int(node.count_include_pad),
                         graph.tensors[node.input].zero_point,
                         graph.tensors[node.output].zero_point, table, dst.origin, dst.pitch)
    assert isinstance(node, Add)
    a, b = source(node, node.a), source(node, node.b)
    h, w, c = dst.shape
    return AddOp(a.origin, a.pitch, b.origin, b.pitch, h, w, c,
                 graph.tensors[node.a].zero_point, graph.tensors[node.b].zero_point,
                 node.multiplier_a, node.multiplier_b, node.shift,
                 graph.tensors[node.output].zero_point, int(node.relu), dst.origin, dst.pitch)
