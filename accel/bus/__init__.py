"""Bus interfaces defined inside the project (amaranth-soc is not available).

* :mod:`accel.bus.wishbone` — Wishbone B4 (pipelined) signature and a round-robin arbiter.
"""

from accel.bus import wishbone

__all__ = ["wishbone"]
