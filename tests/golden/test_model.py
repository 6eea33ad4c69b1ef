"""The golden model against a plain (per-element, Python-int) reading of the ISA semantics."""

import copy
import random

import numpy as np
import pytest

from accel.config import AccelConfig, Dataflow
from accel.golden import AccelError, GoldenModel
from accel.isa import BY_NAME, STATUS_BITS, Command, Counter, ErrorCause, assemble, encode

MEM = 4096

CONFIGS = {
    "4x4ws": AccelConfig(rows=4, cols=4, sp_kib=1, acc_kib=1, sp_banks=1, acc_banks=1),
    "3x5ws": AccelConfig(rows=3, cols=5, sp_kib=1, acc_kib=1, sp_banks=1, acc_banks=1),
    "5x2os": AccelConfig(rows=5, cols=2, dataflow="os", sp_kib=1, acc_kib=1, sp_banks=1,
                         acc_banks=1),
    "1x1ws": AccelConfig(rows=1, cols=1, sp_kib=1, acc_kib=1, sp_banks=1, acc_banks=1),
    "1x3os": AccelConfig(rows=1, cols=3, dataflow="os", sp_kib=1, acc_kib=1, sp_banks=1,
                         acc_banks=1),
    "w6a12": AccelConfig(rows=4, cols=3, input_width=6, acc_width=12, sp_kib=1, acc_kib=1,
                         sp_banks=1, acc_banks=1),
    "w16a48os": AccelConfig(rows=2, cols=3, dataflow="os", input_width=16, acc_width=48,
                            sp_kib=1, acc_kib=1, sp_banks=1, acc_banks=1),
    "w4a8": AccelConfig(rows=3, cols=3, input_width=4, acc_width=8, sp_kib=1, acc_kib=1,
                        sp_banks=1, acc_banks=1),
    "a63": AccelConfig(rows=2, cols=2, acc_width=63, sp_kib=1, acc_kib=1, sp_banks=1,
                       acc_banks=1),
    "bus64m12": AccelConfig(rows=2, cols=2, sp_kib=1, acc_kib=1, sp_banks=1, acc_banks=1,
                            bus_width=64, mem_addr_width=12),
}
ALL = list(CONFIGS)


# -- plain references ---------------------------------------------------------------------------

def ref_wrap(v, width):
    v &= (1 << width) - 1
    return v - (1 << width) if v >> (width - 1) else v


def mem_get(mem, addr, nbytes):
    return int.from_bytes(bytes(mem[addr:addr + nbytes]), "little", signed=True)


def mem_put(mem, addr, nbytes, value):
    mem[addr:addr + nbytes] = list((value & ((1 << 8 * nbytes) - 1)).to_bytes(nbytes, "little"))


def ref_activate(x, multiplier, shift, relu, zero_point, out_width):
    p = x * multiplier
    y = p if shift == 0 else (p + 2 ** (shift - 1)) // 2 ** shift
    if relu:
        y = max(y, 0)
    y += zero_point
    return min(max(y, -(1 << (out_width - 1))), (1 << (out_width - 1)) - 1)


def random_model(cfg, rng, mem_size=MEM):
    """A model with random (in-range) scratchpad, accumulator and memory contents."""
    model = GoldenModel(cfg, mem_size)
    iw, aw = cfg.input_width, cfg.acc_width
    model.mem[:] = np.frombuffer(rng.randbytes(mem_size), dtype=np.uint8)
    model.sp[:] = np.array([[rng.randint(-(1 << (iw - 1)), (1 << (iw - 1)) - 1)
                             for _ in range(cfg.dim)] for _ in range(cfg.sp_rows)])
    model.acc[:] = np.array([[rng.randint(-(1 << (aw - 1)), (1 << (aw - 1)) - 1)
                              for _ in range(cfg.cols)] for _ in range(cfg.acc_rows)],
                            dtype=np.int64)
    return model


def snapshot(model):
    regs = {k: copy.deepcopy(v) for k, v in vars(model).items()
            if k not in ("mem", "sp", "acc", "config")}
    return model.mem.copy(), model.sp.copy(), model.acc.copy(), regs


def assert_same(a, b, ignore=()):
    assert np.array_equal(a[0], b[0]), "main memory changed"
    assert np.array_equal(a[1], b[1]), "scratchpad changed"
    assert np.array_equal(a[2], b[2]), "accumulator changed"
    ra = {k: v for k, v in a[3].items() if k not in ignore}
    rb = {k: v for k, v in b[3].items() if k not in ignore}
    assert ra == rb


def status_fields(word):
    return {name: (word >> lsb) & ((1 << width) - 1) for name, (lsb, width) in STATUS_BITS.items()}


def ex(model, name, **ops):
    return model.execute(encode(name, **ops))


def rand_stride(rng, row_bytes):
    return rng.choice([0, row_bytes, row_bytes + rng.randint(1, 9), rng.randint(1, row_bytes),
                       rng.randint(0, 3 * row_bytes)])


# -- loads --------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ALL)
def test_load_sp(name):
    cfg = CONFIGS[name]
    rng = random.Random(f"load_sp-{name}")
    model = random_model(cfg, rng)
    for _ in range(25):
        rows, cols = rng.randint(1, min(12, cfg.sp_rows)), rng.randint(1, cfg.dim)
        stride = rand_stride(rng, cols * cfg.in_bytes)
        sp_addr = rng.randint(0, cfg.sp_rows - rows)
        mem_addr = rng.randint(0, MEM - (rows - 1) * stride - cols * cfg.in_bytes)
        want = model.sp.tolist()
        for r in range(rows):
            for c in range(cols):
                v = mem_get(model.mem, mem_addr + r * stride + c * cfg.in_bytes, cfg.in_bytes)
                want[sp_addr + r][c] = ref_wrap(v, cfg.input_width)
        before = model.counters[Counter.LOAD_BYTES]
        ex(model, "config_load", stride=stride)
        ex(model, "load_sp", mem_addr=mem_addr, sp_addr=sp_addr, rows=rows, cols=cols)
        assert model.sp.tolist() == want
        assert model.counters[Counter.LOAD_BYTES] - before == rows * cols * cfg.in_bytes


@pytest.mark.parametrize("name", ALL)
def test_load_sp_t(name):
    cfg = CONFIGS[name]
    rng = random.Random(f"load_sp_t-{name}")
    model = random_model(cfg, rng)
    for _ in range(25):
        rows, cols = rng.randint(1, cfg.dim), rng.randint(1, min(20, cfg.sp_rows))
        stride = rand_stride(rng, cols * cfg.in_bytes)
        sp_addr = rng.randint(0, cfg.sp_rows - cols)
        mem_addr = rng.randint(0, MEM - (rows - 1) * stride - cols * cfg.in_bytes)
        want = model.sp.tolist()
        for r in range(rows):
            for c in range(cols):
                v = mem_get(model.mem, mem_addr + r * stride + c * cfg.in_bytes, cfg.in_bytes)
                want[sp_addr + c][r] = ref_wrap(v, cfg.input_width)
        ex(model, "config_load", stride=stride)
        ex(model, "load_sp_t", mem_addr=mem_addr, sp_addr=sp_addr, rows=rows, cols=cols)
        assert model.sp.tolist() == want


@pytest.mark.parametrize("name", ALL)
def test_load_acc(name):
    cfg = CONFIGS[name]
    rng = random.Random(f"load_acc-{name}")
    model = random_model(cfg, rng)
    for _ in range(25):
        rows, cols = rng.randint(1, min(12, cfg.acc_rows)), rng.randint(1, cfg.cols)
        stride = rand_stride(rng, cols * cfg.acc_bytes)
        acc_addr = rng.randint(0, cfg.acc_rows - rows)
        mem_addr = rng.randint(0, MEM - (rows - 1) * stride - cols * cfg.acc_bytes)
        want = model.acc.tolist()
        for r in range(rows):
            for c in range(cols):
                v = mem_get(model.mem, mem_addr + r * stride + c * cfg.acc_bytes, cfg.acc_bytes)
                want[acc_addr + r][c] = ref_wrap(v, cfg.acc_width)
        before = model.counters[Counter.LOAD_BYTES]
        ex(model, "config_load", stride=stride)
        ex(model, "load_acc", mem_addr=mem_addr, acc_addr=acc_addr, rows=rows, cols=cols)
        assert model.acc.tolist() == want
        assert model.counters[Counter.LOAD_BYTES] - before == rows * cols * cfg.acc_bytes


def test_load_wraps_and_broadcasts():
    cfg = CONFIGS["w6a12"]  # input_width 6 in 1-byte elements, acc_width 12 in 2-byte elements
    model = GoldenModel(cfg, 256)
    model.mem[0:4] = [0x1F, 0x20, 0xE0, 0xDF]  # 31, 32 -> -32, -32, -33 -> 31
    model.mem[16:20] = [0xFF, 0x07, 0x00, 0x08]  # 2047, 2048 -> -2048
    model.run(assemble("""
        config_load 0               # broadcast one row
        load_sp 0, 0, 3, 4
        load_acc 16, 5, 4, 2
    """))
    assert model.sp[:3, :4].tolist() == [[31, -32, -32, 31]] * 3
    assert model.acc[5:9, :2].tolist() == [[2047, -2048]] * 4
    assert (model.sp[3:] == 0).all() and (model.sp[:, 4:] == 0).all()


# -- stores -------------------------------------------------------------------------------------

def _store_case(cfg, rng, model, name):
    if name == "store_sp":
        depth, width, eb, addr_name = cfg.sp_rows, cfg.dim, cfg.in_bytes, "sp_addr"
    else:
        depth, width, addr_name = cfg.acc_rows, cfg.cols, "acc_addr"
        eb = cfg.acc_bytes if name == "store_acc" else cfg.in_bytes
    rows, cols = rng.randint(1, min(10, depth)), rng.randint(1, width)
    stride = rand_stride(rng, cols * eb)
    addr = rng.randint(0, depth - rows)
    mem_addr = rng.randint(0, MEM - (rows - 1) * stride - cols * eb)
    return rows, cols, stride, addr, mem_addr, eb, addr_name


@pytest.mark.parametrize("op", ["store_sp", "store_acc", "store_act"])
@pytest.mark.parametrize("name", ALL)
def test_stores(name, op):
    cfg = CONFIGS[name]
    rng = random.Random(f"{op}-{name}")
    model = random_model(cfg, rng)
    for _ in range(20):
        rows, cols, stride, addr, mem_addr, eb, addr_name = _store_case(cfg, rng, model, op)
        multiplier = rng.choice([1, rng.randint(0, (1 << 31) - 1), rng.randint(0, 300)])
        shift = rng.choice([0, rng.randint(0, 63), rng.randint(0, cfg.acc_width)])
        relu = rng.random() < 0.5
        zero_point = rng.randint(-(1 << (cfg.input_width - 1)),
                                 min(1 << (cfg.input_width - 1), 32767))
        want = model.mem.copy()
        for r in range(rows):  # sequential order: overlapping rows, the last one wins
            for c in range(cols):
                if op == "store_sp":
                    v = int(model.sp[addr + r][c])
                elif op == "store_acc":
                    v = int(model.acc[addr + r][c])
                else:
                    v = ref_activate(int(model.acc[addr + r][c]), multiplier, shift, relu,
                                     zero_point, cfg.input_width)
                mem_put(want, mem_addr + r * stride + c * eb, eb, v)
        before = model.counters[Counter.STORE_BYTES]
        ex(model, "config_store", stride=stride)
        ex(model, "config_act", multiplier=multiplier, shift=shift, act=int(relu),
           zero_point=zero_point)
        ex(model, op, **{"mem_addr": mem_addr, addr_name: addr, "rows": rows, "cols": cols})
        assert np.array_equal(model.mem, want), (rows, cols, stride)
        assert model.counters[Counter.STORE_BYTES] - before == rows * cols * eb


def test_store_overlap_last_row_wins():
    cfg = CONFIGS["4x4ws"]
    model = GoldenModel(cfg, 64)
    model.sp[0:3, :4] = [[1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11, 12]]
    model.run(assemble("config_store 0\nstore_sp 0, 0, 3, 4"))  # reset stride 0 as well
    assert model.mem[:5].tolist() == [9, 10, 11, 12, 0]
    model.mem[:] = 0
    model.run(assemble("config_store 2\nstore_sp 0, 0, 3, 4"))
    assert model.mem[:9].tolist() == [1, 2, 5, 6, 9, 10, 11, 12, 0]
    # reset value of store_stride is 0
    fresh = GoldenModel(cfg, 64)
    fresh.sp[0:2, :2] = [[1, 2], [3, 4]]
    fresh.run(assemble("store_sp 8, 0, 2, 2"))
    assert fresh.mem[8:11].tolist() == [3, 4, 0]


def test_store_sign_extension_and_activation_reset():
    cfg = CONFIGS["w6a12"]
    model = GoldenModel(cfg, 64)
    model.sp[0, :3] = [-1, -32, 31]
    model.acc[0, :3] = [-2048, 2047, -5]
    model.run(assemble("config_store 0\nstore_sp 0, 0, 1, 3\nstore_acc 8, 0, 1, 3"
                       "\nstore_act 16, 0, 1, 3"))
    assert model.mem[0:3].tolist() == [0xFF, 0xE0, 0x1F]
    assert model.mem[8:14].tolist() == [0x00, 0xF8, 0xFF, 0x07, 0xFB, 0xFF]
    # reset activation: identity with saturation to 6 bits
    assert model.mem[16:19].tolist() == [0xE0, 0x1F, 0xFB]


# -- execute ------------------------------------------------------------------------------------

def ref_matmul(cfg, sp, acc, b_addr, k, n, a_addr, m, c_addr, accumulate):
    out = [list(map(int, row)) for row in acc]
    for i in range(m):
        for j in range(n):
            total = 0
            for kk in range(k):
                a = sp[a_addr + i][kk] if cfg.dataflow is Dataflow.WS else sp[a_addr + kk][i]
                total += int(a) * int(sp[b_addr + kk][j])
            base = out[c_addr + i][j] if accumulate else 0
            out[c_addr + i][j] = ref_wrap(base + total, cfg.acc_width)
    return out


@pytest.mark.parametrize("name", ALL)
def test_compute(name):
    cfg = CONFIGS[name]
    rng = random.Random(f"compute-{name}")
    model = random_model(cfg, rng)
    m_max, k_max, n_max = cfg.tile_limits
    macs = 0
    for _ in range(12):
        k, n = rng.randint(1, min(k_max, 12)), rng.randint(1, n_max)
        b_addr = rng.randint(0, cfg.sp_rows - k)
        ex(model, "preload", b_addr=b_addr, k=k, n=n)
        for _ in range(2):
            m = rng.randint(1, min(m_max, 12))
            a_rows = m if cfg.dataflow is Dataflow.WS else k
            a_addr = rng.randint(0, cfg.sp_rows - a_rows)
            c_addr = rng.randint(0, cfg.acc_rows - m)
            accumulate = rng.random() < 0.5
            want = ref_matmul(cfg, model.sp, model.acc, b_addr, k, n, a_addr, m, c_addr,
                              accumulate)
            ex(model, "compute_acc" if accumulate else "compute", a_addr=a_addr, m=m,
               c_addr=c_addr)
            assert model.acc.tolist() == want
            macs += m * k * n
            assert model.counters[Counter.MACS] == macs


def test_compute_os_uses_transposed_a():
    cfg = CONFIGS["5x2os"]
    rng = np.random.default_rng(1)
    a = rng.integers(-128, 128, (4, 7))  # m x k
    b = rng.integers(-128, 128, (7, 2))  # k x n
    model = GoldenModel(cfg, MEM)
    model.mem[0:28] = a.astype(np.int8).view(np.uint8).ravel()
    model.mem[100:114] = b.astype(np.int8).view(np.uint8).ravel()
    model.run(assemble("""
        config_load 7
        load_sp_t 0, 10, 4, 7        # A^T into sp rows 10..16
        config_load 2
        load_sp 100, 30, 7, 2        # B into sp rows 30..36
        preload 30, 7, 2
        compute 10, 4, 0
        compute_acc 10, 4, 0
    """))
    assert model.acc[0:4, :2].tolist() == (2 * a @ b).tolist()


def test_accumulate_wraps():
    cfg = CONFIGS["w4a8"]  # input 4 bits, accumulator 8 bits
    model = GoldenModel(cfg, MEM)
    model.sp[0, :3] = [-8, -8, -8]
    model.sp[1:4, :3] = -8
    model.run(assemble("preload 1, 3, 3\ncompute 0, 1, 0"))
    assert model.acc[0, :3].tolist() == [ref_wrap(192, 8)] * 3  # 3 * 64 = 192 -> -64
    model.run(assemble("compute_acc 0, 1, 0\ncompute_acc 0, 1, 0"))
    assert model.acc[0, :3].tolist() == [ref_wrap(576, 8)] * 3


def test_compute_leaves_other_columns():
    cfg = CONFIGS["4x4ws"]
    model = random_model(cfg, random.Random(3))
    before = model.acc.copy()
    model.run(assemble("preload 0, 2, 3\ncompute 8, 2, 5"))
    assert np.array_equal(model.acc[5:7, 3:], before[5:7, 3:])
    assert np.array_equal(model.acc[:5], before[:5]) and np.array_equal(model.acc[7:], before[7:])


def test_weights_read_at_compute_time():
    cfg = CONFIGS["4x4ws"]
    model = GoldenModel(cfg, MEM)
    model.sp[0, :2] = [1, 2]
    model.sp[1, :2] = [3, 4]
    model.run(assemble("preload 1, 1, 2"))
    model.sp[1, :2] = [5, 6]  # changed after PRELOAD: COMPUTE uses the new values
    model.run(assemble("compute 0, 1, 0"))
    assert model.acc[0, :2].tolist() == [5, 6]


# -- counters and status ------------------------------------------------------------------------

def test_counters():
    cfg = CONFIGS["4x4ws"]
    model = GoldenModel(cfg, MEM)
    program = assemble("""
        config_load 8
        load_sp 0, 0, 3, 4          # 12 bytes
        load_acc 64, 0, 2, 3        # 24 bytes
        preload 0, 3, 2
        compute 0, 2, 4             # 2 * 3 * 2 = 12 MACs
        compute_acc 0, 1, 4         # 6 MACs
        config_store 16
        store_acc 128, 0, 2, 3      # 24 bytes
        store_act 256, 0, 3, 4      # 12 bytes
        store_sp 512, 0, 1, 2       # 2 bytes
        fence
        read_counter 2
        read_counter 4
        read_counter 5
        read_counter 3
        read_counter 0
        read_counter 1
        read_counter_hi 2
        read_counter 3
    """)
    assert model.run(program) == [18, 36, 38, 14, 0, 0, 0, 18]
    model.counters[Counter.MACS] = (5 << 32) | 7
    assert model.run(assemble("read_counter 2\nread_counter_hi 2")) == [7, 5]
    assert model.run(assemble("reset_counters\nread_counter 3\nread_counter 3\nread_counter 2"
                              "\nread_counter_hi 2")) == [0, 1, 0, 0]
    assert all(v == 0 for c, v in model.counters.items() if c != Counter.INSTRUCTIONS)


def test_status_layout():
    cfg = CONFIGS["4x4ws"]
    model = GoldenModel(cfg, MEM)
    assert model.run([encode("status")]) == [0]
    assert STATUS_BITS == {"busy": (0, 1), "error": (1, 1), "cause": (8, 8),
                           "err_funct7": (16, 7), "err_funct3": (23, 3)}
    ins = BY_NAME["store_act"]
    with pytest.raises(AccelError):
        ex(model, "store_act", mem_addr=0, acc_addr=cfg.acc_rows, rows=1, cols=1)
    word = model.run([encode("status")])[0]
    assert word == (1 << 1) | (ErrorCause.ACC_RANGE << 8) | (ins.funct7 << 16) \
        | (ins.funct3 << 23)
    assert word == model.status
    assert status_fields(word) == {"busy": 0, "error": 1, "cause": ErrorCause.ACC_RANGE,
                                   "err_funct7": 0x12, "err_funct3": 2}


# -- errors -------------------------------------------------------------------------------------

def _cmd(name, **ops):
    return encode(name, **ops)


def error_cases():
    """(id, config name, setup program, failing command, cause)."""
    c = CONFIGS["4x4ws"]
    o = CONFIGS["5x2os"]
    sp, acc = c.sp_rows, c.acc_rows
    pre = [_cmd("preload", b_addr=0, k=2, n=2)]
    window = _cmd("config_window", base=1024, last=2047)
    return [
        ("unknown-code", "4x4ws", [], Command(0x7F, 7, 0, 0), ErrorCause.ILLEGAL_INSTRUCTION),
        ("unknown-funct3", "4x4ws", [], Command(0x14, 5, 0, 0), ErrorCause.ILLEGAL_INSTRUCTION),
        ("reserved-bits", "4x4ws", [], Command(0x15, 0, 1, 0), ErrorCause.ILLEGAL_INSTRUCTION),
        ("reserved-bits-compute", "4x4ws", pre, Command(0x14, 0, 0, 1 << 16),
         ErrorCause.ILLEGAL_INSTRUCTION),
        ("reserved-act", "4x4ws", [], Command(0x10, 2, 3, (2 << 6) | 1),
         ErrorCause.ILLEGAL_INSTRUCTION),
        ("unknown-counter", "4x4ws", [], _cmd("read_counter", counter=6),
         ErrorCause.ILLEGAL_INSTRUCTION),
        ("unknown-counter-hi", "4x4ws", [], _cmd("read_counter_hi", counter=255),
         ErrorCause.ILLEGAL_INSTRUCTION),
        ("load_sp-sp", "4x4ws", [], _cmd("load_sp", mem_addr=0, sp_addr=sp - 1, rows=2, cols=1),
         ErrorCause.SP_RANGE),
        ("load_sp_t-sp", "4x4ws", [],
         _cmd("load_sp_t", mem_addr=0, sp_addr=sp - 2, rows=1, cols=3), ErrorCause.SP_RANGE),
        ("store_sp-sp", "4x4ws", [],
         _cmd("store_sp", mem_addr=0, sp_addr=sp, rows=1, cols=1), ErrorCause.SP_RANGE),
        ("preload-sp", "4x4ws", [], _cmd("preload", b_addr=sp - 3, k=4, n=1),
         ErrorCause.SP_RANGE),
        ("compute-ws-a-sp", "4x4ws", pre, _cmd("compute", a_addr=sp - 1, m=2, c_addr=0),
         ErrorCause.SP_RANGE),
        ("compute-os-a-sp", "5x2os", [_cmd("preload", b_addr=0, k=5, n=2)],
         _cmd("compute_acc", a_addr=o.sp_rows - 4, m=1, c_addr=0), ErrorCause.SP_RANGE),
        ("load_acc-acc", "4x4ws", [],
         _cmd("load_acc", mem_addr=0, acc_addr=acc - 1, rows=2, cols=1), ErrorCause.ACC_RANGE),
        ("store_acc-acc", "4x4ws", [],
         _cmd("store_acc", mem_addr=0, acc_addr=acc, rows=1, cols=1), ErrorCause.ACC_RANGE),
        ("store_act-acc", "4x4ws", [],
         _cmd("store_act", mem_addr=0, acc_addr=65535, rows=256, cols=1), ErrorCause.ACC_RANGE),
        ("compute-acc", "4x4ws", pre, _cmd("compute", a_addr=0, m=3, c_addr=acc - 2),
         ErrorCause.ACC_RANGE),
        ("load_sp-mem", "4x4ws", [],
         _cmd("load_sp", mem_addr=MEM - 3, sp_addr=0, rows=1, cols=4), ErrorCause.MEM_RANGE),
        ("load_sp-mem-stride", "4x4ws", [_cmd("config_load", stride=MEM // 2)],
         _cmd("load_sp", mem_addr=0, sp_addr=0, rows=3, cols=1), ErrorCause.MEM_RANGE),
        ("load_acc-mem", "4x4ws", [],
         _cmd("load_acc", mem_addr=0xFFFF_FFFF, acc_addr=0, rows=1, cols=1),
         ErrorCause.MEM_RANGE),
        ("store_sp-mem", "4x4ws", [_cmd("config_store", stride=1000)],
         _cmd("store_sp", mem_addr=100, sp_addr=0, rows=5, cols=4), ErrorCause.MEM_RANGE),
        ("store_acc-mem", "4x4ws", [],
         _cmd("store_acc", mem_addr=MEM - 15, acc_addr=0, rows=1, cols=4), ErrorCause.MEM_RANGE),
        ("store_act-mem", "4x4ws", [],
         _cmd("store_act", mem_addr=MEM, acc_addr=0, rows=1, cols=1), ErrorCause.MEM_RANGE),
        ("load_sp-shape", "4x4ws", [], _cmd("load_sp", mem_addr=0, sp_addr=0, rows=1, cols=5),
         ErrorCause.SHAPE),
        ("load_sp_t-shape", "4x4ws", [],
         _cmd("load_sp_t", mem_addr=0, sp_addr=0, rows=5, cols=1), ErrorCause.SHAPE),
        ("store_sp-shape", "4x4ws", [],
         _cmd("store_sp", mem_addr=0, sp_addr=0, rows=1, cols=256), ErrorCause.SHAPE),
        ("load_acc-shape", "3x5ws", [],
         _cmd("load_acc", mem_addr=0, acc_addr=0, rows=1, cols=6), ErrorCause.SHAPE),
        ("store_acc-shape", "5x2os", [],
         _cmd("store_acc", mem_addr=0, acc_addr=0, rows=1, cols=3), ErrorCause.SHAPE),
        ("store_act-shape", "5x2os", [],
         _cmd("store_act", mem_addr=0, acc_addr=0, rows=1, cols=3), ErrorCause.SHAPE),
        ("preload-ws-k", "3x5ws", [], _cmd("preload", b_addr=0, k=4, n=1), ErrorCause.SHAPE),
        ("preload-n", "3x5ws", [], _cmd("preload", b_addr=0, k=1, n=6), ErrorCause.SHAPE),
        ("compute-os-m", "5x2os", [_cmd("preload", b_addr=0, k=3, n=2)],
         _cmd("compute", a_addr=0, m=6, c_addr=0), ErrorCause.SHAPE),
        ("no-weights", "4x4ws", [], _cmd("compute", a_addr=0, m=1, c_addr=0),
         ErrorCause.NO_WEIGHTS),
        ("no-weights-acc", "5x2os", [], _cmd("compute_acc", a_addr=0, m=1, c_addr=0),
         ErrorCause.NO_WEIGHTS),
        ("load_sp-window-below", "4x4ws", [window],
         _cmd("load_sp", mem_addr=1020, sp_addr=0, rows=1, cols=4), ErrorCause.MEM_WINDOW),
        ("load_sp_t-window-stride", "5x2os", [window, _cmd("config_load", stride=600)],
         _cmd("load_sp_t", mem_addr=1024, sp_addr=0, rows=3, cols=1), ErrorCause.MEM_WINDOW),
        ("load_acc-window-above", "4x4ws", [window],
         _cmd("load_acc", mem_addr=2044, acc_addr=0, rows=1, cols=2), ErrorCause.MEM_WINDOW),
        ("store_sp-window-stride", "4x4ws", [window, _cmd("config_store", stride=1024)],
         _cmd("store_sp", mem_addr=1024, sp_addr=0, rows=2, cols=1), ErrorCause.MEM_WINDOW),
        ("store_acc-window-above", "4x4ws", [window],
         _cmd("store_acc", mem_addr=2047, acc_addr=0, rows=1, cols=1), ErrorCause.MEM_WINDOW),
        ("store_act-window-below", "4x4ws", [window],
         _cmd("store_act", mem_addr=0, acc_addr=0, rows=1, cols=1), ErrorCause.MEM_WINDOW),
        ("mem-range-before-window", "4x4ws", [window],
         _cmd("load_sp", mem_addr=MEM - 1, sp_addr=0, rows=1, cols=2), ErrorCause.MEM_RANGE),
        ("window-locked", "4x4ws", [window, _cmd("lock_window")],
         _cmd("config_window", base=0, last=MEM - 1), ErrorCause.WINDOW_LOCKED),
        ("window-locked-before-invalid", "4x4ws", [_cmd("lock_window")],
         _cmd("config_window", base=8, last=3), ErrorCause.WINDOW_LOCKED),
        ("window-base-after-last", "4x4ws", [],
         _cmd("config_window", base=2048, last=1023), ErrorCause.WINDOW_INVALID),
        ("window-misaligned-base", "4x4ws", [],
         _cmd("config_window", base=2, last=1023), ErrorCause.WINDOW_INVALID),
        ("window-misaligned-last", "4x4ws", [],
         _cmd("config_window", base=0, last=1022), ErrorCause.WINDOW_INVALID),
        ("window-misaligned-64-bit-bus", "bus64m12", [],
         _cmd("config_window", base=4, last=1023), ErrorCause.WINDOW_INVALID),
        ("window-beyond-memory", "bus64m12", [],
         _cmd("config_window", base=0, last=4096 + 7), ErrorCause.WINDOW_INVALID),
    ]


CASES = error_cases()


def test_every_model_cause_is_covered():
    causes = {case[-1] for case in CASES}
    assert causes == set(ErrorCause) - {ErrorCause.NONE, ErrorCause.BUS_ERROR}


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_error(case):
    _, cfg_name, setup, bad, cause = case
    cfg = CONFIGS[cfg_name]
    rng = random.Random(case[0])
    model = random_model(cfg, rng)
    model.run(setup)
    model.run(assemble("config_act 3, 1, 1, -2"))  # non-reset registers to watch
    before = snapshot(model)

    # the failing instruction changes nothing but the sticky error
    with pytest.raises(AccelError) as exc:
        model.execute(bad)
    assert exc.value.cause == cause
    assert exc.value.command == bad
    assert "\n" not in str(exc.value)
    after = snapshot(model)
    assert_same(before, after, ignore=("error", "err_funct7", "err_funct3"))
    fields = status_fields(model.status)
    assert fields == {"busy": 0, "error": 1, "cause": int(cause), "err_funct7": bad.funct7,
                      "err_funct3": bad.funct3}

    # while the error is set, everything but status/clear_error/counters is discarded
    discarded = assemble("""
        config_load 4
        config_store 4
        config_act 1, 0, 0, 0
        load_sp 0, 0, 1, 1
        load_acc 0, 0, 1, 1
        store_sp 0, 0, 1, 1
        store_acc 0, 0, 1, 1
        store_act 0, 0, 1, 1
        preload 0, 1, 1
        compute 0, 1, 0
        fence
        .raw 0x7f, 7, 0, 0
        compute_acc 0, 1, 0
        config_window 8, 15
        lock_window
    """)
    count = model.counters[Counter.INSTRUCTIONS]
    for cmd in discarded:
        assert model.execute(cmd) is None
    assert_same(after, snapshot(model))
    assert model.run(assemble("status\nread_counter 3\nread_counter_hi 3")) == \
        [model.status, count + 1, 0]
    # a second failure does not overwrite the first cause
    with pytest.raises(AccelError):
        model.execute(encode("read_counter", counter=200))
    assert status_fields(model.status)["cause"] == cause
    model.run(assemble("reset_counters"))
    assert model.counters[Counter.INSTRUCTIONS] == 0

    # clear_error, then a correct program runs correctly (in the whole memory again: only a
    # reset unlocks a locked window)
    model.run(assemble("clear_error"))
    assert model.status == 0
    if model.window_locked:
        model.reset()
    else:
        model.run([encode("config_window", base=0, last=cfg.mem_size_limit - 1)])
    a = np.array([[1, -2], [3, 4]])
    b = np.array([[5, 6], [-7, 8]])
    model.mem[0:4] = a.astype(np.int8).view(np.uint8).ravel()
    model.mem[8:12] = b.astype(np.int8).view(np.uint8).ravel()
    load_a = "load_sp 0, 0, 2, 2" if cfg.dataflow is Dataflow.WS else "load_sp_t 0, 0, 2, 2"
    results = model.run(assemble(f"""
        config_load 2
        config_store 8
        {load_a}
        load_sp 8, 4, 2, 2
        preload 4, 2, 2
        compute 0, 2, 1
        config_act 1, 0, 0, 0
        store_acc 64, 1, 2, 2
        status
        read_counter 2
    """))
    assert results == [0, 8]
    out = model.read_block(64, 2, 2, 8, cfg.acc_bytes)
    assert out.tolist() == (a @ b).tolist()


def test_run_reports_index_and_continues():
    cfg = CONFIGS["4x4ws"]
    model = GoldenModel(cfg, MEM)
    program = assemble("fence\ncompute 0, 1, 0\nstatus")
    with pytest.raises(AccelError) as exc:
        model.run(program)
    assert exc.value.index == 1 and exc.value.cause == ErrorCause.NO_WEIGHTS
    assert "instruction 1" in str(exc.value)
    model = GoldenModel(cfg, MEM)
    word = model.run(program, stop_on_error=False)
    assert word == [(1 << 1) | (6 << 8) | (0x14 << 16)]


def test_mem_size_validation():
    with pytest.raises(ValueError):
        GoldenModel(CONFIGS["4x4ws"], 0)
    with pytest.raises(ValueError):
        GoldenModel(AccelConfig(rows=4, cols=4, sp_kib=1, acc_kib=1, sp_banks=1, acc_banks=1,
                                mem_addr_width=12), 4097)


def test_responses_answer_every_command():
    """What a command port answers: rd, or 0 for no result, failures and discards."""
    model = GoldenModel(AccelConfig(rows=2, cols=2, sp_kib=1, acc_kib=1, sp_banks=1,
                                    acc_banks=1), mem_size=256)
    program = [encode("config_load", stride=4), Command(0x7F, 0, 0, 0), encode("status"),
               encode("fence"), encode("clear_error"), encode("status")]
    answers = model.responses(program)
    assert len(answers) == len(program)
    assert answers[0] == 0 and answers[1] == 0 and answers[3] == 0
    assert answers[2] == (1 << 1) | (int(ErrorCause.ILLEGAL_INSTRUCTION) << 8) | (0x7F << 16)
    assert answers[5] == 0
