"""The firmware's host operations (accel/build/firmware/src/hostops.c), compiled for the build
machine, are bit-exact with `accel.compiler.hostops`' ``apply``: both run on the same random
memory (garbage around the tensors, so a stray write shows) for many random geometries and
factors, edge shapes included (1-wide, one channel, non-square windows, strides past the
kernel, pitches wider than the tensor)."""

import shutil
import subprocess

import numpy as np
import pytest

from accel.build.firmware import FIRMWARE_DIR
from accel.compiler import hostops
from accel.runtime.soc_image import STEP_KINDS, step_record

CASES = 150


@pytest.fixture(scope="module")
def harness(tmp_path_factory):
    cc = shutil.which("gcc") or shutil.which("cc")
    assert cc is not None, "no host C compiler (apt-get install gcc)"
    exe = tmp_path_factory.mktemp("hostops") / "host_ops_test"
    subprocess.run([cc, "-O2", "-std=gnu11", "-Wall", "-Wextra", "-Werror",
                    "-DHOSTOPS_MEM=host_ops_mem", f"-I{FIRMWARE_DIR}", "-o", str(exe),
                    str(FIRMWARE_DIR / "host" / "host_ops_test.c"),
                    str(FIRMWARE_DIR / "hostops.c")], check=True)
    return exe


def run_c(exe, cases):
    """Apply each (op, memory) case in C; the memories afterwards."""
    stream = bytearray()
    for op, mem in cases:
        record = step_record(op)
        stream += np.array(record[:2] + [mem.size] + record[2:], dtype="<u4").tobytes()
        stream += mem.tobytes()
    run = subprocess.run([str(exe)], input=bytes(stream), capture_output=True, check=True)
    out, at = [], 0
    for _, mem in cases:
        out.append(np.frombuffer(run.stdout[at:at + mem.size], dtype=np.uint8))
        at += mem.size
    assert at == len(run.stdout)
    return out


def check(exe, cases):
    results = run_c(exe, cases)
    for (op, mem), got in zip(cases, results):
        want = mem.copy()
        op.apply(want)
        np.testing.assert_array_equal(got, want, err_msg=repr(op))


class Heap:
    """Random memory with regions taken at random (unaligned) offsets."""

    def __init__(self, rng):
        self.rng, self.end, self.tables = rng, 16, []

    def take(self, size, align=1):
        addr = -(-(self.end + int(self.rng.integers(0, 8))) // align) * align
        self.end = addr + size
        return addr

    def memory(self):
        mem = self.rng.integers(0, 256, self.end + 16).astype(np.uint8)
        for addr, data in self.tables:
            mem[addr:addr + data.size] = data
        return mem


def geometry(rng):
    height, width = (int(v) for v in rng.integers(1, 9, 2))
    channels = int(rng.choice([1, 2, 3, 4, 8]))
    pitch = width + int(rng.integers(0, 3))
    return height, width, channels, pitch


def test_native_maxpool(harness):
    rng = np.random.default_rng(1)
    cases = []
    for _ in range(CASES):
        size = int(rng.integers(1, 4))
        height, width, channels, pitch = geometry(rng)
        align = 1
        if rng.random() < 0.5:  # the word-at-a-time path: aligned buffers, 4k channels
            size, channels, align = 2, int(rng.choice([4, 8])), 4
        height, width, pitch = height + size, width + size, pitch + size
        heap = Heap(rng)
        src = heap.take(height * pitch * channels, align)
        dst = heap.take((height // size) * (width // size) * channels, align)
        op = hostops.MaxPool(src, pitch, height, width, channels, size, dst)
        cases.append((op, heap.memory()))
    check(harness, cases)


def test_step_kinds_name_the_host_operations():
    names = {name for name in STEP_KINDS}
    assert names <= set(hostops.__all__)


def test_maxpool(harness):
    rng = np.random.default_rng(2)
    cases = []
    for index in range(CASES):
        height, width, channels, pitch = geometry(rng)
        kh, kw = int(rng.integers(1, height + 1)), int(rng.integers(1, width + 1))
        sh, sw = (int(v) for v in rng.integers(1, 4, 2))
        if index % 5 == 0:  # the 2x2 stride-2 fast path into a packed destination
            kh = kw = sh = sw = 2
            height, width, pitch = height + 2, width + 2, pitch + 2
        oh, ow = (height - kh) // sh + 1, (width - kw) // sw + 1
        dst_pitch = ow + (int(rng.integers(0, 2)) if index % 5 else 0)
        heap = Heap(rng)
        src = heap.take(height * pitch * channels)
        dst = heap.take(oh * dst_pitch * channels)
        op = hostops.MaxPoolOp(src, pitch, height, width, channels, kh, kw, sh, sw, dst,
                               dst_pitch)
        cases.append((op, heap.memory()))
    check(harness, cases)


def test_avgpool(harness):
    rng = np.random.default_rng(3)
    cases = []
    for index in range(CASES):
        height, width, channels, pitch = geometry(rng)
        kh, kw = int(rng.integers(1, height + 2)), int(rng.integers(1, width + 2))
        pads = [int(rng.integers(0, k)) for k in (kh, kw, kh, kw)]
        if index % 4 == 0:  # global average pooling
            kh, kw, pads = height, width, [0, 0, 0, 0]
        if height + pads[0] + pads[2] < kh or width + pads[1] + pads[3] < kw:
            pads[2], pads[3] = kh - 1, kw - 1
            if height + pads[0] + pads[2] < kh or width + pads[1] + pads[3] < kw:
                kh, kw = min(kh, height), min(kw, width)
                pads = [0, 0, 0, 0]
        sh, sw = (int(v) for v in rng.integers(1, 4, 2))
        oh = (height + pads[0] + pads[2] - kh) // sh + 1
        ow = (width + pads[1] + pads[3] - kw) // sw + 1
        dst_pitch = ow + int(rng.integers(0, 2))
        window = kh * kw
        if index % 3:  # the factors the compiler makes, else any 31-bit factor and shift
            mult = rng.integers(1 << 30, 1 << 31, window)
            shift = rng.integers(28, 40, window)
        else:
            mult = rng.integers(0, 1 << 31, window)
            shift = rng.integers(0, 64, window)
        heap = Heap(rng)
        src = heap.take(height * pitch * channels)
        table = heap.take(8 * window, 4)
        heap.tables.append((table, np.stack([mult, shift], 1).astype("<u4").view(np.uint8)
                            .reshape(-1)))
        dst = heap.take(oh * dst_pitch * channels)
        op = hostops.AvgPoolOp(src, pitch, height, width, channels, kh, kw, sh, sw, *pads,
                               int(rng.integers(0, 2)), int(rng.integers(-128, 128)),
                               int(rng.integers(-128, 128)), table, dst, dst_pitch)
        cases.append((op, heap.memory()))
    check(harness, cases)


def test_add(harness):
    rng = np.random.default_rng(4)
    cases = []
    for index in range(CASES):
        height, width, channels, a_pitch = geometry(rng)
        b_pitch = width + int(rng.integers(0, 3))
        dst_pitch = width + int(rng.integers(0, 3))
        limit = 1 << 21 if index % 3 else 1 << 31  # the compiler's range, then any int32
        ma, mb = (int(v) for v in rng.integers(0, limit, 2))
        shift = int(rng.integers(0, 41 if index % 3 else 64))
        heap = Heap(rng)
        a = heap.take(height * a_pitch * channels)
        b = heap.take(height * b_pitch * channels)
        dst = heap.take(height * dst_pitch * channels)
        zps = (int(v) for v in rng.integers(-128, 128, 3))
        a_zp, b_zp, out_zp = zps
        op = hostops.AddOp(a, a_pitch, b, b_pitch, height, width, channels, a_zp, b_zp, ma, mb,
                           shift, out_zp, int(rng.integers(0, 2)), dst, dst_pitch)
        cases.append((op, heap.memory()))
    check(harness, cases)
