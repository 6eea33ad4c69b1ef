"""EXEC_BUFFER and ERROR_INDEX in the golden model: a program run from a buffer equals the same
program issued directly; records that fail name their index; the buffer's own checks."""

import random
import struct

import numpy as np
import pytest

from accel.config import AccelConfig
from accel.golden import AccelError, BufferRecordError, GoldenModel
from accel.isa import Command, Counter, ErrorCause, encode, records, riscv_word

MEM = 4096
BUF = 0x800
CONFIG = AccelConfig(rows=3, cols=5, sp_kib=1, acc_kib=1, sp_banks=1, acc_banks=1)


def _model(seed=0):
    model = GoldenModel(CONFIG, mem_size=MEM)
    model.mem[:BUF] = np.random.default_rng(seed).integers(0, 256, BUF, dtype=np.uint8)
    return model


def _put(model, addr, data):
    model.mem[addr:addr + len(data)] = np.frombuffer(data, dtype=np.uint8)


def _program():
    return [encode("config_load", stride=5), encode("config_store", stride=8),
            encode("load_sp", mem_addr=0x40, sp_addr=0, rows=5, cols=3),
            encode("preload", b_addr=0, k=3, n=5),
            encode("load_sp", mem_addr=0x100, sp_addr=8, rows=4, cols=3),
            encode("compute", a_addr=8, m=4, c_addr=0),
            encode("store_acc", mem_addr=0x600, acc_addr=0, rows=4, cols=5),
            encode("store_act", mem_addr=0x700, acc_addr=0, rows=4, cols=5),
            encode("read_counter", counter=int(Counter.MACS)), encode("fence")]


def test_buffer_equals_direct():
    direct, buffered = _model(), _model()
    program = _program()
    direct.run(program)
    _put(buffered, BUF, records(program))
    buffered.run([encode("exec_buffer", mem_addr=BUF, count=len(program))])
    assert (direct.mem[:BUF] == buffered.mem[:BUF]).all()
    assert (direct.sp == buffered.sp).all() and (direct.acc == buffered.acc).all()
    counters = dict(direct.counters)
    counters[Counter.INSTRUCTIONS] += 1   # exec_buffer itself
    assert buffered.counters == counters
    assert buffered.error == ErrorCause.NONE and buffered.error_index == 0


def test_failing_record_sets_error_index_and_discards_the_rest():
    model = _model()
    program = _program()
    program[4] = encode("load_sp", mem_addr=0x100, sp_addr=200, rows=8, cols=3)  # SP_RANGE
    _put(model, BUF, records(program))
    with pytest.raises(BufferRecordError) as exc:
        model.execute(encode("exec_buffer", mem_addr=BUF, count=len(program)))
    assert exc.value.record == 4 and exc.value.cause == ErrorCause.SP_RANGE
    assert (model.error, model.error_index) == (ErrorCause.SP_RANGE, 5)
    assert (model.err_funct7, model.err_funct3) == (0x11, 0)
    assert model.counters[Counter.MACS] == 0     # the compute after it was discarded
    # exec_buffer, records 0..3 and the read_counter record (never discarded)
    assert model.counters[Counter.INSTRUCTIONS] == 6
    assert model.execute(encode("error_index")) == 5
    model.execute(encode("clear_error"))
    assert model.error_index == 0 and model.execute(encode("error_index")) == 0


def test_clear_error_record_resumes_the_buffer():
    model = _model()
    program = [encode("read_counter", counter=99), encode("config_load", stride=3),
               encode("clear_error"), encode("config_load", stride=7)]
    _put(model, BUF, records(program))
    with pytest.raises(BufferRecordError):
        model.execute(encode("exec_buffer", mem_addr=BUF, count=4))
    assert model.error == ErrorCause.NONE and model.load_stride == 7


@pytest.mark.parametrize("word, why", [
    (riscv_word(0x18, 0, 0, 0, 0), "nested"),
    (riscv_word(0x10, 0, 1, 0, 0), "rd"),
    (riscv_word(0x10, 0, 0, 3, 0), "rs1"),
    (riscv_word(0x10, 0, 0, 0, 31), "rs2"),
    (riscv_word(0x10, 0, 0, 0, 0) ^ 0x7F | 0x33, "opcode"),
    (riscv_word(0x7F, 7, 0, 0, 0), "unknown"),
])
def test_bad_records_are_illegal(word, why):
    model = _model()
    good = records([encode("config_load", stride=1)])
    bad = struct.pack("<III", word, BUF, 1)
    _put(model, BUF, good + bad + good)
    with pytest.raises(BufferRecordError) as exc:
        model.execute(encode("exec_buffer", mem_addr=BUF, count=3))
    assert exc.value.cause == ErrorCause.ILLEGAL_INSTRUCTION, why
    assert model.error_index == 2
    assert (model.err_funct7, model.err_funct3) == ((word >> 25) & 0x7F, (word >> 12) & 7)


@pytest.mark.parametrize("addr, count, window, cause", [
    (MEM - 12, 2, None, ErrorCause.MEM_RANGE),
    (MEM - 11, 1, None, ErrorCause.MEM_RANGE),
    (BUF + 2, 1, None, ErrorCause.MEM_RANGE),          # misaligned
    (BUF, 65536, None, ErrorCause.MEM_RANGE),
    (BUF - 4, 2, (BUF, MEM - 1), ErrorCause.MEM_WINDOW),
    (BUF, 2, (0, BUF + 15), ErrorCause.MEM_WINDOW),
])
def test_buffer_checks(addr, count, window, cause):
    model = _model()
    _put(model, BUF, records([encode("config_load", stride=9)] * 2))
    if window:
        model.execute(encode("config_window", base=window[0], last=window[1]))
    with pytest.raises(AccelError) as exc:
        model.execute(encode("exec_buffer", mem_addr=addr, count=count))
    assert not isinstance(exc.value, BufferRecordError)
    assert (model.error, model.error_index, model.err_funct7) == (cause, 0, 0x18)
    assert model.load_stride == 0


def test_buffer_at_the_window_edges_runs():
    model = _model()
    _put(model, BUF, records([encode("config_load", stride=9)] * 2))
    model.execute(encode("config_window", base=BUF, last=BUF + 23))
    model.execute(encode("exec_buffer", mem_addr=BUF, count=2))
    assert model.load_stride == 9 and model.error == ErrorCause.NONE


def test_discarded_while_error_set():
    model = _model()
    _put(model, BUF, records([encode("config_load", stride=9)]))
    with pytest.raises(AccelError):
        model.execute(Command(0x7F, 0))
    assert model.execute(encode("exec_buffer", mem_addr=BUF, count=1)) is None
    assert model.load_stride == 0 and model.error_index == 0


def test_reset_counters_record():
    model = _model()
    program = [encode("fence"), encode("reset_counters"), encode("fence"), encode("fence")]
    _put(model, BUF, records(program))
    model.execute(encode("exec_buffer", mem_addr=BUF, count=4))
    assert model.counters[Counter.INSTRUCTIONS] == 2


def test_random_programs_both_ways():
    from accel.verify.randprog import ProgramSpace, random_program
    space = ProgramSpace(data_size=1024, dump_addr=1024, windows=False)
    size = space.memory_size(CONFIG)
    for seed in range(4):
        rng = random.Random(seed)
        program = random_program(CONFIG, rng, space=space, illegal_rate=0.1, fresh=True)
        data = np.random.default_rng(seed).integers(0, 256, size, dtype=np.uint8)
        direct = GoldenModel(CONFIG, mem_size=size)
        direct.mem[:] = data
        direct.responses(program)
        buffered = GoldenModel(CONFIG, mem_size=size + 12 * len(program))
        buffered.mem[:size] = data
        _put(buffered, size, records(program))
        buffered.responses([encode("exec_buffer", mem_addr=size, count=len(program))])
        assert (direct.mem == buffered.mem[:size]).all()
        assert direct.error == buffered.error
