"""The GEMMs of a graph's accelerator nodes: convolutions, dense layers and identity copies.

A convolution is one GEMM whose A operand is ``kh`` strided DMA views of its input buffer (one
`APart` per kernel row, no im2col copy): with the padded input stored ``P`` pixels per row and
stride ``(sh, sw)``, GEMM row ``r = y * Q + x`` with ``Q = sh * P / sw`` reads, for kernel row
``i``, the ``kw * cin`` bytes from padded pixel ``(sh * y + i, sw * x)`` when each part has a row
stride of ``sw * cin`` bytes. Rows with ``x >= ow`` straddle two image rows; they are computed
but not stored (`Gemm.c_rows`). When ``Q`` is not a whole number of rows, each output row is its
own GEMM. Grouped and depthwise convolutions run as one GEMM with a block-diagonal weight.

The input zero point folds into the bias: ``bias' = bias - zx * sum_k weight[k, o]``, so the
accelerator multiplies raw int8 values (padding reads ``zx`` and contributes exactly 0).
"""

from __future__ import annotations

import numpy as np

from accel.compiler.conv_tiles import ConvJob, PoolSpec, bias_digits
from accel.compiler.graph import AvgPool, Conv2D, Dense, Graph, MaxPool, Requantize
from accel.compiler.layout import Buffer
from accel.compiler.tiler import APart, Gemm
from accel.config import AccelConfig, Dataflow

__all__ = ["dense_weight", "fold_bias", "conv_gemms", "dense_gemm", "copy_gemm", "gemm_macs",
           "COPY_REQUANT", "fusable_pool", "conv_job"]

#: An exact copy through the activation unit: x * 2**30 >> 30 = x, zero point 0, no ReLU.
COPY_REQUANT = Requantize([1 << 30], [30])


def dense_weight(node: Conv2D) -> np.ndarray:
    """The convolution's weight as the ``(kh * kw * cin, cout)`` B matrix, rows in (i, j, c)
    order; a grouped convolution's is block-diagonal (zero outside each group)."""
    kh, kw, cin_g, cout = node.weight.shape
    if node.groups == 1:
        return node.weight.reshape(kh * kw * cin_g, cout)
    cin, cout_g = cin_g * node.groups, cout // node.groups
    full = np.zeros((kh, kw, cin, cout), dtype=np.int64)
    for g in range(node.groups):
        full[:, :, g * cin_g:(g + 1) * cin_g, g * cout_g:(g + 1) * cout_g] = \
            node.weight[..., g * cout_g:(g + 1) * cout_g]
    return full.reshape(kh * kw * cin, cout)


def fold_bias(name: str, bias: np.ndarray, weight: np.ndarray, zero_point: int) -> np.ndarray:
    """``bias - zero_point * column sums of weight`` as int64, checked to fit int32.

    Raises
    ------
    ValueError
        If a folded bias leaves the int32 range.
    """
    folded = np.asarray(bias, dtype=np.int64) - zero_point * weight.sum(axis=0, dtype=np.int64)
    if folded.size and (folded.min() < -(1 << 31) or folded.max() >= 1 << 31):
        raise ValueError(f"{name}: the bias with the input zero point folded in leaves int32")
    return folded


def conv_gemms(node: Conv2D, src: Buffer, dst: Buffer, b_addr: int, bias_addr: int,
               requant) -> list[Gemm]:
    """The GEMMs of ``node`` reading ``src`` (whose border holds at least the node's pads) and
    storing the valid pixels into ``dst``."""
    kh, kw, _, cout = node.weight.shape
    h, w, cin = src.shape
    top, left, _, _ = node.pads
    sh, sw = node.stride
    oh, ow, _ = dst.shape
    pitch = src.pitch
    row = pitch * cin  # bytes per stored input row
    origin = src.pixel(-top, -left)
    c_pitch = dst.pitch * cout

    def parts(first_row: int) -> tuple[APart, ...]:
        return tuple(APart(origin + (first_row + i) * row, sw * cin, kw * cin)
                     for i in range(kh))

    if (sh * pitch) % sw == 0:
        q = sh * pitch // sw
        m = (oh - 1) * q + ow
        return [Gemm(m, cout, parts(0), b_addr, cout, dst.origin, cout, bias_addr, requant,
                     c_rows=(q, ow, c_pitch))]
    return [Gemm(ow, cout, parts(sh * y), b_addr, cout, dst.pixel(y, 0), cout, bias_addr,
                 requant) for y in range(oh)]


def dense_gemm(node: Dense, src: Buffer, dst: Buffer, w_addr: int, bias_addr: int, requant,
               transposed: bool) -> Gemm:
    """The GEMM of ``node`` on its packed input: ``1 x k @ k x n`` with the weight at ``w_addr``
    (k x n), or with ``transposed`` the weights (n x k at ``w_addr``) as A rows against the
    input as a stationary column and a per-row bias."""
    k, n = node.weight.shape
    if transposed:
        return Gemm(n, 1, (APart(w_addr, k, k),), src.origin, 1, dst.origin, dst.item,
                    bias_addr, requant, bias_per_row=True)
    return Gemm(1, n, (APart(src.origin, k, k),), w_addr, n, dst.origin, n * dst.item,
                bias_addr, requant)


def copy_gemm(src: Buffer, dst: Buffer, eye_addr: int, requant) -> Gemm:
    """An exact copy of ``src``'s valid pixels into ``dst`` (another layout of the same tensor):
    rows of ``src`` times the ``c x c`` identity at ``eye_addr``, through ``COPY_REQUANT``."""
    h, w, c = src.shape
    m = (h - 1) * src.pitch + w
    return Gemm(m, c, (APart(src.origin, c, c),), eye_addr, c, dst.origin, c, None, requant,
                c_rows=(src.pitch, w, dst.pitch * c))


def gemm_macs(gemm: Gemm) -> int:
    """Multiply-accumulates the accelerator spends on ``gemm`` (padding rows included)."""
    return gemm.m * gemm.k * gemm.n


def fusable_pool(graph: Graph, config: AccelConfig, index: int) -> int | None:
    """The index of the pool fused into node ``index``'s store, or None: a weight-stationary
    `Conv2D` with stride ``(sh, 1)`` whose output only an unpadded `MaxPool` or `AvgPool` (the
    next node) reads, with windows and strides of at most 16 and at most 256 pooled columns."""
    node = graph.nodes[index]
    if config.dataflow is not Dataflow.WS or not isinstance(node, Conv2D) \
            or node.stride[1] != 1 or node.output == graph.output \
            or index + 1 >= len(graph.nodes):
        return None
    pool = graph.nodes[index + 1]
    if not isinstance(pool, (MaxPool, AvgPool)) or pool.input != node.output or any(pool.pads) \
            or graph.consumers(node.output) != [pool] \
            or max(pool.kernel + pool.stride) > 16 \
            or graph.tensors[pool.output].shape[1] > 256:
        return None
    return index + 1


def conv_job(config: AccelConfig, node: Conv2D, pool, graph: Graph, src: Buffer, dst: Buffer,
             weight: np.ndarray, bias: np.ndarray, requant, constant, const_addr) -> ConvJob:
    """The `ConvJob` of ``node`` (and of the fused ``pool``, or None) reading ``src`` and
    storing into ``dst``: writes the weights and bias digits (or the int32 bias) through
    ``constant(bytes, what) -> address``; ``const_addr()`` places the constant A row."""
    kh, kw, _, cout = node.weight.shape
    top, left, _, _ = node.pads
    oh, ow, _ = graph.tensors[node.output].shape
    digits = bias_digits(bias, config.rows)
    rows = weight if digits is None else np.concatenate([weight, digits.astype(np.int64)])
    w_addr = constant(np.ascontiguousarray(rows, dtype="i1").view(np.uint8),
                      f"{node.name}'s weights")
    bias_addr = None
    if digits is None:
        bias_addr = constant(np.ascontiguousarray(bias, dtype="<i4").view(np.uint8),
                             f"{node.name}'s bias")
    spec = None
    if pool is not None:
        ph, pw, _ = graph.tensors[pool.output].shape
        avg = isinstance(pool, AvgPool)
        window = pool.kernel[0] * pool.kernel[1]
        spec = PoolSpec(pool.kernel, pool.stride, ph, pw, avg,
                        int(pool.multiplier[window - 1]) if avg else 1,
                        int(pool.shift[window - 1]) if avg else 0,
                        graph.tensors[pool.output].zero_point if avg else 0)
    return ConvJob(src.pixel(-top, -left), src.pitch, src.shape[2], (kh, kw), node.stride, oh,
                   ow, cout, w_addr, 0 if digits is None else digits.shape[0],
                   digits is not None, bias_addr, const_addr() if digits is not None
                   and digits.shape[0] else 0, requant, dst.origin, dst.pitch, spec)
