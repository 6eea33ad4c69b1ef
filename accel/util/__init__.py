"""Host utilities every layer may use (the user cache directory). No Amaranth, no gateware."""
