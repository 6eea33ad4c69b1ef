"""Per-channel requantization in the golden model: CONFIG_ACT_CHANNELS and STORE_ACT in
per-channel mode, against a plain per-element reading of the ISA semantics."""

import random

import numpy as np
import pytest

from accel.config import AccelConfig
from accel.golden import AccelError, GoldenModel
from accel.golden.arith import activate, activate_channels
from accel.isa import BY_NAME, Command, ErrorCause, encode

CONFIGS = {
    "4x4": AccelConfig(rows=4, cols=4, sp_kib=1, acc_kib=1, sp_banks=1, acc_banks=1),
    "2x3os": AccelConfig(rows=2, cols=3, dataflow="os", sp_kib=1, acc_kib=1, sp_banks=1,
                         acc_banks=1),
    "1x1": AccelConfig(rows=1, cols=1, sp_kib=1, acc_kib=1, sp_banks=1, acc_banks=1),
    "w4a8": AccelConfig(rows=3, cols=3, input_width=4, acc_width=8, sp_kib=1, acc_kib=1,
                        sp_banks=1, acc_banks=1),
    "a63": AccelConfig(rows=2, cols=2, acc_width=63, sp_kib=1, acc_kib=1, sp_banks=1,
                       acc_banks=1),
}


def ref_activate(x, multiplier, shift, relu, zero_point, out_width):
    p = x * multiplier
    r = p if shift == 0 else (p >> shift) + ((p >> (shift - 1)) & 1)
    if relu:
        r = max(r, 0)
    lo, hi = -(1 << (out_width - 1)), (1 << (out_width - 1)) - 1
    return min(max(r + zero_point, lo), hi)


def _acc_values(rng, width, shape):
    lo, hi = -(1 << (width - 1)), (1 << (width - 1)) - 1
    return np.array([[rng.randint(lo, hi) for _ in range(shape[1])] for _ in range(shape[0])],
                    dtype=np.int64)


def _store(model, acc_addr, rows, cols, mem_addr=0):
    model.execute(encode("config_store", stride=cols * model.config.in_bytes))
    model.execute(encode("store_act", mem_addr=mem_addr, acc_addr=acc_addr, rows=rows,
                         cols=cols))
    return model.read_block(mem_addr, rows, cols, cols * model.config.in_bytes,
                            model.config.in_bytes)


@pytest.mark.parametrize("name", list(CONFIGS))
def test_per_channel_store_matches_plain_reference(name):
    cfg = CONFIGS[name]
    rng = random.Random(f"channels-{name}")
    for trial in range(20):
        model = GoldenModel(cfg, mem_size=4096)
        rows = rng.randint(1, 5)
        model.acc[:rows] = _acc_values(rng, cfg.acc_width, (rows, cfg.cols))
        # raw parameter rows, including negatives and bits beyond the fields (masked off)
        params = _acc_values(rng, cfg.acc_width, (2, cfg.cols))
        p_addr = cfg.acc_rows - 2 - rng.randint(0, 3)
        model.acc[p_addr:p_addr + 2] = params
        relu, zp = rng.random() < 0.5, rng.randint(-40, 40)
        model.execute(encode("config_act_channels", act=int(relu), zero_point=zp,
                             acc_addr=p_addr))
        cols = rng.randint(1, cfg.cols)
        got = _store(model, 0, rows, cols)
        for r in range(rows):
            for c in range(cols):
                mult = int(params[0, c]) & ((1 << 31) - 1)
                shift = int(params[1, c]) & 63
                want = ref_activate(int(model.acc[r, c]), mult, shift, relu, zp,
                                    cfg.input_width)
                assert got[r, c] == want, (trial, r, c)


def test_per_channel_equals_per_tensor_with_equal_columns():
    cfg = CONFIGS["4x4"]
    rng = random.Random(3)
    a, b = GoldenModel(cfg, mem_size=4096), GoldenModel(cfg, mem_size=4096)
    values = _acc_values(rng, 20, (6, cfg.cols))
    a.acc[:6] = b.acc[:6] = values
    a.acc[10], a.acc[11] = 12345, 17
    a.execute(encode("config_act_channels", act=1, zero_point=-3, acc_addr=10))
    b.execute(encode("config_act", multiplier=12345, shift=17, act=1, zero_point=-3))
    assert np.array_equal(_store(a, 0, 6, 4), _store(b, 0, 6, 4))


def test_mode_switching():
    cfg = CONFIGS["4x4"]
    model = GoldenModel(cfg, mem_size=4096)
    model.acc[0] = [100, -200, 300, -400]
    model.acc[20] = [1, 2, 3, 4]           # multipliers
    model.acc[21] = [0, 1, 0, 2]           # shifts
    model.execute(encode("config_act_channels", act=0, zero_point=0, acc_addr=20))
    assert model.act_per_channel
    assert list(_store(model, 0, 1, 4)[0]) == [100, -128, 127, -128]
    model.execute(encode("config_act", multiplier=1, shift=1, act=0, zero_point=0))
    assert not model.act_per_channel
    assert list(_store(model, 0, 1, 4)[0]) == [50, -100, 127, -128]
    # the per-column registers survive per-tensor mode and later accumulator writes
    model.acc[20:22] = 0
    model.execute(encode("config_act_channels", act=1, zero_point=5, acc_addr=30))
    model.acc[30:32] = 9
    assert model.act_multipliers == (0, 0, 0, 0) and model.act_shifts == (0, 0, 0, 0)
    assert list(_store(model, 0, 1, 4)[0]) == [5, 5, 5, 5]
    model.reset()
    assert not model.act_per_channel and model.act_multipliers == (1,) * 4


def test_columns_beyond_the_store_are_ignored():
    cfg = CONFIGS["4x4"]
    model = GoldenModel(cfg, mem_size=4096)
    model.acc[0] = [7, 7, 7, 7]
    model.acc[2] = [1, 2, 3, 4]
    model.acc[3] = [0, 0, 0, 0]
    model.execute(encode("config_act_channels", act=0, zero_point=0, acc_addr=2))
    assert list(_store(model, 0, 1, 2)[0]) == [7, 14]


@pytest.mark.parametrize("past_end", [1, 2, 1000])
def test_range_error_changes_nothing(past_end):
    cfg = CONFIGS["2x3os"]
    model = GoldenModel(cfg, mem_size=4096)
    acc_addr = cfg.acc_rows - 2 + past_end
    with pytest.raises(AccelError) as exc:
        model.execute(encode("config_act_channels", act=1, zero_point=3, acc_addr=acc_addr))
    assert exc.value.cause is ErrorCause.ACC_RANGE
    assert model.error is ErrorCause.ACC_RANGE
    assert not model.act_per_channel and model.act_zero_point == 0


def test_last_legal_rows_and_reserved_activation():
    cfg = CONFIGS["1x1"]
    model = GoldenModel(cfg, mem_size=4096)
    model.execute(encode("config_act_channels", act=1, zero_point=0,
                         acc_addr=cfg.acc_rows - 2))
    assert model.act_per_channel
    ins = BY_NAME["config_act_channels"]
    for act in (2, 3):
        fresh = GoldenModel(cfg, mem_size=4096)
        with pytest.raises(AccelError) as exc:
            fresh.execute(Command(ins.funct7, ins.funct3, act << 6, 0))
        assert exc.value.cause is ErrorCause.ILLEGAL_INSTRUCTION
        assert not fresh.act_per_channel


def test_discarded_while_error_is_set():
    cfg = CONFIGS["4x4"]
    model = GoldenModel(cfg, mem_size=4096)
    with pytest.raises(AccelError):
        model.execute(encode("load_acc", mem_addr=0, acc_addr=cfg.acc_rows, rows=1, cols=1))
    model.execute(encode("config_act_channels", act=1, zero_point=1, acc_addr=0))
    assert not model.act_per_channel


def test_activate_channels_is_activate_per_column():
    rng = np.random.default_rng(9)
    acc = rng.integers(-(1 << 31), 1 << 31, size=(7, 5))
    mult = rng.integers(0, 1 << 31, size=5)
    shift = rng.integers(0, 64, size=5)
    got = activate_channels(acc, multipliers=mult, shifts=shift, relu=True, zero_point=-2,
                            acc_width=32, out_width=8)
    for c in range(5):
        want = activate(acc[:, c], multiplier=int(mult[c]), shift=int(shift[c]), relu=True,
                        zero_point=-2, acc_width=32, out_width=8)
        assert np.array_equal(got[:, c], want)
    with pytest.raises(ValueError, match="one per column"):
        activate_channels(acc, multipliers=mult[:4], shifts=shift, relu=False, zero_point=0,
                          acc_width=32, out_width=8)
