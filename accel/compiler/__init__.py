"""Lowering to accelerator programs: GEMMs tiled into command streams (`tiler`) and the host
steps between programs (`hostops`). Pure Python and NumPy: no Amaranth, no gateware."""
