"""Host runtime: the GEMM tiler, matmul front end, host steps and the RTL backend."""
