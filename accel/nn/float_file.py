"""Saving and loading a trained float network (`accel.nn.layers.FloatNetwork`) as one ``.npz``.

The native int8 networks have their own format (`accel.nn.model_file`); this one keeps a float
network exactly (float32 parameters, layer settings) so that it can be exported again — to ONNX
by `accel.nn.onnx_export` — and quantized by another tool. The committed ``cnn5`` model
(`default_float_path`) is such a file.

Format (version 1)
------------------
The container of `accel.util.npz_archive` (deterministic bytes, no pickle) with the header::

    {
      "format": "accelgen-float-network",
      "version": 1,
      "name": "cnn5",
      "input_shape": [28, 28, 1],                  # HWC
      "layers": [
        {"kind": "conv", "weight": "layer0.weight", "bias": "layer0.bias",
         "padding": "same", "stride": [1, 1]},     # padding: "valid", "same" or [t, l, b, r]
        {"kind": "relu"},
        {"kind": "maxpool", "size": 3, "stride": 3},
        {"kind": "dense", "weight": "layer6.weight", "bias": "layer6.bias"}
      ],
      "metadata": {...}                            # free-form JSON: recipe, accuracy...
    }

and float32 members ``layer<i>.weight`` (``(kh, kw, cin, cout)`` or ``(inputs, outputs)`` with
inputs in HWC order) and ``layer<i>.bias``. Any problem while loading raises a `FloatFileError`:
a `ValueError` whose message is one line ``"<file>: <problem>"``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from accel.nn.layers import Conv, Dense, FloatNetwork, MaxPool, ReLU
from accel.util.npz_archive import ArchiveError, archive_bytes, archive_error, read_archive
from accel.util.npz_archive import write_atomically

__all__ = ["FORMAT", "VERSION", "FloatFileError", "default_float_path", "load_default_float",
           "load_float", "save_float", "to_bytes"]

#: The ``format`` field of the header.
FORMAT = "accelgen-float-network"
#: The only version this module reads and writes.
VERSION = 1
#: Committed float models: name -> file in ``accel/nn/mnist/models``.
DEFAULT_FLOAT_MODELS = {"cnn5": "cnn5-float.npz"}


class FloatFileError(ArchiveError):
    """A float model file is missing or malformed; the message is one line naming the file."""


def _layer_spec(index: int, layer, arrays: dict[str, np.ndarray]) -> dict:
    if isinstance(layer, ReLU):
        return {"kind": "relu"}
    if isinstance(layer, MaxPool):
        return {"kind": "maxpool", "size": layer.size, "stride": layer.stride}
    if not isinstance(layer, (Conv, Dense)):
        raise ValueError(f"layer {index}: cannot save a {type(layer).__name__}")
    weight, bias = f"layer{index}.weight", f"layer{index}.bias"
    arrays[weight] = layer.params["weight"].astype(np.float32)
    arrays[bias] = layer.params["bias"].astype(np.float32)
    if isinstance(layer, Dense):
        return {"kind": "dense", "weight": weight, "bias": bias}
    padding = layer.padding if isinstance(layer.padding, str) else list(layer.pads((1, 1)))
    return {"kind": "conv", "weight": weight, "bias": bias, "padding": padding,
            "stride": list(layer.stride)}


def to_bytes(network: FloatNetwork, metadata: dict | None = None) -> bytes:
    """The file contents of ``network`` (same network and metadata, same bytes).

    Raises
    ------
    ValueError
        A layer that is not Conv, Dense, ReLU or MaxPool, or metadata that is not JSON.
    """
    arrays: dict[str, np.ndarray] = {}
    layers = [_layer_spec(i, layer, arrays) for i, layer in enumerate(network.layers)]
    header = {"format": FORMAT, "version": VERSION, "name": network.name,
              "input_shape": list(network.input_shape), "layers": layers,
              "metadata": dict(metadata or {})}
    return archive_bytes(header, arrays)


def save_float(network: FloatNetwork, path: str | os.PathLike,
               metadata: dict | None = None) -> None:
    """Write ``network`` (and free-form JSON ``metadata``) to ``path``, atomically."""
    write_atomically(to_bytes(network, metadata), path)


def _array(path: Path, members: dict, spec: dict, key: str) -> np.ndarray:
    name = spec.get(key)
    if not isinstance(name, str) or name not in members:
        raise archive_error(path, f"layer {key} member {name!r} is missing", FloatFileError)
    array = members[name]
    if array.dtype != np.float32:
        raise archive_error(path, f"member {name!r} must be float32, not {array.dtype}",
                            FloatFileError)
    return array


def _layer(path: Path, members: dict, spec: Any, index: int):
    if not isinstance(spec, dict):
        raise archive_error(path, f"layer {index} is not a JSON object", FloatFileError)
    kind = spec.get("kind")
    if kind == "relu":
        return ReLU()
    if kind == "maxpool":
        return MaxPool(spec.get("size"), spec.get("stride"))
    if kind == "dense":
        return Dense(_array(path, members, spec, "weight"), _array(path, members, spec, "bias"))
    if kind == "conv":
        weight, bias = _array(path, members, spec, "weight"), _array(path, members, spec, "bias")
        if weight.ndim != 4 or bias.shape != weight.shape[3:]:
            raise archive_error(path, f"layer {index}: conv weight {weight.shape} and bias "
                                      f"{bias.shape} do not match", FloatFileError)
        padding = spec.get("padding")
        return Conv(weight, bias, tuple(padding) if isinstance(padding, list) else padding,
                    tuple(spec.get("stride") or ()))
    raise archive_error(path, f"layer {index} has unknown kind {kind!r}", FloatFileError)


def load_float(path: str | os.PathLike) -> tuple[FloatNetwork, dict]:
    """``(network, metadata)`` of a file written by `save_float`.

    Raises
    ------
    FloatFileError
        For any problem (see the module docstring); one line naming the file.
    """
    path = Path(path)
    header, members = read_archive(path, FORMAT, (VERSION,), FloatFileError)
    for key, kind in (("name", str), ("input_shape", list), ("layers", list),
                      ("metadata", dict)):
        if not isinstance(header.get(key), kind):
            raise archive_error(path, f"header field {key!r} is missing or not a "
                                      f"{kind.__name__}", FloatFileError)
    try:
        layers = [_layer(path, members, spec, i) for i, spec in enumerate(header["layers"])]
        referenced = {spec[key] for spec in header["layers"] for key in ("weight", "bias")
                      if key in spec}
        extra = sorted(set(members) - referenced)
        if extra:
            raise archive_error(path, f"unexpected members {', '.join(extra)}", FloatFileError)
        network = FloatNetwork(header["name"], layers, tuple(header["input_shape"]))
        if len(network.input_shape) != 3:
            raise ValueError(f"input_shape must be (h, w, c), not {network.input_shape}")
        network.forward(np.zeros((1, *network.input_shape), np.float32))  # shapes fit
    except FloatFileError:
        raise
    except (ValueError, TypeError) as exc:
        raise archive_error(path, f"invalid network: {exc}", FloatFileError) from None
    return network, header["metadata"]


def default_float_path(name: str = "cnn5") -> Path:
    """Path of a committed float model (package data in ``accel/nn/mnist/models``).

    Raises
    ------
    ValueError
        ``name`` is not a committed float model.
    """
    if name not in DEFAULT_FLOAT_MODELS:
        raise ValueError(f"no committed float model {name!r} (choose from "
                         f"{', '.join(DEFAULT_FLOAT_MODELS)})")
    return Path(__file__).parent / "mnist" / "models" / DEFAULT_FLOAT_MODELS[name]


def load_default_float(name: str = "cnn5") -> tuple[FloatNetwork, dict]:
    """``(network, metadata)`` of a committed float model (see `default_float_path`)."""
    return load_float(default_float_path(name))
