"""Compiled networks on the SoC: the mnist firmware on PicoRV32 drives the accelerator over PCPI.

Every run uses the SoC configuration of tests/soc (one Verilator build for all of them): a 4x4
weight-stationary array with 1 KiB scratchpad and 2 KiB accumulator, 128 KiB of SRAM.
"""

import dataclasses
import re

import numpy as np
import pytest

from accel.build.firmware import FIRMWARE_DIR
from accel.isa.assembler import assemble, records
from accel.isa.encoding import Command
from accel.isa.spec import BY_NAME, STATUS_BITS, ErrorCause
from accel.nn.inference import bound_cycles, run_golden
from accel.nn.network import Conv2D, Dense, MaxPool2D, QuantizedNetwork, reference
from accel.perf.timeline import LANES
from accel.runtime.network_soc import (
    SocError, SramTooSmall, describe_status, run_batch, run_soc, soc_firmware,
)
from accel.runtime.soc_image import (
    BLOB_MAGIC, BLOB_VERSION, HEADER_WORDS, LUT_ONLY, RECORD_BYTES, STAGE_BYTES, STEP_ACCEL,
    STEP_KINDS, input_stages, plan_layout,
)
from accel.compiler.tiler import Requant
from tests.support.configs import SOC_TEST_CONFIG as CONFIG
from tests.support.nets import random_images, random_mlp
from tests.support.riscv import require_toolchain

pytestmark = [pytest.mark.rtl, pytest.mark.soc]


def odd_cnn(seed=7):
    """A small CNN whose pooling takes every path of the firmware's max pooling: 2x2 windows
    over 26x26x3 stored with pitch 28 (byte by byte: 3 channels), 2x2 over 12x12x8 with pitch
    13 (four channels per word), then 3x3 over 4x4x5 with pitch 6 (the general loop, a remainder
    of 1 dropped)."""
    rng = np.random.default_rng(seed)

    def w(*shape):
        return rng.integers(-128, 128, shape)

    return QuantizedNetwork("cnn", [
        Conv2D(w(3, 3, 1, 3), rng.integers(-3000, 3000, 3), Requant(1 << 30, 42, relu=True)),
        MaxPool2D(2),
        Conv2D(w(2, 2, 3, 8), rng.integers(-3000, 3000, 8), Requant(1 << 30, 39, relu=False)),
        MaxPool2D(2),
        Conv2D(w(3, 3, 8, 5), rng.integers(-3000, 3000, 5), Requant(1 << 30, 40, relu=True)),
        MaxPool2D(3),
        Dense(w(5, 10), rng.integers(-3000, 3000, 10), None),
    ])


def _check(network, images, timelines=None):
    require_toolchain()
    done = []
    results = run_soc(network, CONFIG, images, progress=done.append, check=False,
                      timelines=timelines)
    assert sum(done) == len(images) and len(results) == len(images)
    compiled = plan_layout(network, CONFIG, soc_firmware(CONFIG).free_start).compiled
    golden = run_golden(compiled, images)
    for result, want, image in zip(results, golden, images):
        np.testing.assert_array_equal(result.logits, reference(network, image))
        np.testing.assert_array_equal(result.logits, want.logits)
        assert (result.macs, result.load_bytes) == (want.macs, want.load_bytes)
        # The firmware's cycles cover the accelerator's work and the core's around it.
        assert result.cycles > bound_cycles(compiled, want)
        assert result.cycles >= sum(result.phases.values()) > 0
        # host time only for host steps (pools the compiler fuses into stores cost none)
        host_steps = any(not hasattr(step, "commands") for step in compiled.steps)
        assert (result.phases["pool"] > 0) == host_steps
    return results


def test_cnn_on_soc_matches_reference():
    images = random_images(2, seed=7)
    results = _check(odd_cnn(), images)
    assert all(r.phases["quant"] > 0 for r in results)   # the copy of the pixel codes
    assert not np.array_equal(results[0].logits, results[1].logits)


def test_default_cnn_on_soc_classifies_held_out_digits():
    """The committed model, the demo itself: real digits, logits identical to the golden model."""
    from accel.nn.mnist import data
    from accel.nn.model_file import load_default

    images, labels = data.load_offline(seed=0)
    _, _, images, labels = data.split_offline(images, labels, holdout=0.2, seed=0)
    results = _check(load_default("cnn"), images[:2])
    assert [r.prediction for r in results] == list(labels[:2])


def test_mlp_on_soc_matches_reference():
    timelines = []
    network = random_mlp(seed=5)
    results = _check(network, random_images(2, seed=5), timelines)
    assert all(r.phases["pool"] == 0 and r.phases["issue"] > 0 for r in results)
    # The run's timeline (sim.busy_monitor on the SoC): every lane busy, within its span.
    (timeline,) = timelines
    assert timeline.source == "SoC" and timeline.title.endswith("2 images")
    for interval in timeline.intervals:
        assert 0 <= interval.start < interval.end <= timeline.cycles
    assert all(timeline.busy(lane) > 0 for lane in LANES)
    # The core starts each accelerator step with one EXEC_BUFFER, which waits (pcpi_wait) until
    # the step's records are dispatched: at least one interval per step and image, 3+ cycles each.
    compiled = plan_layout(network, CONFIG, soc_firmware(CONFIG).free_start).compiled
    steps = sum(hasattr(step, "commands") for step in compiled.steps)
    issues = timeline.lane("issue")
    assert len(issues) >= 2 * steps
    assert timeline.busy("issue") >= 3 * len(issues)


def _check_graph(graph, images):
    """A graph on the SoC: outputs equal the exact reference and the golden backend's."""
    from accel.compiler.pixels import quantize_pixels
    from accel.compiler.reference import run_reference
    from accel.runtime import target

    require_toolchain()
    results = run_soc(graph, CONFIG, images, check=False)
    layout = plan_layout(graph, CONFIG, soc_firmware(CONFIG).free_start)
    golden = target.run_golden(layout.target, images)
    for result, want, image in zip(results, golden, images):
        np.testing.assert_array_equal(
            result.logits, run_reference(graph, quantize_pixels(graph, image)).reshape(-1))
        np.testing.assert_array_equal(result.logits, want.logits)
        assert result.logits.dtype == want.logits.dtype
        assert (result.macs, result.load_bytes) == (want.macs, want.load_bytes)
        assert result.cycles > target.bound_cycles(layout.target, want)
        assert result.cycles >= sum(result.phases.values()) > 0
        assert result.phases["pool"] > 0 and result.phases["quant"] > 0
    return results


def test_residual_graph_on_soc():
    """SAME stride-2 conv, depthwise conv, residual add, padded 3x3/3 max pool, average pool
    and dense head with per-channel requantization; pixels through a normalizing table."""
    from tests.support.graphs import graph_images, residual_graph

    graph = residual_graph(seed=5)
    results = _check_graph(graph, graph_images(graph, 2, seed=5))
    assert not np.array_equal(results[0].logits, results[1].logits)


def test_pool_output_graph_on_soc():
    """A graph ending with host steps and an int8 output; 3-channel images."""
    from tests.support.graphs import graph_images, pool_output_graph

    graph = pool_output_graph(seed=6)
    results = _check_graph(graph, graph_images(graph, 2, seed=6))
    assert all(r.logits.dtype == np.int8 and r.logits.size == 5 for r in results)


def test_native_network_as_graph_on_soc():
    """The odd CNN as a graph (`accel.nn.to_graph`): its pools become MaxPoolOp steps (the
    firmware's 2x2 byte and word paths and the general window) and its input the shift table;
    logits equal the native reference."""
    from accel.nn.to_graph import network_to_graph

    network = odd_cnn()
    images = random_images(2, seed=8)
    results = _check_graph(network_to_graph(network), images)
    for result, image in zip(results, images):
        np.testing.assert_array_equal(result.logits, reference(network, image))


def test_blob_format_matches_the_firmware():
    """soc_image.py writes what mnist_net.h (the interpreter of mnist.c and mnist_uart.c)
    reads: same constants and record sizes."""
    text = (FIRMWARE_DIR / "mnist_net.h").read_text()
    found = re.findall(r"#define (MNIST_\w+) (0x[0-9a-f]+|\d+)u", text)
    defines = {name: int(value, 0) for name, value in found}
    kinds = {"MaxPool": "MAXPOOL", "MaxPoolOp": "MAXPOOL2D", "AvgPoolOp": "AVGPOOL",
             "AddOp": "ADD"}
    assert defines == {"MNIST_BLOB_MAGIC": BLOB_MAGIC, "MNIST_BLOB_VERSION": BLOB_VERSION,
                       "MNIST_STEP_ACCEL": STEP_ACCEL, "MNIST_LUT_ONLY": LUT_ONLY,
                       **{f"MNIST_STEP_{kinds[k]}": v[0] for k, v in STEP_KINDS.items()}}
    hostops = (FIRMWARE_DIR / "hostops.h").read_text()
    counts = {n: int(v) for n, v in re.findall(r"#define HOSTOP_(\w+)_WORDS (\d+)u", hostops)}
    assert counts == {"MAXPOOL_V1": STEP_KINDS["MaxPool"][1],
                      "MAXPOOL": STEP_KINDS["MaxPoolOp"][1],
                      "AVGPOOL": STEP_KINDS["AvgPoolOp"][1], "ADD": STEP_KINDS["AddOp"][1]}

    def words(struct):
        body = re.search(rf"struct {struct} {{(.*?)}};", text, re.S).group(1)
        body = re.sub(r"/\*.*?\*/", "", body, flags=re.S)
        return sum(int(n or 1) for n in re.findall(r"\w+(?:\[(\d+)\])?\s*[,;]", body))

    assert words("mnist_blob") == HEADER_WORDS


def test_input_stages_let_the_accelerator_start_before_the_input_is_quantized():
    """Records that need no input come first; each load needs the input up to the end of its
    block (rounded up to STAGE_BYTES); a transfer before its stride is set needs it all."""
    base, size = 0x1000, 300
    program = assemble(f"""
        config_act multiplier=1, shift=0, act=0, zero_point=0
        config_load stride=8
        load_sp mem_addr={base + 1024:#x}, sp_addr=0, rows=4, cols=4
        config_load stride=1
        load_sp mem_addr={base:#x}, sp_addr=8, rows=100, cols=3
        load_sp mem_addr={base + 100:#x}, sp_addr=200, rows=100, cols=3
        compute a_addr=8, m=4, c_addr=0
        load_sp mem_addr={base + 200:#x}, sp_addr=300, rows=100, cols=3
        load_sp mem_addr={base + 2:#x}, sp_addr=400, rows=2, cols=1
        """)
    stages = input_stages(program, CONFIG, base, size)
    # Ends (4-byte elements, the wider type): 1 + 99 + 12 = 112, 212, 312 (clipped to 300).
    assert stages == [(4, 0), (1, STAGE_BYTES), (2, 2 * STAGE_BYTES), (2, size)]
    assert sum(n for n, _ in stages) == len(program)
    early = assemble(f"load_sp mem_addr={base:#x}, sp_addr=0, rows=1, cols=1")
    assert input_stages(early, CONFIG, base, size) == [(1, size)]
    assert input_stages(program[:3], CONFIG, base, size) == [(3, 0)]


def test_firmware_leaves_an_aligned_free_start():
    require_toolchain()
    firmware = soc_firmware(CONFIG)
    assert firmware.free_start % 16 == 0
    assert len(firmware.binary) <= firmware.free_start


def test_too_small_sram_says_how_much_is_needed():
    require_toolchain()
    config = dataclasses.replace(CONFIG, soc_sram_kib=32)
    with pytest.raises(SramTooSmall, match=r"needs (\d+) KiB of SRAM.*soc_sram_kib=64"):
        plan_layout(random_mlp(seed=5), config, soc_firmware(config).free_start)
    with pytest.raises(SramTooSmall, match="soc_sram_kib is 32"):
        run_soc(random_mlp(seed=5), config, random_images(1))


def _patched(layout, step, index, command):
    """``layout`` with record ``index`` of accelerator step ``step`` replaced."""
    tables = np.frombuffer(layout.tables, dtype="<u4").copy()
    at = 0
    for _ in range(step):  # records: kind, word count, words
        at += 2 + int(tables[at + 1])
    assert tables[at] == STEP_ACCEL
    first = tables[at + 3] - layout.steps_addr  # the step's record table
    at = (first + index * RECORD_BYTES) // 4
    tables[at:at + RECORD_BYTES // 4] = np.frombuffer(records([command]), dtype="<u4")
    return dataclasses.replace(layout, tables=tables.astype("<u4").tobytes())


def test_accelerator_error_and_unknown_command_are_reported():
    """A command the accelerator rejects, or a record with a code outside the ISA, shows in that
    image's status (cleared for the next image); a run past its cycle limit is an error. A tiny
    network keeps the runs short."""
    require_toolchain()
    rng = np.random.default_rng(3)
    tiny = QuantizedNetwork("tiny", [Dense(rng.integers(-128, 128, (16, 4)),
                                           rng.integers(-99, 99, 4), None)], input_shape=(4, 4, 1))
    images = rng.integers(0, 256, (2, 4, 4))
    firmware = soc_firmware(CONFIG)
    layout = plan_layout(tiny, CONFIG, firmware.free_start)
    commands = layout.compiled.steps[0].commands
    index = next(i for i, c in enumerate(commands) if c.instruction is BY_NAME["load_sp"])
    bad_row = Command(commands[index].funct7, commands[index].funct3, commands[index].rs1,
                      commands[index].rs2 | 0xFFFF)  # scratchpad row 65535: out of range
    lines = run_batch(_patched(layout, 0, index, bad_row), firmware, images, first=3,
                      max_cycles=1_000_000)
    assert [line.index for line in lines] == [3, 4]
    for line in lines:
        assert line.failed
        cause = line.status >> STATUS_BITS["cause"][0] & 0xFF
        assert cause == ErrorCause.SP_RANGE, describe_status(line.status)
    assert "error SP_RANGE" in describe_status(lines[0].status)
    assert describe_status(0).endswith("(ok)")

    unknown = Command(0x7F, 7, 0, 0)
    (line,) = run_batch(_patched(layout, 0, 1, unknown), firmware, images[:1],
                        max_cycles=1_000_000)
    assert "error ILLEGAL_INSTRUCTION from the command with funct7 0x7f, funct3 7" in \
        describe_status(line.status)
    with pytest.raises(SocError, match=r"images 0\.\.1 failed .*within 3000 cycles"):
        run_batch(layout, firmware, images, max_cycles=3000)


def test_malformed_step_table_stops_the_firmware():
    """A step record whose kind is unknown, or whose word count is not its kind's, is an ERROR
    line before any image runs (the firmware never walks a table it cannot parse)."""
    require_toolchain()
    rng = np.random.default_rng(4)
    tiny = QuantizedNetwork("tiny", [Dense(rng.integers(-128, 128, (16, 4)),
                                           rng.integers(-99, 99, 4), None)], input_shape=(4, 4, 1))
    images = rng.integers(0, 256, (1, 4, 4))
    firmware = soc_firmware(CONFIG)
    layout = plan_layout(tiny, CONFIG, firmware.free_start)
    for record, message in (([STEP_ACCEL, 4], "step 0 has kind 0 with 4 words"),
                            ([9, 2], "step 0 has kind 9 with 2 words")):
        tables = np.frombuffer(layout.tables, dtype="<u4").copy()
        tables[:2] = record
        bad = dataclasses.replace(layout, tables=tables.tobytes())
        with pytest.raises(SocError, match=f"stopped: ERROR {message}"):
            run_batch(bad, firmware, images, max_cycles=1_000_000)
