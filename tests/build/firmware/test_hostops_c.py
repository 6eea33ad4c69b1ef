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
