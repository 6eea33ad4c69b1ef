"""Saving and loading a `Graph` (an imported, quantized network) as one ``.npz`` file.

Format (version 1)
------------------
The container is `accel.util.npz_archive` (deterministic, no pickle). The ``header`` member is
JSON::

    {
      "format": "accelgen-graph", "version": 1, "name": "cnn5",
      "input": "x", "output": "logits", "postprocess": null,
      "tensors": [{"name": "x", "shape": [28, 28, 1], "scale": 0.0078, "zero_point": -128,
                   "dtype": "int8"}, ...],
      "nodes": [{"op": "conv2d", "name": "conv0", "input": "x", "output": "t0",
                 "weight": "n0.weight", "bias": "n0.bias",
                 "requant": {"multiplier": "n0.multiplier", "shift": "n0.shift",
                             "zero_point": -128, "relu": true},
                 "stride": [1, 1], "pads": [2, 2, 2, 2], "groups": 1}, ...],
      "metadata": {...}
    }

Array members hold the weights (int8), biases (int32) and the fixed-point tables (int64); their
names are the header's references. Node ops are ``conv2d``, ``dense``, ``maxpool``, ``avgpool``
and ``add`` with the fields of the `accel.compiler.graph` classes. Every problem while loading
raises `GraphFileError`, one line naming the file.
"""

from __future__ import annotations

import os
from dataclasses import fields
from pathlib import Path

import numpy as np

from accel.compiler.graph import (Add, AvgPool, Conv2D, Dense, Graph, MaxPool, Requantize,
                                  Tensor)
from accel.util.npz_archive import (ArchiveError, archive_bytes, archive_error, read_archive,
                                    write_atomically)

__all__ = ["FORMAT", "VERSION", "GraphFileError", "graph_to_bytes", "save_graph", "load_graph",
           "is_graph_file"]

FORMAT = "accelgen-graph"
VERSION = 1

_OPS = {Conv2D: "conv2d", Dense: "dense", MaxPool: "maxpool", AvgPool: "avgpool", Add: "add"}
_CLASSES = {op: cls for cls, op in _OPS.items()}
#: Fields stored as array members, with their dtype.
_ARRAYS = {"weight": np.int8, "bias": np.int32, "multiplier": np.int64, "shift": np.int64}


class GraphFileError(ArchiveError):
    """A graph file is missing or malformed; the message is one line naming the file."""


def _node_spec(index: int, node, arrays: dict[str, np.ndarray]) -> dict:
    spec: dict = {"op": _OPS[type(node)]}
    for f in fields(node):
        value = getattr(node, f.name)
        if f.name in _ARRAYS:
            member = f"n{index}.{f.name}"
            arrays[member] = np.asarray(value).astype(_ARRAYS[f.name])
            spec[f.name] = member
        elif isinstance(value, Requantize):
            mult, shift = f"n{index}.multiplier", f"n{index}.shift"
            arrays[mult] = value.multiplier.astype(np.int64)
            arrays[shift] = value.shift.astype(np.int64)
            spec[f.name] = {"multiplier": mult, "shift": shift,
                            "zero_point": value.zero_point, "relu": value.relu}
        elif isinstance(value, tuple):
            spec[f.name] = [int(v) for v in value]
        elif isinstance(value, (bool, np.bool_)):
            spec[f.name] = bool(value)
        elif isinstance(value, (int, np.integer)):
            spec[f.name] = int(value)
        else:
            spec[f.name] = value  # str or None
    return spec


def graph_to_bytes(graph: Graph) -> bytes:
    """The file contents of ``graph`` (deterministic: same graph, same bytes)."""
    arrays: dict[str, np.ndarray] = {}
    nodes = [_node_spec(i, node, arrays) for i, node in enumerate(graph.nodes)]
    tensors = [{"name": t.name, "shape": list(t.shape), "scale": float(t.scale),
                "zero_point": int(t.zero_point), "dtype": t.dtype}
               for t in graph.tensors.values()]
    header = {"format": FORMAT, "version": VERSION, "name": graph.name, "input": graph.input,
              "output": graph.output, "postprocess": graph.postprocess, "tensors": tensors,
              "nodes": nodes, "metadata": graph.metadata}
    return archive_bytes(header, arrays)


def save_graph(graph: Graph, path: str | os.PathLike) -> None:
    """Write ``graph`` to ``path`` atomically."""
    write_atomically(graph_to_bytes(graph), path)


def is_graph_file(path: str | os.PathLike) -> bool:
    """True when ``path`` is a readable archive declaring this format (any version)."""
    try:
        read_archive(Path(path), FORMAT, (VERSION,))
    except ArchiveError as exc:
        return "unsupported model format version" in str(exc)
    return True


def _member(path: Path, members: dict, name, dtype) -> np.ndarray:
    if not isinstance(name, str) or name not in members:
        raise archive_error(path, f"member {name!r} is missing", GraphFileError)
    array = members[name]
    if array.dtype != np.dtype(dtype):
        raise archive_error(path, f"member {name!r} must be {np.dtype(dtype)}, not "
                                  f"{array.dtype}", GraphFileError)
    return array


def _node(path: Path, members: dict, spec, used: set):
    if not isinstance(spec, dict) or spec.get("op") not in _CLASSES:
        raise archive_error(path, f"node {spec!r:.60} has no known op", GraphFileError)
    cls = _CLASSES[spec["op"]]
    kwargs = {}
    for f in fields(cls):
        if f.name not in spec:
            raise archive_error(path, f"{spec['op']} node lacks field {f.name!r}",
                                GraphFileError)
        value = spec[f.name]
        if f.name in _ARRAYS:
            value = _member(path, members, value, _ARRAYS[f.name])
            used.add(spec[f.name])
        elif f.name == "requant" and value is not None:
            if not isinstance(value, dict) or set(value) != {"multiplier", "shift",
                                                             "zero_point", "relu"}:
                raise archive_error(path, f"node {spec.get('name')!r}: malformed requant",
                                    GraphFileError)
            used.update((value["multiplier"], value["shift"]))
            value = Requantize(_member(path, members, value["multiplier"], np.int64),
                               _member(path, members, value["shift"], np.int64),
                               value["zero_point"], value["relu"])
        elif isinstance(value, list):
            value = tuple(value)
        kwargs[f.name] = value
    return cls(**kwargs)


def load_graph(path: str | os.PathLike) -> Graph:
    """Read a graph file written by `save_graph`.

    Raises
    ------
    GraphFileError
        For any problem; one line naming the file.
    """
    path = Path(path)
    header, members = read_archive(path, FORMAT, (VERSION,), GraphFileError)
    try:
        tensors = {}
        for spec in header["tensors"]:
            tensor = Tensor(spec["name"], tuple(spec["shape"]), spec["scale"],
                            spec["zero_point"], spec["dtype"])
            tensors[tensor.name] = tensor
        used: set = set()
        nodes = [_node(path, members, spec, used) for spec in header["nodes"]]
        extra = sorted(set(members) - used)
        if extra:
            raise archive_error(path, f"unexpected members {', '.join(extra)}", GraphFileError)
        return Graph(header["name"], tensors, tuple(nodes), header["input"], header["output"],
                     header.get("postprocess"), header.get("metadata", {}))
    except GraphFileError:
        raise
    except (ValueError, TypeError, KeyError) as exc:
        raise archive_error(path, f"invalid graph: {exc}", GraphFileError) from None
