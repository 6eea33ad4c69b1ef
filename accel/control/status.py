"""The STATUS word as an Amaranth layout, built from `accel.isa.status.STATUS_FIELDS`.

A ``FlexibleLayout`` rather than a ``StructLayout``: it places every field at the spec's ``lsb``
directly, so the spec's table needs no padding members and the reserved bits read as 0.
"""

from amaranth import unsigned
from amaranth.lib import data

from accel.isa.status import STATUS_FIELDS, STATUS_WIDTH

__all__ = ["STATUS_LAYOUT"]

#: One member per STATUS field (`accel.isa.spec.STATUS_BITS`), at its bit position.
STATUS_LAYOUT = data.FlexibleLayout(STATUS_WIDTH, {
    f.name: data.Field(unsigned(f.width), f.lsb) for f in STATUS_FIELDS
})
