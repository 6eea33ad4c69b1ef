"""`accel.isa.status`: the STATUS word packed and unpacked from `spec.STATUS_BITS` alone."""

import pytest

from accel.isa import status as status_module
from accel.isa.spec import STATUS_BITS
from accel.isa.status import (STATUS_FIELDS, STATUS_WIDTH, StatusField, decode_status,
                              status_word)


def test_fields_are_the_spec_table():
    assert [(f.name, f.lsb, f.width) for f in STATUS_FIELDS] == \
        [(name, lsb, width) for name, (lsb, width) in STATUS_BITS.items()]
    assert StatusField("x", 3, 5).mask == 0b11111


@pytest.mark.parametrize("field", STATUS_FIELDS, ids=lambda f: f.name)
def test_every_bit_round_trips(field):
    for bit in range(field.width):
        word = status_word({field.name: 1 << bit})
        assert word == 1 << (field.lsb + bit)
        assert decode_status(word) == {f.name: (1 << bit if f is field else 0)
                                       for f in STATUS_FIELDS}
    full = status_word({field.name: field.mask})
    assert bin(full).count("1") == field.width


def test_reserved_bits_decode_to_nothing():
    used = sum(f.mask << f.lsb for f in STATUS_FIELDS)
    reserved = ((1 << STATUS_WIDTH) - 1) & ~used
    assert reserved != 0
    assert decode_status(reserved) == {f.name: 0 for f in STATUS_FIELDS}
    assert decode_status(0xFFFF_FFFF) == {f.name: f.mask for f in STATUS_FIELDS}


def test_a_whole_word():
    fields = {"busy": 1, "error": 1, "cause": 7, "err_funct7": 0x12, "err_funct3": 5}
    word = status_word(fields)
    assert word == 1 | 1 << 1 | 7 << 8 | 0x12 << 16 | 5 << 23
    assert decode_status(word) == fields
    assert status_word({}) == 0


@pytest.mark.parametrize("fields,message", [
    ({"errors": 1}, "no STATUS field 'errors'; the fields are busy, error, cause"),
    ({"cause": 256}, "STATUS field cause holds 0..255, not 256"),
    ({"busy": -1}, "STATUS field busy holds 0..1, not -1"),
])
def test_bad_fields(fields, message):
    with pytest.raises(ValueError, match=message):
        status_word(fields)


@pytest.mark.parametrize("word", [-1, 1 << 32])
def test_bad_words(word):
    with pytest.raises(ValueError, match="a STATUS word is 32 bits unsigned"):
        decode_status(word)


@pytest.mark.parametrize("table", [
    {"error": (0, 1), "busy": (0, 1)},          # overlapping
    {"busy": (31, 2)},                          # beyond bit 31
    {"busy": (0, 0)},                           # empty
])
def test_a_bad_table_is_refused(monkeypatch, table):
    monkeypatch.setattr(status_module, "STATUS_BITS", table)
    with pytest.raises(ValueError, match="STATUS_BITS: field busy"):
        status_module._fields()
