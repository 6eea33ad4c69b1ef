"""Fused pooling in the golden model (CONFIG_POOL, CONFIG_POOL_AVG, STORE_POOL) against plain
NumPy pooling of activated values, laid out as an image of accumulator rows."""

import random

import numpy as np
import pytest

from accel.config import AccelConfig
from accel.golden import AccelError, GoldenModel
from accel.golden.arith import pool_last_row
from accel.isa import ErrorCause, encode

CONFIGS = {
    "4x4": AccelConfig(rows=4, cols=4, sp_kib=1, acc_kib=4, sp_banks=1, acc_banks=1),
    "2x3os": AccelConfig(rows=2, cols=3, dataflow="os", sp_kib=1, acc_kib=4, sp_banks=1,
                         acc_banks=1),
    "1x1": AccelConfig(rows=1, cols=1, sp_kib=1, acc_kib=1, sp_banks=1, acc_banks=1),
    "w4a8": AccelConfig(rows=3, cols=3, input_width=4, acc_width=8, sp_kib=1, acc_kib=1,
                        sp_banks=1, acc_banks=1),
}


def ref_activate(x, multiplier, shift, relu, zero_point, out_width):
    p = int(x) * multiplier
    r = p if shift == 0 else (p >> shift) + ((p >> (shift - 1)) & 1)
    if relu:
        r = max(r, 0)
    lo, hi = -(1 << (out_width - 1)), (1 << (out_width - 1)) - 1
    return min(max(r + zero_point, lo), hi)


def ref_pool(image, *, out_w, rows, kh, kw, sh, sw, avg=None, out_width=8):
    """Plain pooling of an activated image (in_h, in_pitch, cols) into (rows, cols)."""
    out = np.zeros((rows, image.shape[2]), dtype=np.int64)
    for p in range(rows):
        oy, ox = divmod(p, out_w)
        win = image[oy * sh:oy * sh + kh, ox * sw:ox * sw + kw, :]
        assert win.shape[:2] == (kh, kw)
        if avg is None:
            out[p] = win.max(axis=(0, 1))
        else:
            act_zp, mult, shift, zp = avg
            for c in range(image.shape[2]):
                s = int((win[:, :, c] - act_zp).sum()) * mult
                r = s if shift == 0 else (s >> shift) + ((s >> (shift - 1)) & 1)
                out[p, c] = min(max(r + zp, -(1 << (out_width - 1))), (1 << (out_width - 1)) - 1)
    return out


def _random_case(rng, cfg, *, avg, per_channel):
    kh, kw = rng.randint(1, 3), rng.randint(1, 3)
    sh, sw = rng.choice([1, kh, 2]), rng.choice([1, kw, 2])
    out_w = rng.randint(1, 4)
    out_h = rng.randint(1, 3)
    in_w = (out_w - 1) * sw + kw
    in_pitch = in_w + rng.randint(0, 2)
    in_h = (out_h - 1) * sh + kh
    rows = rng.randint((out_h - 1) * out_w + 1, out_h * out_w)  # ragged last pooled row
    cols = rng.randint(1, cfg.cols)
    return dict(kh=kh, kw=kw, sh=sh, sw=sw, out_w=out_w, in_h=in_h, in_pitch=in_pitch,
                rows=rows, cols=cols, avg=avg, per_channel=per_channel)


def _run_case(cfg, rng, case):
    model = GoldenModel(cfg, mem_size=4096)
    acc_addr = rng.randint(0, 3)
    n_acc = case["in_h"] * case["in_pitch"]
    lo, hi = -(1 << (cfg.acc_width - 1)), (1 << (cfg.acc_width - 1)) - 1
    span = min(hi, 4000)
    model.acc[acc_addr:acc_addr + n_acc] = np.array(
        [[rng.randint(max(lo, -span), span) for _ in range(cfg.cols)] for _ in range(n_acc)])
    relu = rng.random() < 0.5
    act_zp = rng.randint(-5, 5)
    if case["per_channel"]:
        mults = [rng.randint(1, 1 << 12) for _ in range(cfg.cols)]
        shifts = [rng.randint(0, 14) for _ in range(cfg.cols)]
        p_addr = cfg.acc_rows - 2
        model.acc[p_addr] = mults
        model.acc[p_addr + 1] = shifts
        model.execute(encode("config_act_channels", act=int(relu), zero_point=act_zp,
                             acc_addr=p_addr))
    else:
        mults = [rng.randint(1, 1 << 12)] * cfg.cols
        shifts = [rng.randint(0, 14)] * cfg.cols
        model.execute(encode("config_act", multiplier=mults[0], shift=shifts[0], act=int(relu),
                             zero_point=act_zp))
    avg = None
    if case["avg"]:
        avg = (act_zp, rng.randint(1, 1 << 16), rng.randint(0, 20), rng.randint(-8, 8))
        model.execute(encode("config_pool_avg", multiplier=avg[1], shift=avg[2],
                             zero_point=avg[3]))
    model.execute(encode("config_pool", kh=case["kh"], kw=case["kw"], sh=case["sh"],
                         sw=case["sw"], mode=int(case["avg"]), in_pitch=case["in_pitch"],
                         out_w=case["out_w"]))
    stride = case["cols"] * cfg.in_bytes + rng.randint(0, 3)
    model.execute(encode("config_store", stride=stride))
    model.execute(encode("store_pool", mem_addr=64, acc_addr=acc_addr, rows=case["rows"],
                         cols=case["cols"]))
    got = model.read_block(64, case["rows"], case["cols"], stride, cfg.in_bytes)

    raw = model.acc[acc_addr:acc_addr + n_acc, :case["cols"]]
    image = np.array([[ref_activate(raw[r, c], mults[c], shifts[c], relu, act_zp,
                                    cfg.input_width) for c in range(case["cols"])]
                      for r in range(n_acc)]).reshape(case["in_h"], case["in_pitch"], -1)
    want = ref_pool(image, out_w=case["out_w"], rows=case["rows"], kh=case["kh"],
                    kw=case["kw"], sh=case["sh"], sw=case["sw"], avg=avg,
                    out_width=cfg.input_width)
    np.testing.assert_array_equal(got, want, err_msg=str(case))
    assert model.counters[5] == case["rows"] * case["cols"] * cfg.in_bytes


@pytest.mark.parametrize("name", list(CONFIGS))
@pytest.mark.parametrize("avg", [False, True], ids=["max", "avg"])
@pytest.mark.parametrize("per_channel", [False, True], ids=["tensor", "channel"])
def test_store_pool_matches_numpy_pooling(name, avg, per_channel):
    cfg = CONFIGS[name]
    rng = random.Random(f"pool-{name}-{avg}-{per_channel}")
    for _ in range(15):
        _run_case(cfg, rng, _random_case(rng, cfg, avg=avg, per_channel=per_channel))


@pytest.mark.parametrize("geometry", [
    dict(kh=2, kw=2, sh=2, sw=2, out_w=3, in_h=4, in_pitch=6, rows=5),   # tiles, ragged
    dict(kh=3, kw=3, sh=2, sw=2, out_w=2, in_h=5, in_pitch=5, rows=4),   # overlapping
    dict(kh=3, kw=1, sh=1, sw=1, out_w=1, in_h=5, in_pitch=1, rows=3),   # 1-wide column
    dict(kh=1, kw=4, sh=1, sw=4, out_w=2, in_h=1, in_pitch=8, rows=2),   # one row
], ids=["2x2s2-ragged", "3x3s2", "1-wide", "1x4"])
@pytest.mark.parametrize("avg", [False, True], ids=["max", "avg"])
def test_store_pool_edge_geometries(geometry, avg):
    cfg = CONFIGS["4x4"]
    rng = random.Random(f"edge-{geometry}-{avg}")
    _run_case(cfg, rng, dict(geometry, cols=cfg.cols, avg=avg, per_channel=False))


def test_reset_pool_equals_store_act():
    cfg = CONFIGS["4x4"]
    rng = np.random.default_rng(3)
    a, b = GoldenModel(cfg, mem_size=1024), GoldenModel(cfg, mem_size=1024)
    for m in (a, b):
        m.acc[:10] = rng.integers(-3000, 3000, size=(10, cfg.cols))
        m.execute(encode("config_act", multiplier=3, shift=4, act=1, zero_point=2))
        m.execute(encode("config_store", stride=5))
    b.acc[:] = a.acc
    a.execute(encode("store_act", mem_addr=8, acc_addr=1, rows=9, cols=3))
    b.execute(encode("store_pool", mem_addr=8, acc_addr=1, rows=9, cols=3))
    np.testing.assert_array_equal(a.mem, b.mem)


def test_avg_identity_window_of_one():
    """A 1x1 average with multiplier 1, shift 0 and the activation's zero point as its own
    gives back the activated values."""
    cfg = CONFIGS["4x4"]
    model = GoldenModel(cfg, mem_size=1024)
    model.acc[:4] = np.arange(16).reshape(4, 4) * 37 - 300
    model.run([encode("config_act", multiplier=1, shift=2, act=0, zero_point=-3),
               encode("config_pool", kh=1, kw=1, sh=1, sw=1, mode=1, in_pitch=1, out_w=4),
               encode("config_pool_avg", multiplier=1, shift=0, zero_point=-3),
               encode("config_store", stride=4),
               encode("store_pool", mem_addr=0, acc_addr=0, rows=4, cols=4),
               encode("store_act", mem_addr=100, acc_addr=0, rows=4, cols=4)])
    np.testing.assert_array_equal(model.mem[:16], model.mem[100:116])


def test_store_pool_errors():
    cfg = CONFIGS["4x4"]
    geometry = dict(kh=3, kw=2, sh=2, sw=1, mode=0, in_pitch=7, out_w=3)
    last = pool_last_row(5, out_w=3, kh=3, kw=2, sh=2, sw=1, in_pitch=7)
    assert last == (1 * 2 + 2) * 7 + 2 * 1 + 1
    ok = cfg.acc_rows - 1 - last
    model = GoldenModel(cfg, mem_size=1024)
    model.run([encode("config_pool", **geometry), encode("config_store", stride=4),
               encode("store_pool", mem_addr=0, acc_addr=ok, rows=5, cols=4)])
    with pytest.raises(AccelError) as exc:
        model.execute(encode("store_pool", mem_addr=0, acc_addr=ok + 1, rows=5, cols=4))
    assert exc.value.cause == ErrorCause.ACC_RANGE
    for cmd, cause in [
            (encode("store_pool", mem_addr=0, acc_addr=0, rows=1, cols=4), ErrorCause.NONE),
            (encode("store_pool", mem_addr=1021, acc_addr=0, rows=1, cols=4),
             ErrorCause.MEM_RANGE)]:
        m = GoldenModel(cfg, mem_size=1024)
        if cause is ErrorCause.NONE:
            m.execute(cmd)
            continue
        with pytest.raises(AccelError) as exc:
            m.execute(cmd)
        assert exc.value.cause == cause
    m = GoldenModel(AccelConfig(rows=2, cols=2, sp_kib=1, acc_kib=1, sp_banks=1, acc_banks=1))
    with pytest.raises(AccelError) as exc:
        m.execute(encode("store_pool", mem_addr=0, acc_addr=0, rows=1, cols=3))
    assert exc.value.cause == ErrorCause.SHAPE
    m.run([encode("clear_error"), encode("config_window", base=0, last=63)])
    with pytest.raises(AccelError) as exc:
        m.execute(encode("store_pool", mem_addr=63, acc_addr=0, rows=1, cols=2))
    assert exc.value.cause == ErrorCause.MEM_WINDOW


def test_failed_store_pool_writes_nothing():
    cfg = CONFIGS["4x4"]
    model = GoldenModel(cfg, mem_size=1024)
    model.acc[:] = 5
    model.execute(encode("config_pool", kh=2, kw=2, sh=2, sw=2, mode=0, in_pitch=4, out_w=2))
    with pytest.raises(AccelError):
        model.execute(encode("store_pool", mem_addr=0, acc_addr=cfg.acc_rows - 5, rows=4,
                             cols=4))
    assert not model.mem.any()
    assert model.counters[5] == 0
