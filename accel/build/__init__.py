"""Build tools: Verilog emission, build artifacts, SoC firmware and the FPGA tool wrappers."""
