"""One flag name per concept across the ``accelgen`` commands (issue 14, item 9 "consistency").

Every check walks the command tree, so a command added later is held to the same rules.
"""

import json
from dataclasses import fields

import click
import numpy as np
import pytest
from click.testing import CliRunner

from accel.build.verilog import TOPS
from accel.cli import main
from accel.cli.options import CONFIG_FIELDS, config_flag
from accel.config import AccelConfig


def _walk(command: click.Command, path: tuple[str, ...] = ()):
    """``(path, command)`` of the group and every command and group below it."""
    yield path, command
    if isinstance(command, click.Group):
        for name, sub in sorted(command.commands.items()):
            yield from _walk(sub, (*path, name))


COMMANDS = {" ".join(path): command for path, command in _walk(main)}
LEAVES = {name: command for name, command in COMMANDS.items()
          if not isinstance(command, click.Group)}


def _options(command: click.Command) -> list[click.Option]:
    return [p for p in command.params if isinstance(p, click.Option)]


def _help(*path: str) -> str:
    result = CliRunner().invoke(main, [*path, "--help"], terminal_width=200)
    assert result.exit_code == 0, result.output
    return result.output


def _run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_the_walk_sees_every_command():
    for name in ("build", "firmware build", "predict", "matmul", "sim random", "fuzz",
                 "mnist eval", "mnist train", "mnist info", "board build", "board program",
                 "board demo", "isa header", "sweep"):
        assert name in LEAVES


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_dash_h_is_help_on_every_command_and_group(name):
    args = name.split()
    short = CliRunner().invoke(main, [*args, "-h"], terminal_width=200)
    assert short.exit_code == 0, short.output
    assert short.output.startswith("Usage: ") and "-h, --help" in short.output
    assert short.output == _help(*args)


def test_build_has_a_flag_for_every_config_field():
    build = COMMANDS["build"]
    by_name = {option.name: option for option in _options(build)}
    text = " ".join(_help("build").split())
    for field in fields(AccelConfig):
        option = by_name.get(field.name)
        assert option is not None, f"build has no flag for AccelConfig.{field.name}"
        assert config_flag(field.name) in option.opts
        assert config_flag(field.name) in text
        assert option.help and not option.help.startswith("The configuration's"), \
            f"--{field.name}: write its help in accel.cli.options._FIELD_HELP"
    assert set(CONFIG_FIELDS) == {f.name for f in fields(AccelConfig)}


def test_every_config_command_has_the_same_config_flags():
    want = {config_flag(name) for name in CONFIG_FIELDS} | {"--preset", "--config"}
    with_config = [name for name, command in LEAVES.items()  # sweep takes lists: not these
                   if any(o.name == "config_file" for o in _options(command))]
    assert {"build", "firmware build", "predict", "matmul", "sim random", "fuzz", "mnist eval",
            "board build", "isa header"} <= set(with_config)
    for name in with_config:
        flags = {flag for option in _options(LEAVES[name]) for flag in option.opts}
        assert want <= flags, f"{name} lacks {sorted(want - flags)}"


def test_build_flags_set_every_config_field(tmp_path):
    """Each flag reaches the manifest: every field differs from the default preset's."""
    probe = {"rows": 3, "cols": 5, "dataflow": "os", "input_width": 4, "acc_width": 12,
             "sp_kib": 8, "acc_kib": 8, "sp_banks": 2, "acc_banks": 4, "bus_width": 64,
             "mem_addr_width": 20, "soc_sram_kib": 32, "name": "probe"}
    default = AccelConfig().to_dict()
    assert all(probe[k] != default[k] for k in probe)
    args = [a for name, value in probe.items() if name in CONFIG_FIELDS
            for a in (config_flag(name), value)]
    result = _run("build", "--top", "array", *args, "--out", tmp_path)
    assert result.exit_code == 0, result.output
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert {k: manifest["config"][k] for k in probe} == probe


def test_top_help_lists_every_top():
    text = " ".join(_help("build").split())
    top = text[text.index("--top"):text.index("--out")]
    for name in TOPS:
        assert f"{name}:" in top, f"--top help does not describe {name}"


def test_the_model_is_model_everywhere():
    for name, command in LEAVES.items():
        for option in _options(command):
            if "model" in option.name or any("model" in flag for flag in option.opts):
                assert option.opts == ["--model"], f"{name}: {option.opts}"
    for name in ("predict", "mnist eval", "mnist info", "board build", "board demo", "run"):
        option = next((o for o in _options(LEAVES[name]) if o.opts == ["--model"]), None)
        assert option is not None, f"{name} has no --model"
        assert option.metavar == "cnn|mlp|FILE"


def test_mnist_info_takes_model_as_flag_or_argument():
    by_flag, by_argument = _run("mnist", "info", "--model", "mlp"), _run("mnist", "info", "mlp")
    assert by_flag.exit_code == 0, by_flag.output
    assert by_flag.output == by_argument.output and "dense 784->128" in by_flag.output
    assert _run("mnist", "info").output == _run("mnist", "info", "cnn").output
    clash = _run("mnist", "info", "cnn", "--model", "mlp")
    assert clash.exit_code == 2
    assert clash.output.strip() == "Error: two models given: 'cnn' and --model 'mlp'"


def test_one_sram_flag():
    for name, command in LEAVES.items():
        shown = _help(*name.split())
        assert "--sram-kib" not in shown.replace("--soc-sram-kib", ""), name
        sram = [o for o in _options(command) if "sram" in o.name]
        assert all(o.name == "soc_sram_kib" for o in sram), name
    assert "--soc-sram-kib" in _help("firmware", "build")


@pytest.mark.slow
@pytest.mark.parametrize("flag", ["--soc-sram-kib", "--sram-kib"])
def test_both_sram_spellings_set_the_field(tmp_path, flag):
    result = _run("build", "--preset", "tiny", "--top", "array", flag, 128, "--out", tmp_path)
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "manifest.json").read_text())["config"]["soc_sram_kib"] == 128


def test_errors_name_the_shown_spelling():
    result = _run("build", "--sram-kib", "many")
    assert result.exit_code == 2
    assert "'--soc-sram-kib'" in result.output
    assert "--sram-kib" not in result.output.replace("--soc-sram-kib", "")


@pytest.mark.parametrize("command", ["program", "demo"])
def test_board_commands_read_their_build_dir_from_build_dir(tmp_path, command):
    shown = _help("board", command)
    assert "--build-dir" in shown and "--out" not in shown
    extra = ["--board", "ulx3s-85f"] if command == "program" else ["--port", tmp_path / "tty"]
    for flag in ("--build-dir", "--out"):  # --out: the spelling of older command lines
        result = _run("board", command, *extra, flag, tmp_path / "none")
        assert result.exit_code == 2, result.output
        assert result.output.strip() == (f"Error: no build in {str(tmp_path / 'none')!r} (no "
                                         "report.json): run accelgen board build first")


FIGURES = ["matmul", "predict", "sim random", "fuzz", "mnist eval", "mnist train",
           "board build", "board demo", "firmware build"]


@pytest.mark.parametrize("name", FIGURES)
def test_commands_that_report_figures_take_json(name):
    option = next((o for o in _options(LEAVES[name]) if "--json" in o.opts), None)
    assert option is not None, f"{name} has no --json"
    assert option.metavar == "FILE" and option.name == "json_path"


def test_matmul_json_holds_the_printed_figures(tmp_path):
    path = tmp_path / "m.json"
    result = _run("matmul", "--preset", "tiny", "--m", 19, "--k", 7, "--n", 10, "--bias",
                  "--seed", 3, "--json", path)
    assert result.exit_code == 0, result.output
    saved = json.loads(path.read_text())
    assert saved["macs"] == 19 * 7 * 10 and f"MACs         {saved['macs']}" in result.output
    assert f"instructions {saved['instructions']}" in result.output
    assert (saved["m"], saved["k"], saved["n"], saved["bias"]) == (19, 7, 10, True)
    assert saved["matches"] is True and saved["wrong_elements"] == 0
    assert saved["cycles"] is None and saved["config"]["name"] == "tiny"


@pytest.mark.slow
def test_mnist_train_json_holds_the_accuracies(tmp_path):
    path, model = tmp_path / "t.json", tmp_path / "m.npz"
    result = _run("mnist", "train", "--arch", "mlp", "--epochs", 1, "--seed", 2, "--out", model,
                  "--json", path)
    assert result.exit_code == 0, result.output
    saved = json.loads(path.read_text())
    assert (saved["arch"], saved["epochs"], saved["seed"]) == ("mlp", 1, 2)
    assert len(saved["history"]) == 1 and saved["history"][0]["epoch"] == 1
    assert f"int8 {100 * saved['int8_accuracy']:.2f}%" in result.output
    assert f"float {100 * saved['float_accuracy']:.2f}%" in result.output
    assert saved["train_images"] == 4000 and saved["eval_images"] == 1000


@pytest.mark.slow
def test_board_demo_json_holds_every_answer(tmp_path, monkeypatch):
    """A stand-in board answers with the reference's logits except for image 1."""
    import boards.demo
    from boards.demo import DemoResult
    from boards.protocol import DemoAnswer

    from accel.nn.model_file import load_default
    from accel.nn.network import reference

    network = load_default("mlp")
    (tmp_path / "report.json").write_text(json.dumps({
        "board": "ulx3s-85f", "bitstream": "x.bit", "memory": {"model": "mlp"},
        "uart": {"baud": 115200}, "clock": {"target_mhz": 25.0}}))

    class Port:
        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def close(self):
            pass

    class Hello:
        window = 2

    def classify(port, images, *, timeout, on_result, window=1):
        for index, image in enumerate(images):
            logits = reference(network, image) + (index == 1)
            on_result(index, DemoResult(DemoAnswer(int(np.argmax(logits)), 1000 + index,
                                                   logits), 0.5))

    monkeypatch.setattr(boards.demo, "open_port", lambda *args: Port())
    monkeypatch.setattr(boards.demo, "classify", classify)
    monkeypatch.setattr(boards.demo, "handshake", lambda port, *, timeout: Hello())
    path = tmp_path / "demo.json"
    result = _run("board", "demo", "--port", "ttyFAKE", "--build-dir", tmp_path, "--images", 3,
                  "--json", path)
    assert result.exit_code == 1  # image 1 differs from the reference
    assert "1 of 3 answers differ" in result.output
    saved = json.loads(path.read_text())
    assert (saved["images"], saved["agree"], saved["network"]) == (3, 2, network.name)
    assert [a["matches"] for a in saved["answers"]] == [True, False, True]
    assert [a["cycles"] for a in saved["answers"]] == [1000, 1001, 1002]
    assert saved["mean_cycles"] == 1001 and saved["clock_hz"] == 25e6
