"""One STATUS word: the C header's macros, the golden model and the dispatcher agree on every bit.

All three come from `accel.isa.spec.STATUS_BITS`: the header through `accel.isa.cheader`, the
golden model through `accel.isa.status.status_word`, the dispatcher through
`accel.control.status.STATUS_LAYOUT`. Here the layout is compared bit by bit with the pure
packing and the header's masks, then the dispatcher (in the Amaranth simulator, fake units) runs a
program that sets every reachable bit — every error cause, every bit of the failing
instruction's funct7 and funct3, busy — and each STATUS it answers is decoded by a host C
program built from the header and compared with the golden model's word.
"""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
from amaranth.hdl import Fragment

from accel.control.dispatcher import Dispatcher
from accel.control.status import STATUS_LAYOUT
from accel.golden.model import AccelError, GoldenModel
from accel.isa import BY_CODE, Command, ErrorCause, encode, render_c_header
from accel.isa.status import STATUS_FIELDS, STATUS_WIDTH, decode_status, status_word
from tests.control.test_dispatcher import CFG_NS, mem_size, simulate

CONFIG = CFG_NS     # 12-bit addresses: MEM_RANGE is reachable in a small golden memory


def _header_fields(config) -> dict[str, tuple[int, int]]:
    """``{field: (lsb, mask)}`` as the C header defines them."""
    text = render_c_header(config)
    lsbs = dict(re.findall(r"^#define ACCEL_STATUS_(\w+)_LSB (\d+)$", text, re.M))
    masks = dict(re.findall(r"^#define ACCEL_STATUS_(\w+)_MASK (0x[0-9a-f]+)u$", text, re.M))
    assert lsbs.keys() == masks.keys() and lsbs
    return {name.lower(): (int(lsbs[name]), int(masks[name], 16)) for name in lsbs}


def _decode_in_c(tmp_path, config, words: list[int]) -> list[dict[str, int]]:
    """Decode ``words`` with the header's macros, compiled and run on the host."""
    gcc = shutil.which("gcc") or shutil.which("cc")
    if gcc is None:
        pytest.fail("no host C compiler (gcc) on PATH")
    names = [name.upper() for name in _header_fields(config)]
    (tmp_path / "accelgen.h").write_text(render_c_header(config))
    lines = ['#include <stdio.h>', '#include "accelgen.h"', 'static const uint32_t words[] = {',
             *(f"    {word:#x}u," for word in words), '};', 'int main(void) {',
             '    for (unsigned i = 0; i < sizeof words / sizeof words[0]; i++) {',
             '        uint32_t w = words[i];']
    lines += [f'        printf("%lu ", (unsigned long)((w >> ACCEL_STATUS_{n}_LSB) '
              f'& ACCEL_STATUS_{n}_MASK));' for n in names]
    lines += ['        printf("\\n");', '    }', '    return 0;', '}']
    (tmp_path / "status.c").write_text("\n".join(lines) + "\n")
    exe = tmp_path / "status"
    subprocess.run([gcc, "-std=gnu11", "-Wall", "-Werror", "-o", str(exe),
                    str(tmp_path / "status.c")], check=True, cwd=tmp_path, timeout=60)
    out = subprocess.run([str(exe)], check=True, capture_output=True, text=True, timeout=60)
    return [dict(zip((n.lower() for n in names), map(int, line.split())))
            for line in out.stdout.splitlines()]


# -- the layout, bit by bit -----------------------------------------------------------------

def test_layout_header_and_packing_agree_on_every_bit():
    header = _header_fields(CONFIG)
    assert STATUS_LAYOUT.size == STATUS_WIDTH
    assert list(header) == [f.name for f in STATUS_FIELDS] == list(dict(STATUS_LAYOUT))
    for field in STATUS_FIELDS:
        lsb, mask = header[field.name]
        assert (lsb, mask) == (field.lsb, field.mask)
        assert STATUS_LAYOUT[field.name].offset == field.lsb
        for bit in range(field.width):
            word = status_word({field.name: 1 << bit})
            rtl = STATUS_LAYOUT.const({field.name: 1 << bit}).as_value().value
            assert rtl == word == (1 << bit) << lsb, (field.name, bit)
    dispatcher = Dispatcher(CONFIG)
    assert dispatcher.cause.shape().width == STATUS_LAYOUT["cause"].shape.width
    Fragment.get(dispatcher, None)      # it elaborates with that port (and is "used")


# -- the dispatcher, the golden model and the header on one program ------------------------

def _illegal_codes() -> list[tuple[int, int]]:
    """Unknown (funct7, funct3) pairs that, together, set every bit of both fields."""
    def unknown(funct7, choices):
        return next((funct7, f3) for f3 in choices if (funct7, f3) not in BY_CODE)
    codes = [unknown(1 << bit, (7, 6, 5, 3, 0)) for bit in range(7)]
    codes += [unknown(0x01, (1 << bit,)) for bit in range(3)]
    return codes


def _failing_cases(cfg) -> list[tuple[list[Command], Command, ErrorCause]]:
    """(set-up, failing command, its cause); run in this order (a locked window stays)."""
    top = cfg.mem_size_limit
    cases = [([], encode("compute", a_addr=0, m=1, c_addr=0), ErrorCause.NO_WEIGHTS)]
    cases += [([], Command(funct7, funct3, 0, 0), ErrorCause.ILLEGAL_INSTRUCTION)
              for funct7, funct3 in _illegal_codes()]
    cases += [
        ([], encode("load_sp", mem_addr=0, sp_addr=cfg.sp_rows - 1, rows=2, cols=1),
         ErrorCause.SP_RANGE),
        ([], encode("store_acc", mem_addr=0, acc_addr=cfg.acc_rows - 1, rows=2, cols=1),
         ErrorCause.ACC_RANGE),
        ([encode("config_load", stride=4)],
         encode("load_sp", mem_addr=top - 1, sp_addr=0, rows=1, cols=2), ErrorCause.MEM_RANGE),
        ([], encode("preload", b_addr=0, k=cfg.tile_limits[1] + 1, n=1), ErrorCause.SHAPE),
        ([], encode("read_counter", counter=7), ErrorCause.ILLEGAL_INSTRUCTION),
        ([encode("config_window", base=256, last=511)],
         encode("store_act", mem_addr=0, acc_addr=0, rows=1, cols=1), ErrorCause.MEM_WINDOW),
        ([], encode("config_window", base=64, last=31), ErrorCause.WINDOW_INVALID),
        ([encode("config_window", base=0, last=top - 1), encode("lock_window")],
         encode("config_window", base=0, last=255), ErrorCause.WINDOW_LOCKED),
    ]
    return cases


def _program(cfg) -> tuple[list[Command], dict[int, dict]]:
    """The program, and for each STATUS in it (by index) the fields it must report."""
    program = [encode("config_load", stride=4),
               encode("load_sp", mem_addr=0, sp_addr=0, rows=1, cols=1),   # held in flight
               encode("status"), encode("fence"), encode("status")]
    expect = {2: {"busy": 1}, 4: {}}
    for before, failing, cause in _failing_cases(cfg):
        program += [*before, failing, encode("status"), encode("clear_error")]
        expect[len(program) - 2] = {"error": 1, "cause": int(cause),
                                    "err_funct7": failing.funct7, "err_funct3": failing.funct3}
    program.append(encode("status"))
    expect[len(program) - 1] = {}
    return program, expect


def _golden_results(cfg, program) -> list[int | None]:
    model = GoldenModel(cfg, mem_size(cfg))
    results = []
    for cmd in program:
        try:
            results.append(model.execute(cmd))
        except AccelError:
            results.append(None)
    return results


@pytest.mark.slow
def test_dispatcher_golden_and_header_agree(tmp_path):
    program, expect = _program(CONFIG)
    golden = _golden_results(CONFIG, program)
    run = simulate(CONFIG, program, seed=5,
                   latency_of=lambda unit, nth: 60 if (unit, nth) == ("load", 0) else None)
    rtl = [rd for _, rd in run.responses]
    assert len(rtl) == len(program)
    indices = sorted(expect)
    in_c = _decode_in_c(tmp_path, CONFIG, [rtl[i] for i in indices])
    for index, from_header in zip(indices, in_c):
        fields = {f.name: 0 for f in STATUS_FIELDS} | expect[index]
        where = f"STATUS at {index}: rtl {rtl[index]:#010x}, golden {golden[index]:#010x}"
        # the golden model is never busy; the dispatcher was, with the load in flight
        assert rtl[index] == golden[index] | status_word({"busy": fields["busy"]}), where
        assert decode_status(rtl[index]) == from_header == fields, where
        assert rtl[index] == status_word(fields), where
    # every bit a STATUS can show was shown
    seen = 0
    for index in indices:
        seen |= rtl[index]
    cause_bits = 0
    for cause in ErrorCause:
        cause_bits |= int(cause)
    assert seen == status_word({"busy": 1, "error": 1, "cause": cause_bits,
                                "err_funct7": 0x7F, "err_funct3": 0x7})


@pytest.mark.slow
def test_bus_error_status(tmp_path):
    """BUS_ERROR, which only the hardware reports: the failing unit's instruction codes."""
    load_acc = encode("load_acc", mem_addr=0, acc_addr=0, rows=1, cols=1)
    program = [encode("config_load", stride=4), load_acc, encode("fence"), encode("status"),
               encode("clear_error"), encode("status")]
    run = simulate(CONFIG, program, seed=2, bus_errors={("load", 0)})
    words = [run.responses[3][1], run.responses[5][1]]
    want = {f.name: 0 for f in STATUS_FIELDS} | {
        "error": 1, "cause": int(ErrorCause.BUS_ERROR), "err_funct7": load_acc.funct7,
        "err_funct3": load_acc.funct3}
    assert load_acc.funct3 != 0     # the unit's reported funct3 reaches the word
    assert _decode_in_c(tmp_path, CONFIG, words) == [want, {f.name: 0 for f in STATUS_FIELDS}]
    assert words == [status_word(want), 0]
