"""The cycle model on its own: fast checks of its structure, no simulator."""

import time

import pytest

from accel.config import AccelConfig
from accel.isa import encode
from accel.nn.compiler import compile_network
from accel.nn.model_file import load_default
from accel.perf import (CycleEstimate, NetworkEstimate, predict_matmul, predict_network,
                        predict_program)
from accel.isa.spec import Unit
from accel.perf.hazards import command_ranges, conflicts
from accel.perf.transfers import transfer
from accel.compiler.tiler import Requant, plan_matmul

SMALL = dict(sp_kib=1, acc_kib=1, sp_banks=1, acc_banks=1)
CONFIGS = [
    AccelConfig(rows=4, cols=4, dataflow="ws", **SMALL),
    AccelConfig(rows=4, cols=4, dataflow="os", **SMALL),
    AccelConfig(rows=3, cols=5, dataflow="ws", sp_kib=1, acc_kib=1, sp_banks=2, acc_banks=2),
    AccelConfig(rows=2, cols=3, dataflow="os", bus_width=64, acc_width=24, **SMALL),
    AccelConfig(rows=1, cols=1, dataflow="ws", **SMALL),
    AccelConfig(rows=8, cols=2, dataflow="os"),
]
SHAPES = [(1, 1, 1), (1, 9, 1), (5, 7, 3), (16, 16, 16), (33, 17, 9), (2, 40, 11)]


def _fence():
    return encode("fence")


def test_empty_program_takes_no_cycles():
    estimate = predict_program(CONFIGS[0], [])
    assert isinstance(estimate, CycleEstimate)
    assert (estimate.cycles, estimate.commands, estimate.macs) == (0, 0, 0)


def test_instructions_the_dispatcher_executes_cost_one_cycle_each():
    config = CONFIGS[0]
    one = predict_program(config, [_fence()]).cycles
    five = predict_program(config, [encode("config_load", stride=4)] * 4 + [_fence()]).cycles
    assert five == one + 4


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: f"{c.rows}x{c.cols}-{c.dataflow}")
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
def test_bound_never_exceeds_the_prediction(config, shape):
    for bias, requant in ((False, None), (True, Requant(3, 2, relu=True))):
        estimate = predict_matmul(config, *shape, bias=bias, requant=requant)
        assert 0 < estimate.bound <= estimate.cycles
        assert estimate.macs == shape[0] * shape[1] * shape[2]
        assert estimate.commands == len(plan_matmul(config, *shape, bias=bias,
                                                    requant=requant).program)


@pytest.mark.parametrize("config", CONFIGS[:4], ids=lambda c: f"{c.rows}x{c.cols}-{c.dataflow}")
def test_breakdown_accounts_for_the_dispatchers_time(config):
    estimate = predict_matmul(config, 40, 24, 12, bias=True)
    parts = estimate.breakdown
    assert abs(parts["issue"] + parts["hazard"] + parts["front_end"] - estimate.cycles) <= 1
    assert parts["issue"] == estimate.commands
    for unit in ("load", "compute", "store"):
        assert 0 < parts[unit] <= estimate.cycles


@pytest.mark.parametrize("config", CONFIGS[:4], ids=lambda c: f"{c.rows}x{c.cols}-{c.dataflow}")
def test_more_work_never_takes_fewer_cycles(config):
    # Sizes in whole bus words and tiles: odd sizes may legitimately be slower than the next
    # size up (unaligned rows touch more bus words), on the RTL as in the model.
    sizes = (8, 16, 32, 64)
    for dim in range(3):
        cycles = []
        for size in sizes:
            shape = [16, 16, 16]
            shape[dim] = size
            cycles.append(predict_matmul(config, *shape).cycles)
        assert cycles == sorted(cycles), (dim, cycles)
        assert cycles[-1] > cycles[0]


def test_non_square_and_one_wide_arrays():
    for rows, cols in ((1, 1), (1, 7), (7, 1), (3, 5), (8, 2)):
        for dataflow in ("ws", "os"):
            config = AccelConfig(rows=rows, cols=cols, dataflow=dataflow, **SMALL)
            estimate = predict_matmul(config, 9, 10, 11)
            assert estimate.cycles >= estimate.bound >= -(-990 // (rows * cols))


def test_a_dependent_compute_waits_for_its_load():
    config = CONFIGS[0]
    prologue = [encode("config_load", stride=16),
                encode("load_sp", mem_addr=0, sp_addr=0, rows=64, cols=4),
                encode("preload", b_addr=100, k=4, n=4)]
    dependent = prologue + [encode("compute", a_addr=0, m=16, c_addr=0), _fence()]
    independent = prologue + [encode("compute", a_addr=64, m=16, c_addr=0), _fence()]
    assert predict_program(config, dependent).cycles > \
        predict_program(config, independent).cycles + 16


def test_loads_and_stores_share_the_bus():
    config = CONFIGS[0]
    load = [encode("config_load", stride=16),
            encode("load_sp", mem_addr=0, sp_addr=0, rows=64, cols=4)]
    store = [encode("config_store", stride=16),
             encode("store_acc", mem_addr=4096, acc_addr=0, rows=64, cols=4)]
    alone = [predict_program(config, p + [_fence()]).cycles for p in (load, store)]
    both = predict_program(config, load + store + [_fence()])
    assert both.cycles > max(alone)
    assert both.breakdown["bus"] == 64 + 64 * 4


def test_illegal_commands_cost_a_cycle_and_later_commands_are_discarded():
    from accel.isa import Command

    config = CONFIGS[0]
    work = [encode("config_load", stride=16),
            encode("load_sp", mem_addr=0, sp_addr=0, rows=64, cols=4), _fence()]
    estimate = predict_program(config, [Command(0x7F, 0)] + work)
    assert estimate.cycles == predict_program(config, [_fence()] * 4).cycles


def test_compute_before_any_preload_fails_and_discards_the_rest():
    config = CONFIGS[0]
    work = [encode("compute", a_addr=0, m=64, c_addr=0),
            encode("config_load", stride=16),
            encode("load_sp", mem_addr=0, sp_addr=0, rows=64, cols=4), _fence()]
    assert predict_program(config, work).cycles == predict_program(config, [_fence()] * 4).cycles


def test_transfer_counts_the_bus_words_of_unaligned_rows():
    assert transfer(0, 16, 4, 16, 4, 1 << 32).words == 16
    assert transfer(1, 16, 4, 4, 4, 1 << 32).words == 8        # each row straddles two words
    straddling = transfer(0, 3, 4, 3, 4, 1 << 32)              # offsets 0, 3, 2, 1
    assert straddling.words == 1 + 2 + 2 + 1
    assert (straddling.first_row_words, straddling.last_row_words) == (1, 1)


def test_hazard_rule_follows_the_scoreboard():
    load = command_ranges("load_sp", {"mem_addr": 0, "sp_addr": 8, "rows": 4, "cols": 4},
                          stride=4, elem_bytes=1, weights=(0, 0), a_rows=0)
    compute = command_ranges("compute", {"a_addr": 10, "m": 2, "c_addr": 0},
                             stride=0, elem_bytes=0, weights=(32, 4), a_rows=2)
    apart = command_ranges("compute", {"a_addr": 12, "m": 2, "c_addr": 0},
                           stride=0, elem_bytes=0, weights=(32, 4), a_rows=2)
    store = command_ranges("store_acc", {"mem_addr": 8, "acc_addr": 1, "rows": 1, "cols": 4},
                           stride=16, elem_bytes=4, weights=(0, 0), a_rows=0)
    load_u, exec_u, store_u = Unit.LOAD, Unit.EXECUTE, Unit.STORE
    assert conflicts(compute, exec_u, load, load_u)        # reads what the load writes
    assert conflicts(load, load_u, compute, exec_u)        # writes what the compute reads
    assert not conflicts(apart, exec_u, load, load_u)
    assert not conflicts(compute, exec_u, compute, exec_u)  # one unit runs in order
    assert conflicts(store, store_u, compute, exec_u)       # reads accumulator row 1
    assert conflicts(load, load_u, store, store_u)          # overlapping main-memory bytes


@pytest.mark.parametrize("model", ["cnn", "mlp"])
def test_network_estimate_has_a_step_per_program_and_free_host_steps(model):
    config = AccelConfig(rows=4, cols=4, dataflow="ws", **SMALL)
    compiled = compile_network(load_default(model), config)
    estimate = predict_network(config, compiled)
    assert isinstance(estimate, NetworkEstimate)
    assert len(estimate.layers) == len(compiled.steps)
    assert estimate.cycles == sum(layer.cycles for layer in estimate.layers) > 0
    assert estimate.commands == compiled.commands
    for layer, step in zip(estimate.layers, compiled.steps):
        if layer.host:
            assert layer.cycles == 0 and layer.commands == 0 and "(host)" in layer.name
        else:
            assert layer.estimate == predict_program(config, step.commands)
            assert layer.layers == step.layers
    assert [layer.name for layer in estimate.layers][:1] == \
        (["conv2d[0]"] if model == "cnn" else ["dense[0]+dense[1]"])


def test_thousands_of_commands_per_second():
    config = AccelConfig(rows=2, cols=2, sp_kib=4, acc_kib=4)
    program = plan_matmul(config, 128, 64, 64, bias=True).program
    predict_program(config, program[:100])
    start = time.process_time()
    predict_program(config, program)
    assert len(program) / (time.process_time() - start) >= 10_000


def test_config_act_channels_is_a_store_unit_read():
    """config_act_channels: no store bytes, and a store_act after it waits its turn in the
    store unit; a load_acc rewriting its rows waits for it (WAR)."""
    from accel.compiler.tiler import APart, ChannelRequant, Gemm, ProgramBuilder, emit_gemm
    from accel.config import AccelConfig
    from accel.perf.program import predict_program

    cfg = AccelConfig(rows=4, cols=4, sp_kib=1, acc_kib=1)
    builder = ProgramBuilder()
    emit_gemm(cfg, builder, Gemm(20, 10, (APart(0, 16, 16),), 1000, 10, 3000, 10, None,
                                 ChannelRequant(2000, 10)))
    estimate = predict_program(cfg, builder.program)
    assert estimate.store_bytes == 20 * 10
    # A once (it stays in the scratchpad), B once, the table: 2 rows of 4 + 4 + 2 int32 columns
    assert estimate.load_bytes == 20 * 16 + 16 * 10 + 2 * 10 * 4
    assert estimate.cycles > 0
