"""Compile a `QuantizedNetwork` into accelerator programs, host steps and a memory image.

Every matrix product goes through the tiler (`accel.compiler.tiler.emit_gemm`):

* `Dense` is a 1-row GEMM: the flattened input (1 x K) times the weight matrix (K x N).
* `Conv2D` is an im2col GEMM done by the DMA, with no copy: with the input stored as HWC rows of
  ``pitch`` pixels, output pixel ``r = y * pitch + x`` needs, for kernel row ``i``, the
  ``kw * cin`` contiguous bytes from pixel ``r + i * pitch``. So the im2col matrix is ``kh``
  strided views of the input (one `APart` per kernel row, row stride ``cin`` bytes) and the
  whole convolution is one GEMM with ``M = (oh - 1) * pitch + ow`` rows. Rows with
  ``x >= ow`` straddle two image rows and are computed but never read: the output keeps the
  input's pitch, and a following convolution or pooling only reads the valid pixels.
* `MaxPool2D` is a host step (`accel.compiler.hostops.MaxPool`) that also packs the tensor (pitch =
  width), which a `Dense` layer needs.

Consecutive accelerator layers share one program; each program ends with a fence, so the host
step that follows sees its results. Buffers are allocated once, from ``base``, so one compiled
network serves any number of images: write the quantized input at `input_addr`, run the steps,
read ``classes`` int32 logits at `logits_addr`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from accel.arch.microarch import align_up
from accel.config import AccelConfig, Dataflow
from accel.compiler.hostops import MaxPool
from accel.compiler.steps import AccelStep, HostStep
from accel.compiler.tiler import APart, Gemm, ProgramBuilder, emit_gemm
from accel.nn.network import Conv2D, Dense, MaxPool2D, QuantizedNetwork, quantize_input

__all__ = ["AccelStep", "HostStep", "CompiledNetwork", "compile_network"]


@dataclass(frozen=True)
class _Tensor:
    addr: int
    shape: tuple[int, ...]
    pitch: int  # stored pixels per row (3-D tensors)

    @property
    def packed(self) -> bool:
        return len(self.shape) == 1 or self.pitch == self.shape[1]


@dataclass(frozen=True, eq=False)
class CompiledNetwork:
    """Steps plus main-memory layout of one network for one configuration.

    Members
    -------
    constants : list of (address, uint8 array)
        Weights and biases; `memory_image` places them.
    mem_size : int
        End of the last buffer (the main memory it needs).
    input_addr : int
        Where the int8 input tensor goes (``28 * 28`` bytes, HWC).
    logits_addr : int
        Where the last program leaves ``classes`` little-endian int32 logits.
    """

    config: AccelConfig
    network: QuantizedNetwork
    base: int
    steps: tuple[AccelStep | HostStep, ...]
    constants: tuple[tuple[int, np.ndarray], ...]
    mem_size: int
    input_addr: int
    logits_addr: int

    @property
    def classes(self) -> int:
        return self.network.classes

    @property
    def commands(self) -> int:
        return sum(len(s.commands) for s in self.steps if isinstance(s, AccelStep))

    def memory_image(self) -> np.ndarray:
        """Main memory ``[0, mem_size)`` holding the constants (zero elsewhere)."""
        mem = np.zeros(self.mem_size, dtype=np.uint8)
        for addr, data in self.constants:
            mem[addr:addr + data.size] = data
        return mem

    def input_bytes(self, image: np.ndarray) -> np.ndarray:
        """The bytes to write at `input_addr` for one uint8 ``(28, 28)`` image."""
        x = quantize_input(image, self.network.input_shift)
        if x.shape != self.network.input_shape:
            raise ValueError(f"the network takes {self.network.input_shape[:2]} images, "
                             f"not {np.shape(image)}")
        return x.astype(np.int8).reshape(-1).view(np.uint8)

    def read_logits(self, mem: np.ndarray | bytes) -> np.ndarray:
        raw = np.frombuffer(bytes(mem[self.logits_addr:self.logits_addr + 4 * self.classes])
                            if not isinstance(mem, bytes) else mem, dtype="<i4")
        return raw.astype(np.int32)


class _Allocator:
    def __init__(self, base: int, limit: int) -> None:
        self.end = base
        self.limit = limit

    def take(self, size: int) -> int:
        addr = align_up(self.end)
        self.end = addr + size
        if self.end > self.limit:
            raise ValueError(f"the network needs more than {self.limit} bytes of main memory "
                             f"(the bus addresses only {self.limit})")
        return addr


def _check_config(config: AccelConfig) -> None:
    if config.input_width != 8 or config.acc_width != 32:
        raise ValueError(f"networks are int8 with int32 accumulators; this configuration has "
                         f"input_width {config.input_width} and acc_width {config.acc_width}")


def compile_network(network: QuantizedNetwork, config: AccelConfig, *,
                    base: int = 0) -> CompiledNetwork:
    """Compile ``network`` for ``config`` with every buffer at or above ``base``.

    Raises
    ------
    ValueError
        When the configuration's widths do not match the network, a `Dense` layer follows a
        convolution directly (its input would not be packed), or the buffers do not fit the
        addressable memory.
    """
    _check_config(config)
    if isinstance(base, bool) or not isinstance(base, int) or base < 0:
        raise ValueError(f"base must be a non-negative integer, not {base!r}")
    alloc = _Allocator(base, config.mem_size_limit)
    constants: list[tuple[int, np.ndarray]] = []

    def constant(values: np.ndarray, dtype: str) -> int:
        data = np.ascontiguousarray(values, dtype=dtype).reshape(-1).view(np.uint8)
        addr = alloc.take(data.size)
        constants.append((addr, data))
        return addr

    h, w, c = network.input_shape
    x = _Tensor(alloc.take(h * w * c), (h, w, c), w)
    input_addr = x.addr
    steps: list[AccelStep | HostStep] = []
    builder: ProgramBuilder | None = None
    layers: list[int] = []

    def flush() -> None:
        nonlocal builder, layers
        if builder is not None:
            builder.op("fence")
            steps.append(AccelStep(tuple(builder.program), tuple(layers)))
        builder, layers = None, []

    for index, layer in enumerate(network.layers):
        if isinstance(layer, MaxPool2D):
            flush()
            oh, ow, oc = layer.output_shape(x.shape)
            dst = alloc.take(oh * ow * oc)
            steps.append(HostStep(MaxPool(x.addr, x.pitch, x.shape[0], x.shape[1], x.shape[2],
                                          layer.size, dst), index))
            x = _Tensor(dst, (oh, ow, oc), ow)
            continue
        if builder is None:
            builder = ProgramBuilder()
        layers.append(index)
        bias_addr = constant(layer.bias, "<i4")
        if isinstance(layer, Conv2D):
            b_addr = constant(layer.weight.reshape(-1, layer.weight.shape[-1]), "i1")
            kh, kw, cin, cout = layer.weight.shape
            oh, ow, _ = layer.output_shape(x.shape)
            m = (oh - 1) * x.pitch + ow
            parts = tuple(APart(x.addr + i * x.pitch * cin, cin, kw * cin) for i in range(kh))
            out = _Tensor(alloc.take(m * cout), (oh, ow, cout), x.pitch)
            gemm = Gemm(m, cout, parts, b_addr, cout, out.addr, cout, bias_addr, layer.requant)
        else:
            assert isinstance(layer, Dense)
            if not x.packed:
                raise ValueError(f"layer {index}: a Dense layer cannot follow a convolution "
                                 "directly (put a pooling layer between them)")
            k, n = layer.weight.shape
            out_bytes = 1 if layer.requant is not None else 4
            out = _Tensor(alloc.take(n * out_bytes), (n,), n)
            if config.dataflow is Dataflow.WS:
                # y^T = W^T x^T: the weights stream as A rows and the input is the stationary
                # column, so one preload serves all n outputs instead of one output row.
                w_addr = constant(layer.weight.T, "i1")
                gemm = Gemm(n, 1, (APart(w_addr, k, k),), x.addr, 1, out.addr, out_bytes,
                            bias_addr, layer.requant, bias_per_row=True)
            else:
                w_addr = constant(layer.weight, "i1")
                gemm = Gemm(1, n, (APart(x.addr, k, k),), w_addr, n, out.addr,
                            n * out_bytes, bias_addr, layer.requant)
        emit_gemm(config, builder, gemm)
        x = out
    flush()
    mem_size = align_up(alloc.end)
    if mem_size > config.mem_size_limit:
        raise ValueError(f"the network needs {mem_size} bytes of main memory; the bus "
                         f"addresses only {config.mem_size_limit}")
    return CompiledNetwork(config, network, base, tuple(steps), tuple(constants), mem_size,
                           input_addr, x.addr)
