"""The golden model's DMA window: CONFIG_WINDOW, LOCK_WINDOW and the check of every transfer.

The reference is the plainest reading of the ISA text: a transfer may run only when every byte
it touches (enumerated one by one here) lies inside the window.
"""

import random

import numpy as np
import pytest

from accel.config import AccelConfig
from accel.golden import AccelError, GoldenModel
from accel.isa import ErrorCause, encode

CFG = AccelConfig(rows=4, cols=3, sp_kib=1, acc_kib=1, sp_banks=1, acc_banks=1)
SMALL = AccelConfig(rows=2, cols=2, sp_kib=1, acc_kib=1, sp_banks=1, acc_banks=1,
                    bus_width=64, mem_addr_width=12)
MEM = 4096

TRANSFERS = ("load_sp", "load_sp_t", "load_acc", "store_sp", "store_acc", "store_act")


def touched_bytes(cfg, name, mem_addr, rows, cols, stride):
    """Every main-memory byte a transfer touches, one by one."""
    elem = cfg.acc_bytes if name in ("load_acc", "store_acc") else cfg.in_bytes
    return {mem_addr + r * stride + c * elem + b
            for r in range(rows) for c in range(cols) for b in range(elem)}


def random_transfer(cfg, rng, name):
    stride = rng.choice([0, 1, 4, 16, rng.randint(0, 700)])
    rows = rng.randint(1, cfg.dim if name == "load_sp_t" else 4)
    cols = rng.randint(1, 4 if name == "load_sp_t" else
                       (cfg.cols if name in ("load_acc", "store_acc", "store_act") else cfg.dim))
    mem_addr = rng.randint(0, 2200)
    row = "acc_addr" if name in ("load_acc", "store_acc", "store_act") else "sp_addr"
    return stride, rows, cols, mem_addr, encode(name, mem_addr=mem_addr, rows=rows, cols=cols,
                                                **{row: 0})


def random_window(cfg, rng):
    granule = cfg.bus_bytes
    base = rng.randrange(0, 1600, granule)
    last = base + rng.randrange(granule, 1200, granule) - 1
    return base, last


def test_reset_state_is_the_whole_memory_unlocked():
    model = GoldenModel(SMALL, MEM)
    assert (model.window_base, model.window_last, model.window_locked) == (0, MEM - 1, False)
    # The top byte of the 12-bit address space is inside the reset window.
    model.execute(encode("store_sp", mem_addr=MEM - 2, sp_addr=0, rows=1, cols=2))
    model.execute(encode("config_window", base=MEM - 8, last=MEM - 1))
    model.execute(encode("config_window", base=0, last=MEM - 1))
    assert model.status == 0


@pytest.mark.parametrize("seed", range(4))
def test_transfers_run_exactly_when_every_touched_byte_is_inside(seed):
    """Random windows and transfers: MEM_WINDOW iff some touched byte is outside; a failing
    transfer changes nothing; one that passes behaves as without a window."""
    rng = random.Random(seed)
    values = np.random.default_rng(seed)
    outcomes = {True: 0, False: 0}
    for _ in range(150):
        name = rng.choice(TRANSFERS)
        base, last = random_window(CFG, rng)
        stride, rows, cols, mem_addr, cmd = random_transfer(CFG, rng, name)
        model = GoldenModel(CFG, MEM)
        model.mem[:] = np.frombuffer(rng.randbytes(MEM), dtype=np.uint8)
        model.sp[:] = values.integers(-128, 128, model.sp.shape)
        model.acc[:] = values.integers(-1000, 1000, model.acc.shape)
        free = GoldenModel(CFG, MEM)   # the same machine without a window
        free.mem[:], free.sp[:], free.acc[:] = model.mem, model.sp, model.acc
        stride_cmd = "config_load" if name.startswith("load") else "config_store"
        model.run([encode("config_window", base=base, last=last), encode(stride_cmd,
                                                                          stride=stride)])
        free.run([encode(stride_cmd, stride=stride)])
        inside = all(base <= b <= last for b in touched_bytes(CFG, name, mem_addr, rows, cols,
                                                               stride))
        before = model.mem.copy(), model.sp.copy(), model.acc.copy()
        try:
            model.execute(cmd)
            failed = None
        except AccelError as exc:
            failed = exc.cause
        try:
            free.execute(cmd)
        except AccelError:
            continue                     # MEM_RANGE: not this test's subject
        outcomes[inside] += 1
        if inside:
            assert failed is None
            for mine, theirs in zip((model.mem, model.sp, model.acc),
                                    (free.mem, free.sp, free.acc)):
                np.testing.assert_array_equal(mine, theirs)
        else:
            assert failed == ErrorCause.MEM_WINDOW, (name, hex(base), hex(last), cmd)
            for now, then in zip((model.mem, model.sp, model.acc), before):
                np.testing.assert_array_equal(now, then)
    assert min(outcomes.values()) > 20, outcomes


def test_window_edges_are_inclusive():
    model = GoldenModel(CFG, MEM)
    model.execute(encode("config_window", base=64, last=127))
    model.execute(encode("load_sp", mem_addr=64, sp_addr=0, rows=1, cols=4))
    model.execute(encode("store_acc", mem_addr=128 - 4 * 3, acc_addr=0, rows=1, cols=3))
    with pytest.raises(AccelError, match="MEM_WINDOW"):
        model.execute(encode("load_sp", mem_addr=63, sp_addr=0, rows=1, cols=1))
    model.execute(encode("clear_error"))
    with pytest.raises(AccelError, match="MEM_WINDOW"):
        model.execute(encode("store_sp", mem_addr=125, sp_addr=0, rows=1, cols=4))


def test_lock_holds_until_reset():
    model = GoldenModel(CFG, MEM)
    model.run([encode("config_window", base=256, last=511), encode("lock_window"),
               encode("lock_window")])                       # locking twice is allowed
    assert model.status == 0
    with pytest.raises(AccelError) as exc:
        model.execute(encode("config_window", base=0, last=MEM - 1))
    assert exc.value.cause == ErrorCause.WINDOW_LOCKED
    assert (model.window_base, model.window_last) == (256, 511)
    model.execute(encode("clear_error"))
    # clear_error does not unlock: the window still applies and still refuses changes.
    with pytest.raises(AccelError, match="MEM_WINDOW"):
        model.execute(encode("load_sp", mem_addr=0, sp_addr=0, rows=1, cols=1))
    model.execute(encode("clear_error"))
    with pytest.raises(AccelError, match="WINDOW_LOCKED"):
        model.execute(encode("config_window", base=256, last=511))
    model.reset()
    assert (model.window_base, model.window_last, model.window_locked) == \
        (0, CFG.mem_size_limit - 1, False)
    model.run([encode("load_sp", mem_addr=0, sp_addr=0, rows=1, cols=1),
               encode("config_window", base=0, last=7)])
    assert model.status == 0


@pytest.mark.parametrize("base,last,ok", [
    (0, SMALL.mem_size_limit - 1, True),
    (8, 15, True),
    (8, 8 + 7, True),
    (16, 15, False),          # base > last
    (8, 7, False),
    (4, 15, False),           # base not on an 8-byte bus word
    (8, 11, False),           # last + 1 not on a bus word
    (0, SMALL.mem_size_limit + 7, False),          # beyond the 12-bit address space
    (0, 0xFFFF_FFFF, False),
])
def test_window_operands(base, last, ok):
    model = GoldenModel(SMALL, MEM)
    cmd = encode("config_window", base=base, last=last)
    if ok:
        model.execute(cmd)
        assert (model.window_base, model.window_last) == (base, last)
    else:
        with pytest.raises(AccelError) as exc:
            model.execute(cmd)
        assert exc.value.cause == ErrorCause.WINDOW_INVALID
        assert (model.window_base, model.window_last) == (0, MEM - 1)


def test_full_32_bit_space_is_expressible():
    model = GoldenModel(CFG, MEM)          # mem_addr_width 32
    model.run([encode("config_window", base=1024, last=2047),
               encode("config_window", base=0, last=0xFFFF_FFFF)])
    assert (model.window_base, model.window_last, model.status) == (0, 0xFFFF_FFFF, 0)
