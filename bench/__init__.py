"""Benchmarks that print figures (not timed tests).

``python -m bench`` prints one Markdown report (`bench.report`); each module is also a script
for one set of figures: `bench.emit`, `bench.gemm`, `bench.mnist_rtl`, `bench.simspeed`,
`bench.fpga`, and the SoC benches `bench.soc_matmul` and `bench.soc_mnist`. See bench/README.md.
"""
