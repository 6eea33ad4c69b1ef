"""`emit_gemm`: GEMMs over strided, overlapping operand views, checked on the golden model."""

import numpy as np
import pytest

from accel.config import AccelConfig
from accel.golden import GoldenModel
from accel.compiler.tiler import APart, Gemm, ProgramBuilder, Requant, emit_gemm
from accel.golden.arith import activate

CONFIGS = [
    AccelConfig(rows=4, cols=4, dataflow="ws", sp_kib=1, acc_kib=1, sp_banks=1, acc_banks=1),
    AccelConfig(rows=3, cols=5, dataflow="os", sp_kib=1, acc_kib=1, sp_banks=1, acc_banks=1),
    AccelConfig(rows=1, cols=1, dataflow="ws", sp_kib=1, acc_kib=1, sp_banks=1, acc_banks=1),
    AccelConfig(rows=2, cols=7, dataflow="ws"),
]


def _run(config, gemm, mem):
    builder = ProgramBuilder()
    emit_gemm(config, builder, gemm)
    builder.op("fence")
    model = GoldenModel(config, mem_size=mem.size)
    model.mem[:] = mem
    model.run(builder.program)
    return model.mem


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: f"{c.rows}x{c.cols}-{c.dataflow}")
@pytest.mark.parametrize("h,w,cin,cout,kh,kw", [(9, 7, 1, 3, 3, 3), (6, 6, 3, 5, 2, 3),
                                                 (4, 5, 2, 1, 1, 1), (3, 3, 1, 1, 3, 3)])
def test_convolution_as_overlapping_views(config, h, w, cin, cout, kh, kw):
    """The compiler's im2col-by-DMA: kh parts reading the image at a stride of one pixel."""
    rng = np.random.default_rng(h * w + cin)
    image = rng.integers(-128, 128, (h, w, cin))
    weight = rng.integers(-128, 128, (kh, kw, cin, cout))
    bias = rng.integers(-5000, 5000, cout)
    oh, ow = h - kh + 1, w - kw + 1
    m = (oh - 1) * w + ow
    mem = np.zeros(4096, np.uint8)
    mem[0:image.size] = image.astype(np.int8).reshape(-1).view(np.uint8)
    b_addr, bias_addr, c_addr = 1024, 2048, 2304
    mem[b_addr:b_addr + weight.size] = weight.astype(np.int8).reshape(-1).view(np.uint8)
    mem[bias_addr:bias_addr + 4 * cout] = bias.astype("<i4").view(np.uint8)
    parts = [APart(i * w * cin, cin, kw * cin) for i in range(kh)]
    requant = Requant(multiplier=1 << 30, shift=40, relu=True)
    out = _run(config, Gemm(m, cout, parts, b_addr, cout, c_addr, cout, bias_addr, requant), mem)
    got = out[c_addr:c_addr + m * cout].view(np.int8).reshape(m, cout)
    acc = np.zeros((oh, ow, cout), np.int64)
    for i in range(kh):
        for j in range(kw):
            acc += np.einsum("hwc,cn->hwn", image[i:i + oh, j:j + ow], weight[i, j])
    want = activate(acc + bias, multiplier=1 << 30, shift=40, relu=True, zero_point=0,
                    acc_width=32, out_width=8)
    rows = np.array([y * w + x for y in range(oh) for x in range(ow)])
    np.testing.assert_array_equal(got[rows].reshape(oh, ow, cout), want)


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: f"{c.rows}x{c.cols}-{c.dataflow}")
def test_matrix_vector_with_per_row_bias(config):
    rng = np.random.default_rng(3)
    m, k = 37, 45
    a = rng.integers(-128, 128, (m, k))
    x = rng.integers(-128, 128, k)
    bias = rng.integers(-10**6, 10**6, m)
    mem = np.zeros(4096, np.uint8)
    mem[0:a.size] = a.astype(np.int8).reshape(-1).view(np.uint8)
    mem[2048:2048 + k] = x.astype(np.int8).view(np.uint8)
    mem[2304:2304 + 4 * m] = bias.astype("<i4").view(np.uint8)
    gemm = Gemm(m, 1, [APart(0, k, k)], 2048, 1, 2560, 4, 2304, bias_per_row=True)
    out = _run(config, gemm, mem)
    np.testing.assert_array_equal(out[2560:2560 + 4 * m].view("<i4"), a @ x + bias)


def test_bad_gemms_are_rejected():
    config = CONFIGS[0]
    with pytest.raises(ValueError, match="per-row bias needs n == 1"):
        Gemm(4, 2, [APart(0, 4, 4)], 0, 2, 0, 8, 0, bias_per_row=True)
    with pytest.raises(ValueError, match="at least one part"):
        Gemm(4, 2, [], 0, 2, 0, 8)
    with pytest.raises(ValueError, match="m must be a positive integer"):
        Gemm(0, 2, [APart(0, 4, 4)], 0, 2, 0, 8)
    with pytest.raises(ValueError, match="outside"):
        emit_gemm(config, ProgramBuilder(), Gemm(4, 2, [APart(config.mem_size_limit - 8, 4, 4)],
                                                 0, 2, 0, 8))
