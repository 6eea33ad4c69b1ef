"""cocotb testbenches for accelgen's emitted Verilog, and the runner glue that builds them.

Benches are modules named ``sim.bench_*``; tests run them through :func:`sim.runner.run_cocotb`.
"""
