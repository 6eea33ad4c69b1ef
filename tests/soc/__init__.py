"""Tests of accel.soc: SRAM, peripherals, decoder, glue (Amaranth sim) and the SoC (cocotb)."""

import gc
import warnings

import pytest
from amaranth.hdl import UnusedElaboratable


def assert_rejected(factory, match=None):
    """``factory()`` raises ValueError; the half-built component is not reported as unused."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnusedElaboratable)
        with pytest.raises(ValueError, match=match):
            factory()
        gc.collect()
