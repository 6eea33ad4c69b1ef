"""Bus words a strided 2-D DMA transfer moves, as the DMA's channels walk it.

A row of ``row_bytes`` bytes starting ``offset`` bytes into a bus word touches
``ceil((offset + row_bytes) / bus_bytes)`` words (`accel.arch.row_words`, as the DMA); the
channels issue one word per cycle, so a transfer's bus time is the sum over its rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import gcd

from accel.arch.microarch import row_words

__all__ = ["Transfer", "transfer"]


@dataclass(frozen=True)
class Transfer:
    """One DMA command's geometry on the bus.

    Members
    -------
    rows : int
    words : int
        Bus words of all rows.
    first_row_words, last_row_words : int
        Words of row 0 and of the final row.
    """

    rows: int
    words: int
    first_row_words: int
    last_row_words: int

    @property
    def words_per_row(self) -> float:
        return self.words / self.rows


def transfer(addr: int, stride: int, rows: int, row_bytes: int, bus_bytes: int,
             mem_size: int) -> Transfer:
    """The `Transfer` of ``rows`` rows of ``row_bytes`` bytes at ``addr``, ``stride`` apart
    (addresses wrap modulo ``mem_size``, the addressable memory)."""
    first = addr % bus_bytes
    step = stride % bus_bytes
    if step == 0:
        per_row = row_words(first, row_bytes, bus_bytes)
        return Transfer(rows, rows * per_row, per_row, per_row)
    # Offsets repeat with period bus_bytes / gcd(step, bus_bytes) (at most bus_bytes rows).
    period = bus_bytes // gcd(step, bus_bytes)
    counts = [row_words((first + r * step) % bus_bytes, row_bytes, bus_bytes)
              for r in range(min(period, rows))]
    full, rest = divmod(rows, len(counts))
    words = full * sum(counts) + sum(counts[:rest])
    last_offset = (addr + (rows - 1) * stride) % mem_size % bus_bytes
    return Transfer(rows, words, counts[0], row_words(last_offset, row_bytes, bus_bytes))
