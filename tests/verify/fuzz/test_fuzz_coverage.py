"""Functional coverage: what counts as executed, a hazard, an error; the report."""

import json

from accel.config import AccelConfig
from accel.verify.fuzz.coverage import HAZARDS, Coverage
from accel.verify.fuzz.reference import BusFaultModel
from accel.isa import INSTRUCTIONS, Command, ErrorCause, encode

CONFIG = AccelConfig(rows=4, cols=4, sp_kib=1, acc_kib=1, sp_banks=1, acc_banks=1)


def _measure(*programs, in_flight=12, windows=()):
    coverage = Coverage(in_flight=in_flight)
    coverage.run(BusFaultModel(CONFIG, mem_size=4096, error_windows=windows), programs)
    return coverage


LOAD = encode("load_sp", mem_addr=0, sp_addr=4, rows=4, cols=4)
PRELOAD = encode("preload", b_addr=4, k=4, n=4)
COMPUTE = encode("compute", a_addr=6, m=2, c_addr=0)


def test_hazards_between_instructions_that_may_overlap():
    coverage = _measure([encode("config_load", stride=4), LOAD, PRELOAD, COMPUTE,
                         encode("config_store", stride=16),
                         encode("store_acc", mem_addr=0, acc_addr=0, rows=2, cols=4)])
    assert coverage.hazard_pairs[("load_sp", "compute", "RAW sp")] == 1
    assert coverage.hazard_pairs[("compute", "store_acc", "RAW acc")] == 1
    assert coverage.hazard_pairs[("load_sp", "store_acc", "WAR mem")] == 1
    assert coverage.hazard_by_instruction[("compute", "RAW sp")] == 1
    assert set(coverage.hazards) == {"RAW sp", "RAW acc", "WAR mem"}


def test_a_fence_or_distance_ends_the_overlap():
    fenced = _measure([LOAD, PRELOAD, encode("fence"), COMPUTE])
    assert not fenced.hazards
    far = _measure([LOAD, PRELOAD] + [encode("status")] * 3 + [COMPUTE], in_flight=4)
    assert not far.hazards
    near = _measure([LOAD, PRELOAD] + [encode("status")] * 2 + [COMPUTE], in_flight=4)
    assert near.hazards["RAW sp"] == 1


def test_programs_run_back_to_back_share_the_window():
    coverage = _measure([LOAD], [PRELOAD, COMPUTE])
    assert coverage.hazards["RAW sp"] == 1


def test_errors_failures_and_discards():
    illegal = Command(0x7F, 7, 0, 0)
    coverage = _measure([illegal, LOAD, encode("status"), encode("clear_error"),
                         encode("compute", a_addr=0, m=1, c_addr=0),
                         encode("clear_error"),
                         encode("load_sp", mem_addr=1022, sp_addr=0, rows=2, cols=4)],
                        windows=[(1024, 2048)])
    assert coverage.errors == {"ILLEGAL_INSTRUCTION": 1, "NO_WEIGHTS": 1, "BUS_ERROR": 1}
    assert coverage.error_by_instruction[("ILLEGAL_INSTRUCTION", ".illegal")] == 1
    assert coverage.error_by_instruction[("BUS_ERROR", "load_sp")] == 1
    assert coverage.discarded["load_sp"] == 1
    assert coverage.executed["status"] == 1 and coverage.executed["load_sp"] == 0
    assert coverage.failed["compute"] == 1


def test_goals_come_from_the_spec_and_misses_are_reported():
    coverage = _measure([LOAD, PRELOAD, COMPUTE])
    goals = coverage.goals()
    assert goals["instructions"] == [ins.name for ins in INSTRUCTIONS]
    assert goals["hazards"] == list(HAZARDS) and len(HAZARDS) == 9
    assert goals["errors"] == [c.name for c in ErrorCause if c != ErrorCause.NONE]
    missing = coverage.missing()
    assert "load_sp" not in missing["instructions"] and "fence" in missing["instructions"]
    assert missing["hazards"] == [h for h in HAZARDS if h != "RAW sp"]
    assert not coverage.complete()


def test_merge_table_and_json():
    total = _measure([LOAD, PRELOAD, COMPUTE])
    total.merge(_measure([LOAD]))
    assert total.executed["load_sp"] == 2
    table = total.table()
    lines = table.splitlines()
    assert lines[0] == total.summary_line()
    assert lines[0].startswith(f"coverage: 3/{len(INSTRUCTIONS)} instruction kinds, "
                               f"1/9 hazard kinds, 0/")
    for ins in INSTRUCTIONS:
        assert any(line.split()[0] == ins.name for line in lines)
    assert lines[-1].startswith("missing: instructions: ")
    data = json.loads(total.to_json())
    assert data["executed"]["load_sp"] == 2
    assert data["hazard_pairs"] == {"load_sp -> compute @ RAW sp": 1}
    assert data["missing"] == total.missing()
