"""The SoC: a RISC-V control core, on-chip SRAM, peripherals and the accelerator."""
