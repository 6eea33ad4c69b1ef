"""What the banked SRAMs (scratchpad, accumulator) share: geometry checks, bank addressing and
the constructor that builds their port members."""

from amaranth.lib import wiring
from amaranth.lib.wiring import In

from accel.hdl.checked import CheckedConstruction
from accel.memory.ports import ReadPortSignature

__all__ = ["BankedMemory", "addr_width_for", "bank_of", "row_of"]


def _check_geometry(*, depth, lanes, elem_width, banks, read_ports, write_ports) -> None:
    """Validate the constructor arguments shared by `Scratchpad` and the accumulator."""
    def is_int(value):
        return isinstance(value, int) and not isinstance(value, bool)

    for name, value, low in (("depth", depth, 1), ("lanes", lanes, 1),
                             ("elem_width", elem_width, 1), ("banks", banks, 1),
                             ("read_ports", read_ports, 1), ("write_ports", write_ports, 1)):
        if not is_int(value) or value < low:
            raise ValueError(f"{name} must be an integer of at least {low}, not {value!r}")
    if banks & (banks - 1):
        raise ValueError(f"banks must be a power of two, not {banks!r}")
    if depth % banks:
        raise ValueError(f"depth must be a multiple of banks={banks}, not {depth!r}")


def addr_width_for(depth: int) -> int:
    """Bits of a row address for a memory of ``depth`` rows (at least 1), as `AccelConfig` does."""
    return max(1, (depth - 1).bit_length())


def bank_of(addr, banks: int):
    """Bank of an address under low-bit interleaving: ``addr % banks`` (0 for one bank)."""
    bank_bits = (banks - 1).bit_length()
    return addr[:bank_bits] if bank_bits else 0


def row_of(addr, banks: int):
    """Row inside its bank of an address under low-bit interleaving: ``addr // banks``."""
    return addr[(banks - 1).bit_length():]


class BankedMemory(CheckedConstruction, wiring.Component):
    """Base of `Scratchpad` and `Accumulator`: validated geometry and ``read{i}``/``write{j}``
    members (``write_signature`` is the write port's signature class)."""

    @classmethod
    def check_parameters(cls, *, depth, lanes, elem_width, banks, read_ports,
                         write_ports=1) -> None:
        """Raise ``ValueError`` for a bad geometry (before construction; called with the
        subclass's constructor arguments, which all name the same geometry)."""
        _check_geometry(depth=depth, lanes=lanes, elem_width=elem_width, banks=banks,
                        read_ports=read_ports, write_ports=write_ports)

    def __init__(self, *, depth: int, lanes: int, elem_width: int, banks: int, read_ports: int,
                 write_ports: int, write_signature: type) -> None:
        self.depth = depth
        self.lanes = lanes
        self.elem_width = elem_width
        self.banks = banks
        self.read_ports = read_ports
        self.write_ports = write_ports
        self.addr_width = addr_width_for(depth)
        self.bank_depth = depth // banks
        kw = dict(addr_width=self.addr_width, elem_width=elem_width, lanes=lanes)
        members = {}
        for i in range(read_ports):
            members[f"read{i}"] = In(ReadPortSignature(**kw))
        for j in range(write_ports):
            members[f"write{j}"] = In(write_signature(**kw))
        super().__init__(members)

    def read_port(self, index: int):
        """The ``read{index}`` member."""
        return getattr(self, f"read{index}")

    def write_port(self, index: int):
        """The ``write{index}`` member."""
        return getattr(self, f"write{index}")
