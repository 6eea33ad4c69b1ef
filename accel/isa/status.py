"""The STATUS word, packed and unpacked from the spec's one table (`spec.STATUS_BITS`).

The golden model packs its word with `status_word`, the C header's ``ACCEL_STATUS_*`` macros
come from `STATUS_FIELDS`, and the dispatcher's word is a ``Signal`` of
`accel.control.status.STATUS_LAYOUT`, built from the same fields; nothing else knows where a
field sits. Bits no field covers read as 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from accel.isa.spec import STATUS_BITS

__all__ = ["STATUS_WIDTH", "StatusField", "STATUS_FIELDS", "status_word", "decode_status"]

#: Bits in the STATUS word (it is returned in ``rd``).
STATUS_WIDTH = 32


@dataclass(frozen=True)
class StatusField:
    """One field of the STATUS word: ``width`` bits from bit ``lsb``."""

    name: str
    lsb: int
    width: int

    @property
    def mask(self) -> int:
        """The field's value mask, before shifting (``2**width - 1``)."""
        return (1 << self.width) - 1


def _fields() -> tuple[StatusField, ...]:
    fields = tuple(StatusField(name, lsb, width) for name, (lsb, width) in STATUS_BITS.items())
    used = 0
    for f in fields:
        bits = f.mask << f.lsb
        if f.width < 1 or f.lsb < 0 or f.lsb + f.width > STATUS_WIDTH or used & bits:
            raise ValueError(f"STATUS_BITS: field {f.name} at bits {f.lsb}..{f.lsb + f.width - 1}"
                             f" overlaps another or leaves the {STATUS_WIDTH}-bit word")
        used |= bits
    return fields


#: The fields of the STATUS word, in `spec.STATUS_BITS` order.
STATUS_FIELDS: tuple[StatusField, ...] = _fields()


def status_word(fields: Mapping[str, int]) -> int:
    """Pack field values into a STATUS word; fields not given are 0.

    Raises
    ------
    ValueError
        For a name that is not a STATUS field, or a value that does not fit its field.
    """
    known = {f.name: f for f in STATUS_FIELDS}
    word = 0
    for name, value in fields.items():
        if name not in known:
            raise ValueError(f"no STATUS field {name!r}; the fields are {', '.join(known)}")
        f = known[name]
        value = int(value)
        if not 0 <= value <= f.mask:
            raise ValueError(f"STATUS field {name} holds 0..{f.mask}, not {value}")
        word |= value << f.lsb
    return word


def decode_status(word: int) -> dict[str, int]:
    """The value of every STATUS field in ``word`` (a 32-bit unsigned value)."""
    if not 0 <= word < 1 << STATUS_WIDTH:
        raise ValueError(f"a STATUS word is {STATUS_WIDTH} bits unsigned, not {word:#x}")
    return {f.name: (word >> f.lsb) & f.mask for f in STATUS_FIELDS}
