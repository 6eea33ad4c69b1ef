"""`emit_gemm` with segmented output rows (``Gemm.c_rows``): only the valid rows of each period
are stored, each at its row pitch; everything else in memory stays untouched (golden model)."""

import numpy as np
import pytest

from accel.compiler.tiler import APart, Gemm, ProgramBuilder, Requant, emit_gemm
from accel.config import AccelConfig
from accel.golden import GoldenModel

CONFIGS = {
    "4x4ws": AccelConfig(rows=4, cols=4, sp_kib=1, acc_kib=1, sp_banks=1, acc_banks=1),
    "2x3os": AccelConfig(rows=2, cols=3, dataflow="os", sp_kib=1, acc_kib=1, sp_banks=1,
                         acc_banks=1),
    "1x1ws": AccelConfig(rows=1, cols=1, sp_kib=1, acc_kib=1, sp_banks=1, acc_banks=1),
}


@pytest.mark.parametrize("requant", [True, False])
@pytest.mark.parametrize("m, k, n, period, valid", [
    (23, 5, 6, 7, 4), (9, 3, 2, 3, 3), (40, 8, 5, 10, 1), (5, 2, 3, 8, 6)])
@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_segmented_rows(name, m, k, n, period, valid, requant):
    config = CONFIGS[name]
    rng = np.random.default_rng(m * 31 + n * 7 + period)
    a = rng.integers(-128, 128, (m, k))
    b = rng.integers(-128, 128, (k, n))
    out_bytes = 1 if requant else 4
    row_pitch = valid * n * out_bytes + 3 * out_bytes  # 3 pad elements between output rows
    a_addr, b_addr, c_addr, size = 0, 512, 1024, 4096
    rq = Requant(1 << 30, 36) if requant else None
    gemm = Gemm(m, n, (APart(a_addr, k, k),), b_addr, n, c_addr, n * out_bytes, None, rq,
                c_rows=(period, valid, row_pitch))
    builder = ProgramBuilder()
    emit_gemm(config, builder, gemm)
    model = GoldenModel(config, mem_size=size)
    model.mem[:] = rng.integers(0, 256, size).astype(np.uint8)
    model.mem[a_addr:a_addr + a.size] = a.astype(np.int8).view(np.uint8).ravel()
    model.mem[b_addr:b_addr + b.size] = b.astype(np.int8).view(np.uint8).ravel()
    before = model.mem.copy()
    model.run(builder.program)
    acc = a @ b
    want = np.clip((acc >> 6) + ((acc >> 5) & 1), -128, 127) if requant else acc
    written = np.zeros(size, bool)
    for r in range(m):
        addr = gemm.c_row_addr(r)
        if r % period >= valid:
            assert addr is None
            continue
        assert addr == c_addr + (r // period) * row_pitch + (r % period) * n * out_bytes
        raw = model.mem[addr:addr + n * out_bytes]
        got = raw.view(np.int8 if requant else "<i4")
        np.testing.assert_array_equal(got, want[r])
        written[addr:addr + n * out_bytes] = True
    np.testing.assert_array_equal(model.mem[~written], before[~written])


@pytest.mark.parametrize("rows", [(0, 0, 0), (3, 4, 0), (3, 2, -1), (3, 2), (3, True, 4)])
def test_bad_row_mapping(rows):
    with pytest.raises(ValueError, match="c_rows"):
        Gemm(4, 1, (APart(0, 1, 1),), 0, 1, 0, 1, c_rows=rows)


def test_extent_check_uses_the_last_stored_row():
    config = CONFIGS["4x4ws"]
    limit = config.mem_size_limit
    # 8 rows, period 4, 2 valid: the last stored row is row 5, at c_addr + 1 * pitch + 1
    gemm = Gemm(8, 1, (APart(0, 1, 1),), 0, 1, limit - 100, 1, None, Requant(),
                c_rows=(4, 2, 98))
    emit_gemm(config, ProgramBuilder(), gemm)  # last byte at limit - 1: fits
    bad = Gemm(8, 1, (APart(0, 1, 1),), 0, 1, limit - 99, 1, None, Requant(),
               c_rows=(4, 2, 98))
    with pytest.raises(ValueError, match="outside"):
        emit_gemm(config, ProgramBuilder(), bad)
