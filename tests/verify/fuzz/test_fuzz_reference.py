"""The fuzzer's reference: the golden model plus bus error windows."""

import numpy as np
import pytest

from accel.config import AccelConfig
from accel.verify.fuzz.reference import BusFaultModel
from accel.golden import AccelError, GoldenModel
from accel.isa import ErrorCause, encode

CONFIG = AccelConfig(rows=4, cols=4, sp_kib=1, acc_kib=1, sp_banks=1, acc_banks=1)  # 32-bit bus


def _model(windows, config=CONFIG):
    model = BusFaultModel(config, mem_size=4096, error_windows=windows)
    model.mem[:] = np.arange(4096) % 251
    return model


@pytest.mark.parametrize("mem_addr, faults", [(60, False), (61, True), (127, True),
                                              (128, False)])
def test_load_fails_when_a_bus_word_it_reads_touches_the_window(mem_addr, faults):
    model = _model([(66, 127)])  # words 64..67 and 124..127 touch it
    cmd = encode("load_sp", mem_addr=mem_addr, sp_addr=0, rows=1, cols=4)
    before = model.sp.copy()
    if faults:
        with pytest.raises(AccelError) as info:
            model.execute(cmd)
        assert info.value.cause == ErrorCause.BUS_ERROR
        np.testing.assert_array_equal(model.sp, before)
        assert model.error == ErrorCause.BUS_ERROR
    else:
        model.execute(cmd)
        assert model.error == ErrorCause.NONE


def test_store_in_the_window_fails_and_writes_nothing():
    model = _model([(1024, 1280)])
    model.execute(encode("config_store", stride=16))
    memory = model.mem.copy()
    with pytest.raises(AccelError):
        model.execute(encode("store_acc", mem_addr=1000, acc_addr=0, rows=3, cols=4))
    np.testing.assert_array_equal(model.mem, memory)
    assert model.status >> 8 & 0xFF == ErrorCause.BUS_ERROR


def test_wider_bus_words_widen_the_fault():
    wide = CONFIG.replace(bus_width=128)  # 16-byte words: 1024..1039 touches (1038, 1040)
    cmd = encode("store_sp", mem_addr=1024, sp_addr=0, rows=1, cols=1)
    with pytest.raises(AccelError):
        _model([(1038, 1040)], wide).execute(cmd)
    _model([(1038, 1040)]).execute(cmd)  # 32-bit words: 1024..1027 does not


def test_checks_before_the_bus_win():
    model = _model([(0, 4096)])
    with pytest.raises(AccelError) as info:
        model.execute(encode("load_sp", mem_addr=0, sp_addr=CONFIG.sp_rows, rows=1, cols=1))
    assert info.value.cause == ErrorCause.SP_RANGE
    model.execute(encode("clear_error"))
    with pytest.raises(AccelError) as info:
        model.execute(encode("load_sp", mem_addr=4095, sp_addr=0, rows=1, cols=2))
    assert info.value.cause == ErrorCause.MEM_RANGE


def test_without_windows_it_is_the_golden_model():
    rng = np.random.default_rng(3)
    image = rng.integers(0, 256, 4096).astype(np.uint8)
    program = [encode("config_load", stride=4), encode("load_sp", mem_addr=8, sp_addr=0,
                                                       rows=4, cols=4),
               encode("preload", b_addr=0, k=4, n=4),
               encode("compute", a_addr=0, m=4, c_addr=0),
               encode("config_store", stride=16),
               encode("store_acc", mem_addr=2048, acc_addr=0, rows=4, cols=4)]
    models = [BusFaultModel(CONFIG, mem_size=4096), GoldenModel(CONFIG, mem_size=4096)]
    for model in models:
        model.mem[:] = image
        model.run(program)
    np.testing.assert_array_equal(models[0].mem, models[1].mem)


def test_bad_window_is_rejected():
    with pytest.raises(ValueError, match="error window"):
        BusFaultModel(CONFIG, mem_size=4096, error_windows=[(10, 10)])
