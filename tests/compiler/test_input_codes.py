"""Pixel codes through CONFIG_LOAD_CODES: the compiled native networks run on uint8 pixels in
their input buffer exactly as they run on their quantized int8 inputs (golden model)."""

from __future__ import annotations

import numpy as np
import pytest

from accel.compiler.input_codes import PLAIN, apply_input_codes, encode_input, input_codes
from accel.compiler.lower import compile_graph
from accel.compiler.pixels import quantize_pixels
from accel.compiler.steps import AccelStep, run_steps
from accel.config import AccelConfig
from accel.isa import encode
from accel.isa.encoding import operands_of
from accel.nn.to_graph import network_to_graph
from accel.nn.model_file import load_default


@pytest.mark.parametrize("codes", [(0, 0), (0, 1), (1, 0), (3, 0)])
def test_encode_input_inverts_the_transform(codes):
    rng = np.random.default_rng(1)
    shift, flip = codes
    low, high = (-128, 127) if shift == 0 else (0, 255 >> shift)
    q = rng.integers(low, high + 1, size=300)
    u = encode_input(q, codes).astype(np.int64)
    back = ((u >> shift) ^ (flip << 7)) & 0xFF
    np.testing.assert_array_equal(np.where(back > 127, back - 256, back), q)


def test_encode_input_refuses_values_a_shift_cannot_make():
    with pytest.raises(ValueError, match="0..127"):
        encode_input(np.array([3, -1]), (1, 0))


@pytest.mark.parametrize("name", ["cnn", "mlp"])
@pytest.mark.parametrize("shape", [(8, 8), (3, 5)])
def test_native_network_on_pixel_codes_equals_quantized_input(name, shape):
    graph = network_to_graph(load_default(name))
    config = AccelConfig(rows=shape[0], cols=shape[1])
    codes = input_codes(graph, config)
    assert codes is not None and codes[1] == 0
    compiled = compile_graph(graph, config)
    lo = compiled.input_addr
    hi = lo + int(np.prod(graph.input_tensor.shape))
    steps = apply_input_codes(compiled.steps, config, lo, hi, codes)
    names = [c.instruction.name for s in steps if isinstance(s, AccelStep) for c in s.commands]
    assert names.count("config_load_codes") >= 2
    settings = [c for s in steps if isinstance(s, AccelStep) for c in s.commands
                if c.instruction.name == "config_load_codes"]
    assert settings[-1] == encode("config_load_codes", shift=0, flip=0)   # plain at the end
    rng = np.random.default_rng(5)
    images = rng.integers(0, 256, size=(2, 28, 28))
    read = compiled.read_output
    plain = run_steps(config, compiled.memory_image(), compiled.steps, lo,
                      [quantize_pixels(graph, im) for im in images], compiled.input_bytes, read)
    coded = run_steps(config, compiled.memory_image(), steps, lo, list(images),
                      lambda im: np.asarray(im, dtype=np.uint8).reshape(-1), read)
    for p, c in zip(plain, coded):
        np.testing.assert_array_equal(p.output, c.output)


def test_a_load_straddling_the_input_is_a_compiler_bug():
    config = AccelConfig(rows=4, cols=4)
    step = AccelStep((encode("config_load", stride=4),
                      encode("load_sp", mem_addr=60, sp_addr=0, rows=2, cols=4),
                      encode("fence")), (0,))
    with pytest.raises(ValueError, match="straddles"):
        apply_input_codes((step,), config, 64, 128, (1, 0))
    inside = apply_input_codes((step,), config, 0, 128, (1, 0))[0].commands
    assert [c.instruction.name for c in inside] == [
        "config_load", "config_load_codes", "load_sp", "config_load_codes", "fence"]
    assert operands_of(inside[1]) == {"shift": 1, "flip": 0}
    assert apply_input_codes((step,), config, 512, 600, (1, 0))[0].commands == step.commands
    assert PLAIN == (0, 0)
