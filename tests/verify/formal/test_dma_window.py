"""Formal: the DMA (`accel.memory.dma.DMA`, both channels behind their arbiter) never starts a
bus request outside its address window.

Whatever the commands, rows, bus responses and window inputs (all free in every cycle — the
window may even change mid-command), every cycle with ``cyc & stb`` requests a word whose bytes
``adr * B .. adr * B + B - 1`` (``B`` = bus bytes) all lie in ``[window_base, window_last]``.
The byte range is computed here from the bus address, not with the DMA's own helper. Mode:
prove (k-induction): the guard gates ``stb`` combinationally, so the property holds in every
state, reachable or not, and the induction closes at once. Covers show the bus is used inside
a proper window and that a row crossing the window edge is refused (not vacuous).
"""

import pytest
from amaranth.asserts import AnySeq
from amaranth.hdl import Assert, Cover, Elaboratable, Module, Signal

from accel.config import AccelConfig
from accel.memory.dma import DMA
from accel.verify.formal import run_sby
from tests.support.formal import drive_sink, drive_source

pytestmark = pytest.mark.formal

CONFIG = AccelConfig(rows=2, cols=2, sp_kib=1, acc_kib=1, sp_banks=1, acc_banks=1)
MAX_ROW_BYTES = max(CONFIG.dim * CONFIG.in_bytes, CONFIG.cols * CONFIG.acc_bytes)


def _dma(data_width, dma_class=DMA):
    """The DMA as the accelerator builds it, on a ``data_width``-bit bus."""
    return dma_class(addr_width=CONFIG.mem_addr_width, data_width=data_width,
                     max_row_bytes=MAX_ROW_BYTES, max_outstanding=4)


class WindowProperties(Elaboratable):
    def __init__(self, dma):
        self.dma = dma

    def elaborate(self, platform):
        m = Module()
        m.submodules.dma = dma = self.dma
        drive_source(m, dma.rd_cmd, name="rd_cmd")
        drive_source(m, dma.wr_cmd, name="wr_cmd")
        drive_source(m, dma.wr_data, name="wr_data")
        drive_sink(m, dma.rd_data)
        drive_sink(m, dma.wr_done)
        bus = dma.bus
        for response in (bus.ack, bus.err, bus.stall):
            m.d.comb += response.eq(AnySeq(1))
        m.d.comb += [bus.dat_r.eq(AnySeq(len(bus.dat_r))),
                     dma.window_base.eq(AnySeq(len(dma.window_base))),
                     dma.window_last.eq(AnySeq(len(dma.window_last)))]

        word_bytes = len(bus.dat_w) // 8
        width = len(dma.window_base) + 1
        first = Signal(width)
        final = Signal(width)
        m.d.comb += [first.eq(bus.adr * word_bytes), final.eq(first + word_bytes - 1)]
        requesting = bus.cyc & bus.stb
        m.d.comb += [
            Assert(~requesting | ((first >= dma.window_base) & (final <= dma.window_last)),
                   "every bus request lies inside [window_base, window_last]"),
            Cover(requesting & ~bus.stall & bus.we & (dma.window_base != 0),
                  "a write inside a window that excludes address 0"),
            Cover(requesting & ~bus.stall & ~bus.we & (dma.window_base != 0),
                  "a read inside a window that excludes address 0"),
            Cover(dma.rd_data.valid & dma.rd_data.payload.err & ~bus.cyc,
                  "a read row refused without a bus request"),
        ]
        return m


class _WriterWithoutWindow(DMA):
    """A broken DMA: its write channel is given the whole address space as its window."""

    def elaborate(self, platform):
        m = super().elaborate(platform)
        writer = m.submodules.writer
        m.d.comb += [writer.window_base.eq(0), writer.window_last.eq(-1)]
        return m


@pytest.mark.parametrize("data_width", [32, 8])
def test_dma_never_leaves_its_window(tmp_path, data_width):
    result = run_sby(WindowProperties(_dma(data_width)), mode="prove", depth=2,
                     name=f"dma_window_{data_width}", workdir=tmp_path)
    assert result.passed, result.report()


def test_dma_window_properties_are_reachable(tmp_path):
    result = run_sby(WindowProperties(_dma(32)), mode="cover", depth=8,
                     name="dma_window_cover", workdir=tmp_path)
    assert result.passed, result.report()


def test_dma_that_ignores_the_window_fails(tmp_path):
    result = run_sby(WindowProperties(_dma(32, _WriterWithoutWindow)), mode="bmc", depth=8,
                     name="dma_window_broken", workdir=tmp_path)
    assert result.status == "FAIL", result.report()
    assert "window" in result.failures[0].message, result.report()
