"""Checks that a waveform file is what it claims: a VCD with declarations and value changes, or
an FST with its header block.

The VCD reader is ours because pyvcd's rejects Verilator's ``$scope module $rootio`` line.
"""

import math
import struct
from pathlib import Path

#: An FST file opens with its header block: type 0 (``FST_BL_HDR``), a big-endian length of 329
#: bytes, start and end times, then the double ``e`` (native byte order) that tells readers the
#: writer's endianness.
_FST_HEADER_LENGTH = 329


def read_vcd(path: Path) -> tuple[str, dict[str, list[int]]]:
    """``(timescale, {signal name: its values in order of change})`` of a VCD file.

    Raises AssertionError when the file lacks ``$timescale``, ``$var`` or ``$enddefinitions``.
    """
    tokens = Path(path).read_text().split()
    assert "$enddefinitions" in tokens, f"{path} has no $enddefinitions"
    end = tokens.index("$enddefinitions")
    assert "$timescale" in tokens[:end], f"{path} has no $timescale"
    start = tokens.index("$timescale") + 1
    timescale = " ".join(tokens[start:tokens.index("$end", start)])
    names: dict[str, list[str]] = {}
    for index, token in enumerate(tokens[:end]):
        if token == "$var":
            _kind, _size, code, name = tokens[index + 1:index + 5]
            names.setdefault(code, []).append(name)
    assert names, f"{path} declares no $var"
    values: dict[str, list[int]] = {}
    body = iter(tokens[end:])
    for token in body:
        if token[0] in "bB":
            value, code = token[1:], next(body)
        elif token[0] in "01xzXZ" and len(token) > 1:
            value, code = token[0], token[1:]
        else:  # a time (#...), $dumpvars, $end, a real value (r...)
            continue
        if code in names and set(value) <= {"0", "1"}:
            for name in names[code]:
                values.setdefault(name, []).append(int(value, 2))
    return timescale, values


def assert_fst(path: Path) -> int:
    """Fail unless ``path`` opens with an FST header block; return its end time (in its
    timescale's units)."""
    data = Path(path).read_bytes()
    assert len(data) > 64, f"{path} holds only {len(data)} bytes"
    assert data[0] == 0, f"{path} does not start with an FST header block"
    assert struct.unpack(">Q", data[1:9])[0] == _FST_HEADER_LENGTH, f"{path}: not an FST header"
    endian = [struct.unpack(order, data[25:33])[0] for order in ("<d", ">d")]
    assert any(math.isclose(value, math.e) for value in endian), f"{path}: no FST endian test"
    start, end = struct.unpack(">QQ", data[9:25])
    assert end >= start, f"{path}: FST times run backwards"
    return end


def assert_waveform(path: Path, fmt: str, signal: str, distinct: int) -> None:
    """Fail unless ``path`` is a non-empty ``fmt`` waveform; a VCD must also record at least
    ``distinct`` different values of a signal named ``signal``."""
    path = Path(path)
    assert path.is_file() and path.stat().st_size > 0, f"no waveform at {path}"
    if fmt == "fst":
        assert_fst(path)
        return
    _, values = read_vcd(path)
    assert signal in values, f"{path} records no signal {signal!r} (has {sorted(values)[:20]})"
    assert len(set(values[signal])) >= distinct, \
        f"{path}: {signal} takes only {len(set(values[signal]))} values"
