"""``accel.config``: validation, presets, derived values and JSON round trips."""

import json
import random

import pytest

from accel.config import (BUS_WIDTHS, DATAFLOWS, INT_RANGES, PRESETS, AccelConfig, ConfigError,
                          Dataflow, preset)


def test_defaults_are_16x16_ws_int8_int32():
    config = AccelConfig()
    assert (config.rows, config.cols, config.dataflow) == (16, 16, "ws")
    assert (config.input_width, config.acc_width) == (8, 32)
    assert config.pe_count == 256


@pytest.mark.parametrize("name", sorted(INT_RANGES))
def test_every_int_range_is_enforced_with_a_one_line_message(name):
    lo, hi = INT_RANGES[name]
    for bad in (lo - 1, hi + 1, "8", 2.0, True):
        with pytest.raises(ConfigError) as info:
            AccelConfig(**{name: bad})
        message = str(info.value)
        assert "\n" not in message
        assert name in message and f"between {lo} and {hi}" in message and repr(bad) in message


@pytest.mark.parametrize("changes, fragment", [
    (dict(dataflow="is"), "dataflow must be one of ws, os, not 'is'"),
    (dict(input_width=16, acc_width=24), "acc_width must be at least 2 * input_width = 32"),
    (dict(sp_banks=3), "sp_banks must be a power of two"),
    (dict(bus_width=48), "bus_width must be one of"),
    (dict(rows=128, cols=128, sp_kib=1), "sp_kib=1 holds only"),
    (dict(name=3), "name must be a string"),
])
def test_cross_field_rules(changes, fragment):
    with pytest.raises(ConfigError, match=fragment.replace("*", r"\*")):
        AccelConfig(**changes)


def test_config_error_is_a_value_error():
    assert issubclass(ConfigError, ValueError)


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_presets_are_valid_and_named(name):
    config = preset(name)
    assert config.name == name
    assert AccelConfig(**config.to_dict()) == config


def test_unknown_preset_names_the_choices():
    with pytest.raises(ConfigError, match="unknown preset 'huge'; presets: tiny, small"):
        preset("huge")


def test_json_round_trip_of_seeded_random_configs():
    rng = random.Random(2024)
    for _ in range(25):
        rows, cols = rng.randint(1, 64), rng.randint(1, 64)
        input_width = rng.randint(2, 16)
        config = AccelConfig(rows=rows, cols=cols, dataflow=rng.choice(["ws", "os"]),
                             input_width=input_width,
                             acc_width=rng.randint(2 * input_width, 64),
                             sp_kib=256, acc_kib=256, sp_banks=rng.choice([1, 2, 4]),
                             name=f"random{rows}x{cols}")
        again = AccelConfig.from_json(config.to_json())
        assert again == config and again.to_dict() == config.to_dict()


def test_from_file_reads_configs_and_manifests(tmp_path):
    config = AccelConfig(rows=4, cols=8, dataflow="os", sp_kib=8, acc_kib=8)
    plain = tmp_path / "config.json"
    plain.write_text(config.to_json())
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps({"top": "array", "config": config.to_dict()}))
    assert AccelConfig.from_file(plain) == config
    assert AccelConfig.from_file(manifest) == config


@pytest.mark.parametrize("text, fragment", [
    ("{", "is not valid JSON"),
    ("[1, 2]", "must be a JSON object"),
    ('{"rowz": 4}', "unknown configuration field 'rowz'"),
    ('{"rows": 0}', "rows must be an integer between 1 and 128, not 0"),
])
def test_from_file_errors_are_config_errors(tmp_path, text, fragment):
    path = tmp_path / "bad.json"
    path.write_text(text)
    with pytest.raises(ConfigError, match=fragment):
        AccelConfig.from_file(path)


def test_missing_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="cannot read configuration file"):
        AccelConfig.from_file(tmp_path / "missing.json")


def test_derived_values_of_the_default_config():
    derived = AccelConfig().derived()
    assert derived["dim"] == 16 and derived["pe_count"] == 256
    assert derived["in_bytes"] == 1 and derived["acc_bytes"] == 4
    assert derived["sp_rows"] == 64 * 1024 // 16 and derived["acc_rows"] == 64 * 1024 // 64
    assert derived["sp_bank_rows"] == derived["sp_rows"] // 4
    assert derived["acc_bank_rows"] == derived["acc_rows"] // 2
    assert derived["sp_addr_width"] == 12 and derived["acc_addr_width"] == 10
    assert derived["bus_bytes"] == 4
    assert derived["tile_limits"] == [256, 16, 16]


def test_derived_values_of_a_non_square_os_config():
    config = AccelConfig(rows=4, cols=8, dataflow="os", input_width=12, acc_width=40,
                         sp_kib=4, acc_kib=4, sp_banks=2, acc_banks=2)
    assert config.dim == 8 and config.in_bytes == 2 and config.acc_bytes == 8
    assert config.sp_rows == 4096 // (8 * 2) and config.sp_rows % config.sp_banks == 0
    assert config.acc_rows == 4096 // (8 * 8)
    assert config.tile_limits == (4, 256, 8)
    assert json.loads(json.dumps(config.derived())) == config.derived()


def test_replace_validates_again():
    with pytest.raises(ConfigError, match="rows"):
        AccelConfig().replace(rows=0)
    assert AccelConfig().replace(rows=4).rows == 4


def test_hardware_digest_ignores_the_name_and_nothing_else():
    base = AccelConfig(rows=4, cols=4)
    assert base.hardware_digest() == base.replace(name="renamed").hardware_digest()
    assert base.hardware_digest() != base.replace(cols=8).hardware_digest()
    assert base.hardware_digest() != base.replace(dataflow="os").hardware_digest()
    assert len(base.hardware_digest()) == 12


@pytest.mark.parametrize("name", ["ws", "os"])
def test_a_dataflow_string_is_stored_as_its_enum_member(name):
    config = AccelConfig(dataflow=name)
    assert config.dataflow is Dataflow(name)
    assert config.dataflow == name and f"{config.dataflow}" == name
    assert config == AccelConfig(dataflow=Dataflow(name))
    assert config.hardware_digest() == AccelConfig(dataflow=Dataflow(name)).hardware_digest()
    plain = config.to_dict()["dataflow"]
    assert type(plain) is str and plain == name
    assert json.loads(config.to_json())["dataflow"] == name
    assert AccelConfig.from_json(config.to_json()).dataflow is Dataflow(name)


@pytest.mark.parametrize("bad", [None, 1, ["ws"], "WS", "Dataflow.WS", ""])
def test_a_dataflow_that_is_no_member_is_a_one_line_error(bad):
    with pytest.raises(ConfigError) as info:
        AccelConfig(dataflow=bad)
    assert str(info.value) == f"dataflow must be one of ws, os, not {bad!r}"


def test_dataflow_names_come_from_the_enum():
    assert DATAFLOWS == tuple(member.value for member in Dataflow) == ("ws", "os")
    assert AccelConfig().dataflow is Dataflow.WS


def test_bus_widths_are_the_powers_of_two_in_the_int_range():
    lo, hi = INT_RANGES["bus_width"]
    assert BUS_WIDTHS == tuple(1 << i for i in range(lo.bit_length() - 1, hi.bit_length()))
    for width in range(lo, hi + 1):
        if width in BUS_WIDTHS:
            assert AccelConfig(bus_width=width).bus_width == width
        else:
            with pytest.raises(ConfigError,
                               match="bus_width must be one of 8, 16, 32, 64, 128, 256, not"):
                AccelConfig(bus_width=width)
