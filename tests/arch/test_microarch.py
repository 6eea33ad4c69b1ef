# amaranth: UnusedElaboratable=no
"""``accel.arch.microarch``: the constants agree with the configuration, the ISA and the
gateware built from them (constructed here, not simulated; the RTL tests measure latencies)."""

import pytest

from accel.arch.microarch import (ACC_WRITE_LATENCY, ACTIVATION_LATENCY, COUNT_BITS, MEM_ALIGN,
                                  ROW_ADDR_BITS, ROW_RANGE_BITS, STRIDE_BITS, align_up,
                                  array_latency, dma_row_bytes, row_words)
from accel.config import BUS_WIDTHS, MAX_BLOCK_ROWS, AccelConfig, Dataflow
from accel.isa.spec import BY_NAME

CONFIGS = [AccelConfig(rows=2, cols=3, dataflow="os", input_width=4, acc_width=12),
           AccelConfig(rows=4, cols=4, sp_kib=4, acc_kib=4, sp_banks=2, acc_banks=1),
           AccelConfig(rows=3, cols=8, input_width=12, acc_width=40, bus_width=128)]


def test_widths_hold_every_operand_the_isa_can_encode():
    counts = BY_NAME["load_sp"].field("rows")
    assert counts.max_value == MAX_BLOCK_ROWS < (1 << COUNT_BITS)
    assert (1 << (COUNT_BITS - 1)) <= MAX_BLOCK_ROWS          # and not a bit more
    for name, field in (("load_sp", "sp_addr"), ("load_acc", "acc_addr"), ("compute", "a_addr"),
                        ("compute", "c_addr"), ("preload", "b_addr")):
        assert BY_NAME[name].field(field).width == ROW_ADDR_BITS
    assert ROW_RANGE_BITS == ROW_ADDR_BITS + 1                 # hi = last row + 1 fits
    assert BY_NAME["config_load"].field("stride").width == STRIDE_BITS


@pytest.mark.parametrize("value", [0, 1, 63, 64, 65, 1000, 4096])
def test_align_up(value):
    aligned = align_up(value)
    assert aligned % MEM_ALIGN == 0 and value <= aligned < value + MEM_ALIGN
    assert align_up(value, 4) % 4 == 0 and value <= align_up(value, 4) < value + 4


def test_mem_align_covers_the_widest_bus_word():
    assert MEM_ALIGN % (max(BUS_WIDTHS) // 8) == 0


@pytest.mark.parametrize("config", CONFIGS, ids=str)
def test_dma_row_bytes_fits_a_scratchpad_row_and_an_accumulator_row(config):
    row = dma_row_bytes(config)
    assert row == max(config.dim * config.in_bytes, config.cols * config.acc_bytes)
    assert row >= config.sp_row_bits // 8 and row >= config.acc_row_bits // 8


@pytest.mark.parametrize("dataflow", list(Dataflow))
def test_array_latency_is_the_systolic_arrays(dataflow):
    from accel.systolic import SystolicArray

    for rows, cols in ((1, 1), (2, 5), (7, 3)):
        array = SystolicArray(rows=rows, cols=cols, dataflow=dataflow.value)
        assert array.latency == array_latency(rows, cols, dataflow)
    assert array_latency(3, 5, "ws") == 8 and array_latency(3, 5, "os") == 7


def test_the_gateware_is_built_from_the_constants():
    from accel.control.activation import ActivationUnit
    from accel.perf.timing import Timing

    assert ActivationUnit.LATENCY == ACTIVATION_LATENCY
    for config in CONFIGS:
        timing = Timing.from_config(config)
        assert timing.activation_latency == ACTIVATION_LATENCY
        assert timing.array_latency == array_latency(config.rows, config.cols, config.dataflow)
        assert timing.exec_tail == (ACC_WRITE_LATENCY - 1 if config.dataflow is Dataflow.WS
                                    else ACC_WRITE_LATENCY + 3)


@pytest.mark.parametrize("bus_bytes", [1, 2, 4, 8, 16, 32])
def test_row_words_counts_the_bus_words_a_row_touches(bus_bytes):
    for offset in range(bus_bytes):
        for row_bytes in range(1, 3 * bus_bytes + 2):
            touched = {(offset + i) // bus_bytes for i in range(row_bytes)}
            assert row_words(offset, row_bytes, bus_bytes) == len(touched)
