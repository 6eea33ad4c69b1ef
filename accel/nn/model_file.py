"""Saving and loading a `QuantizedNetwork` as one ``.npz`` file, without pickle.

Format (version 1)
------------------
An ordinary NumPy ``.npz`` archive (a zip of ``.npy`` members, deflate-compressed, members in a
fixed order with a fixed 1980-01-01 timestamp, so the same network always gives the same bytes)
that `numpy.load` reads with ``allow_pickle=False``. Its members:

``header``
    A 0-d unicode array holding one JSON object::

        {
          "format": "accelgen-quantized-network",
          "version": 1,
          "name": "cnn",
          "input_shape": [28, 28, 1],          # HWC
          "input_shift": 1,                    # input int8 = pixel >> input_shift
          "layers": [
            {"kind": "conv2d", "weight": "layer0.weight", "bias": "layer0.bias",
             "requant": {"multiplier": 1499365253, "shift": 39, "zero_point": 0,
                         "relu": true}},
            {"kind": "maxpool2d", "size": 2},
            ...
            {"kind": "dense", "weight": "layer6.weight", "bias": "layer6.bias",
             "requant": null}                  # last layer: int32 logits
          ],
          "metadata": {...}                    # free-form JSON: accuracies, scales, seed...
        }

``layer<i>.weight``
    int8; ``(kh, kw, cin, cout)`` for ``conv2d``, ``(inputs, outputs)`` for ``dense``
    (inputs in HWC flattening order of the previous tensor).
``layer<i>.bias``
    int32, ``(cout,)`` / ``(outputs,)``, at the accumulator's scale.

The semantics of every field are those of `accel.nn.network` (``requant`` is
`accel.compiler.tiler.Requant`, executed by `accel.golden.arith.activate`). No other member is
allowed. A reader rejects any other ``format`` and any ``version`` it does not know.

Every problem while loading (missing, unreadable, truncated or non-zip file, pickled or missing
members, bad JSON, unknown version, wrong dtypes or shapes, invalid layer parameters) raises a
`ModelFileError`: a `ValueError` with a one-line message ``"<file>: <problem>"``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from accel.compiler.tiler import Requant
from accel.util.npz_archive import (ArchiveError, archive_bytes, archive_error, read_archive,
                                     write_atomically)
from accel.nn.network import Conv2D, Dense, MaxPool2D, QuantizedNetwork

__all__ = ["FORMAT", "VERSION", "ModelFileError", "default_model_path", "load", "load_default",
           "save", "to_bytes"]

#: The ``format`` field of the header.
FORMAT = "accelgen-quantized-network"
#: The only version this module reads and writes.
VERSION = 1
#: Directory of the committed default models.
MODELS_DIR = Path(__file__).parent / "mnist" / "models"
#: Names of the committed default models.
DEFAULT_MODELS = ("cnn", "mlp")

_KINDS = {Conv2D: "conv2d", MaxPool2D: "maxpool2d", Dense: "dense"}


class ModelFileError(ArchiveError):
    """A model file is missing or malformed; the message is one line naming the file."""


def _error(path: object, problem: str) -> ModelFileError:
    return archive_error(path, problem, ModelFileError)


def _header(network: QuantizedNetwork) -> tuple[dict, dict[str, np.ndarray]]:
    arrays: dict[str, np.ndarray] = {}
    layers = []
    for index, layer in enumerate(network.layers):
        kind = _KINDS[type(layer)]
        if kind == "maxpool2d":
            layers.append({"kind": kind, "size": layer.size})
            continue
        weight, bias = f"layer{index}.weight", f"layer{index}.bias"
        arrays[weight] = layer.weight.astype(np.int8)
        arrays[bias] = layer.bias.astype(np.int32)
        requant = None if layer.requant is None else {
            "multiplier": layer.requant.multiplier, "shift": layer.requant.shift,
            "zero_point": layer.requant.zero_point, "relu": bool(layer.requant.relu)}
        layers.append({"kind": kind, "weight": weight, "bias": bias, "requant": requant})
    header = {"format": FORMAT, "version": VERSION, "name": network.name,
              "input_shape": list(network.input_shape), "input_shift": network.input_shift,
              "layers": layers, "metadata": network.metadata}
    return header, arrays


def to_bytes(network: QuantizedNetwork) -> bytes:
    """The ``.npz`` file contents of ``network`` (deterministic: same network, same bytes).

    Raises
    ------
    ValueError
        The metadata is not JSON-serializable.
    """
    header, arrays = _header(network)
    return archive_bytes(header, arrays)


def save(network: QuantizedNetwork, path: str | os.PathLike) -> None:
    """Write ``network`` to ``path`` (atomically: a failure leaves no partial file)."""
    write_atomically(to_bytes(network), path)


def _read(path: Path) -> tuple[dict, dict[str, np.ndarray]]:
    header, members = read_archive(path, FORMAT, (VERSION,), ModelFileError)
    for key, kind in (("name", str), ("input_shape", list), ("input_shift", int),
                      ("layers", list), ("metadata", dict)):
        if not isinstance(header.get(key), kind) or isinstance(header.get(key), bool):
            raise _error(path, f"header field {key!r} is missing or not a {kind.__name__}")
    return header, members


def _array(path: Path, members: dict[str, np.ndarray], spec: dict, key: str,
           dtype: type) -> np.ndarray:
    name = spec.get(key)
    if not isinstance(name, str) or name not in members:
        raise _error(path, f"layer {key} member {name!r} is missing")
    array = members[name]
    if array.dtype != np.dtype(dtype):
        raise _error(path, f"member {name!r} must be {np.dtype(dtype)}, not {array.dtype}")
    return array


def _layer(path: Path, members: dict[str, np.ndarray], spec: Any, index: int):
    if not isinstance(spec, dict):
        raise _error(path, f"layer {index} is not a JSON object")
    kind = spec.get("kind")
    if kind == "maxpool2d":
        return MaxPool2D(spec.get("size"))
    if kind not in ("conv2d", "dense"):
        raise _error(path, f"layer {index} has unknown kind {kind!r}")
    weight = _array(path, members, spec, "weight", np.int8)
    bias = _array(path, members, spec, "bias", np.int32)
    requant = spec.get("requant", "missing")
    if requant is not None:
        if not isinstance(requant, dict) or set(requant) != {"multiplier", "shift",
                                                             "zero_point", "relu"}:
            raise _error(path, f"layer {index} requant must be null or an object with "
                               "multiplier, shift, zero_point and relu")
        if not all(isinstance(requant[k], int) and not isinstance(requant[k], bool)
                   for k in ("multiplier", "shift", "zero_point")) or not isinstance(
                requant["relu"], bool):
            raise _error(path, f"layer {index} requant has values of the wrong type")
        requant = Requant(**requant)
    return (Conv2D if kind == "conv2d" else Dense)(weight, bias, requant)


def load(path: str | os.PathLike) -> QuantizedNetwork:
    """Read a model file written by `save`.

    Raises
    ------
    ModelFileError
        For any problem (see the module docstring); one line naming the file.
    """
    path = Path(path)
    header, members = _read(path)
    try:
        layers = [_layer(path, members, spec, i) for i, spec in enumerate(header["layers"])]
        referenced = {spec[key] for spec in header["layers"]
                                   for key in ("weight", "bias") if key in spec}
        extra = sorted(set(members) - referenced)
        if extra:
            raise _error(path, f"unexpected members {', '.join(extra)}")
        return QuantizedNetwork(header["name"], tuple(layers),
                                input_shape=tuple(header["input_shape"]),
                                input_shift=header["input_shift"], metadata=header["metadata"])
    except ModelFileError:
        raise
    except (ValueError, TypeError) as exc:
        raise _error(path, f"invalid network: {exc}") from None


def default_model_path(name: str = "cnn") -> Path:
    """Path of a committed default model (``cnn`` or ``mlp``), shipped as package data.

    Raises
    ------
    ValueError
        ``name`` is not a default model.
    """
    if name not in DEFAULT_MODELS:
        raise ValueError(f"no default model {name!r} (choose from {', '.join(DEFAULT_MODELS)})")
    return MODELS_DIR / f"{name}.npz"


def load_default(name: str = "cnn") -> QuantizedNetwork:
    """Load a committed default model (see `default_model_path`)."""
    return load(default_model_path(name))
