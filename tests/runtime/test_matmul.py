"""accel.runtime.matmul on the golden backend against plain NumPy integer math."""

import numpy as np
import pytest

from accel.config import AccelConfig
from accel.golden import activate
from accel.isa import decode
from accel.runtime.matmul import matmul
from accel.compiler.tiler import Requant, plan_matmul


def _config(rows, cols, dataflow, **kw):
    kw.setdefault("sp_kib", 4)
    kw.setdefault("acc_kib", 4)
    return AccelConfig(rows=rows, cols=cols, dataflow=dataflow, sp_banks=1, acc_banks=1, **kw)


@pytest.mark.slow
@pytest.mark.parametrize("chunk", range(4))
def test_random_shapes_match_numpy(chunk):
    """220 random cases: M, K, N in 1..70, rows, cols in 1..9, both dataflows."""
    rng = np.random.default_rng(1000 + chunk)
    for case in range(55):
        rows, cols = (int(x) for x in rng.integers(1, 10, 2))
        dataflow = ("ws", "os")[case % 2]
        m, k, n = (int(x) for x in rng.integers(1, 71, 3))
        a = rng.integers(-128, 128, (m, k))
        b = rng.integers(-128, 128, (k, n))
        result, stats = matmul(a, b, config=_config(rows, cols, dataflow), return_stats=True)
        assert result.dtype == np.int32
        np.testing.assert_array_equal(result, a @ b, err_msg=f"{rows}x{cols} {dataflow} "
                                                             f"{m}x{k}x{n}")
        assert stats.macs == m * k * n
        assert stats.instructions > 0 and stats.cycles is None


@pytest.mark.parametrize("dataflow", ["ws", "os"])
@pytest.mark.parametrize("shape", [(1, 1, 1), (1, 70, 1), (70, 1, 70), (17, 33, 9)])
def test_edge_shapes_extreme_values(dataflow, shape):
    m, k, n = shape
    a = np.full((m, k), -128)
    b = np.full((k, n), -128)
    result = matmul(a, b, config=_config(4, 3, dataflow))
    np.testing.assert_array_equal(result, a @ b)


@pytest.mark.slow
@pytest.mark.parametrize("dataflow", ["ws", "os"])
def test_bias_and_requant_path(dataflow):
    rng = np.random.default_rng(7)
    config = _config(4, 5, dataflow)
    for case in range(12):
        m, k, n = (int(x) for x in rng.integers(1, 40, 3))
        a = rng.integers(-128, 128, (m, k))
        b = rng.integers(-128, 128, (k, n))
        bias = rng.integers(-(1 << 20), 1 << 20, n)
        raw = matmul(a, b, config=config, bias=bias)
        np.testing.assert_array_equal(raw, a @ b + bias)
        rq = Requant(multiplier=int(rng.integers(1, 1 << 31)), shift=int(rng.integers(25, 40)),
                     zero_point=int(rng.integers(-10, 10)), relu=bool(case % 2))
        out = matmul(a, b, config=config, bias=bias, requant=rq)
        assert out.dtype == np.int8
        expected = activate(a @ b + bias, multiplier=rq.multiplier, shift=rq.shift,
                            relu=rq.relu, zero_point=rq.zero_point, acc_width=32, out_width=8)
        np.testing.assert_array_equal(out, expected)


def test_accumulator_wraps_with_narrow_acc_width():
    config = _config(2, 2, "ws", input_width=8, acc_width=16)
    a = np.full((3, 40), 127)
    b = np.full((40, 2), 127)
    result = matmul(a, b, config=config)
    expected = ((a @ b + (1 << 15)) % (1 << 16)) - (1 << 15)
    np.testing.assert_array_equal(result, expected)


@pytest.mark.parametrize("dataflow", ["ws", "os"])
def test_program_respects_limits(dataflow):
    """Every command decodes, and the tile shapes stay within the dataflow's limits."""
    config = _config(3, 5, dataflow)
    plan = plan_matmul(config, 300, 70, 11, bias=True, requant=Requant(relu=True))
    m_max, k_max, n_max = config.tile_limits
    weights = None
    for cmd in plan.program:
        ins, ops = decode(cmd)
        if ins.name == "preload":
            weights = ops
            assert ops["k"] <= k_max and ops["n"] <= n_max
        if ins.name.startswith("compute"):
            assert weights is not None and ops["m"] <= m_max


def test_default_config_large_gemm():
    rng = np.random.default_rng(3)
    a = rng.integers(-128, 128, (130, 70))
    b = rng.integers(-128, 128, (70, 50))
    np.testing.assert_array_equal(matmul(a, b), a @ b)


@pytest.mark.parametrize("bad, message", [
    (dict(a=np.zeros((2, 3), dtype=int), b=np.zeros((4, 2), dtype=int)), "inner dimensions"),
    (dict(a=np.zeros(3, dtype=int), b=np.zeros((3, 2), dtype=int)), "2-D"),
    (dict(a=np.full((2, 2), 200), b=np.zeros((2, 2), dtype=int)), "between -128 and 127"),
    (dict(a=np.zeros((2, 2)), b=np.zeros((2, 2))), "integers"),
    (dict(a=np.zeros((2, 2), dtype=int), b=np.zeros((2, 2), dtype=int), backend="fpga"),
     "backend"),
    (dict(a=np.zeros((2, 2), dtype=int), b=np.zeros((2, 2), dtype=int),
          bias=np.zeros(3, dtype=int)), "bias must have 2"),
])
def test_bad_input_is_a_clear_error(bad, message):
    with pytest.raises(ValueError, match=message):
        matmul(**bad)


def test_requant_validation():
    with pytest.raises(ValueError, match="shift must be between 0 and 63"):
        Requant(shift=64)
    with pytest.raises(ValueError, match="multiplier"):
        Requant(multiplier=-1)


@pytest.mark.rtl
def test_rtl_backend_matches_numpy_and_reports_cycles():
    """The same call on the emitted Verilog (Verilator), ragged shape, bias and requant."""
    config = AccelConfig(rows=4, cols=4, dataflow="ws", sp_kib=1, acc_kib=1, sp_banks=1,
                         acc_banks=1)
    rng = np.random.default_rng(21)
    a = rng.integers(-128, 128, (11, 9))
    b = rng.integers(-128, 128, (9, 6))
    result, stats = matmul(a, b, config=config, backend="rtl", return_stats=True)
    np.testing.assert_array_equal(result, a @ b)
    assert stats.backend == "rtl" and stats.macs == 11 * 9 * 6
    assert stats.cycles > stats.macs / config.pe_count
    assert 0 < stats.utilization(config) <= 1
    bias = rng.integers(-1000, 1000, 6)
    rq = Requant(multiplier=1 << 20, shift=26, zero_point=3, relu=True)
    out = matmul(a, b, config=config, backend="rtl", bias=bias, requant=rq)
    np.testing.assert_array_equal(out, matmul(a, b, config=config, bias=bias, requant=rq))


def test_plan_at_a_base_address_only_touches_memory_above_it():
    from accel.golden import GoldenModel

    config = _config(3, 4, "ws")
    rng = np.random.default_rng(9)
    a, b = rng.integers(-128, 128, (5, 6)), rng.integers(-128, 128, (6, 7))
    plan = plan_matmul(config, 5, 6, 7, base=1000)
    assert plan.layout.a_addr == 1024
    model = GoldenModel(config, mem_size=plan.layout.mem_size)
    model.mem[:] = plan.memory_image(a, b)
    model.mem[:1024] = 0x5A
    model.run(plan.program)
    assert (model.mem[:1024] == 0x5A).all()
    np.testing.assert_array_equal(plan.read_result(model.mem), a @ b)
    with pytest.raises(ValueError, match="base must be a non-negative integer"):
        plan_matmul(config, 1, 1, 1, base=-1)
