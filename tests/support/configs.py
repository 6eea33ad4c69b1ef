"""Accelerator configurations that tests in several folders share, so that one simulator build of
each serves them all (the RTL build cache is keyed by the emitted Verilog)."""

from accel.config import AccelConfig

__all__ = ["CONFIGS", "SOC_TEST_CONFIG"]

_SMALL = dict(sp_kib=1, acc_kib=1, sp_banks=1, acc_banks=1)

#: The differential test's configurations (tests/sim/test_accel_differential.py): both dataflows,
#: a non-square array with banked memories, and a 64-bit bus with a narrow accumulator.
CONFIGS = {
    "4x4-ws": AccelConfig(rows=4, cols=4, dataflow="ws", **_SMALL),
    "4x4-os": AccelConfig(rows=4, cols=4, dataflow="os", **_SMALL),
    "3x5-ws": AccelConfig(rows=3, cols=5, dataflow="ws", sp_kib=1, acc_kib=1, sp_banks=2,
                          acc_banks=2),
    "2x3-os-bus64": AccelConfig(rows=2, cols=3, dataflow="os", bus_width=64, acc_width=24,
                                **_SMALL),
}

#: The configuration of the cocotb SoC runs (tests/soc, tests/runtime/test_network_soc.py, the CLI's
#: SoC waveforms). 64 KiB of SRAM hold the networks (command tables included) of
#: tests/runtime/test_network_soc.py, the default CNN among them.
SOC_TEST_CONFIG = AccelConfig(rows=4, cols=4, sp_kib=1, acc_kib=2, sp_banks=1, acc_banks=1,
                              soc_sram_kib=128)
