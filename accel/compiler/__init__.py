"""Lowering to accelerator programs. Pure Python and NumPy: no Amaranth, no gateware.

`graph` is the integer network IR and `reference` its exact semantics; `lower` compiles a graph
into accelerator programs (`gemm` GEMMs tiled by `tiler` on `schedule`'s plan, shapes from
`lower_gemm`, buffers from `layout`) and host steps (`hostops`), both `steps`; `run` executes a
compiled graph on the golden model."""
