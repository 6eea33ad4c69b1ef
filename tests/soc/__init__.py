"""Tests of accel.soc: SRAM, peripherals, decoder, glue (Amaranth sim) and the SoC (cocotb)."""

import gc
import warnings

import pytest
from amaranth.hdl import UnusedElaboratable

from accel.config import AccelConfig

#: The configuration of the cocotb SoC runs here and in tests/nn/test_soc.py, so that one
#: simulator build of the SoC with the accelerator serves them all. 64 KiB of SRAM hold the
#: networks (command tables included) of tests/nn/test_soc.py, the default CNN among them.
SOC_TEST_CONFIG = AccelConfig(rows=4, cols=4, sp_kib=1, acc_kib=2, sp_banks=1, acc_banks=1,
                              soc_sram_kib=64)


def assert_rejected(factory, match=None):
    """``factory()`` raises ValueError; the half-built component is not reported as unused."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnusedElaboratable)
        with pytest.raises(ValueError, match=match):
            factory()
        gc.collect()
