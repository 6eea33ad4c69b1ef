"""The installable wheel: built from the tree, installed (not editable) into a scratch virtualenv,
it carries every file of its packages and builds Verilog and firmware and evaluates MNIST from a
directory that is not the repository, writing nothing but its outputs and its cache.

The virtualenv sees the machine's site-packages (``--system-site-packages``) for the
dependencies, so no network is needed; the test proves that the wheel's own copy of ``accel``,
``sim`` and ``boards`` is the one imported, not the editable install of the repository.
"""

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.soc]  # soc: `firmware build` runs RISC-V GCC

REPO = Path(__file__).resolve().parents[2]
#: What the wheel is built from: pyproject's packages (``packages.find``) and its readme.
PACKAGES = ("accel", "sim", "boards")
_IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")


def _run(args, *, cwd, env, timeout=300):
    proc = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout)
    assert proc.returncode == 0, (f"{' '.join(map(str, args))} exited {proc.returncode}:\n"
                                  f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return proc.stdout


def _files(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*")
            if p.is_file() and "__pycache__" not in p.parts}


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """``(venv bin dir, source copy, wheel path, environment)``."""
    tmp = tmp_path_factory.mktemp("wheel")
    # A copy keeps the build's own droppings (build/, *.egg-info) out of the repository.
    src = tmp / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, src / name)
    for package in PACKAGES:
        shutil.copytree(REPO / package, src / package, ignore=_IGNORE)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env["PIP_NO_INDEX"] = "1"  # everything comes from this machine
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    dist = tmp / "dist"
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
          "-w", dist, src], cwd=tmp, env=env)
    wheels = list(dist.glob("accelgen-*.whl"))
    assert len(wheels) == 1, wheels
    venv = tmp / "venv"
    _run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", venv],
         cwd=tmp, env=env)
    python = venv / "bin" / "python"
    _run([sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "-q",
          wheels[0]], cwd=tmp, env=env)
    env["PATH"] = os.pathsep.join([str(venv / "bin"), env.get("PATH", "")])
    env["ACCELGEN_CACHE"] = str(tmp / "cache")
    env.pop("ACCELGEN_SIM_CACHE", None)
    return venv / "bin", src, wheels[0], env


def test_wheel_holds_every_file_of_its_packages(installed):
    _, src, wheel, _ = installed
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {f"{package}/{name}" for package in PACKAGES for name in _files(src / package)}
    assert expected - names == set()
    # The firmware sources, the committed models and the board notes among them.
    for path in ("accel/build/firmware/src/start.S", "accel/build/firmware/src/apps/mnist.c",
                 "accel/build/firmware/src/matmul_tiles.inc", "accel/nn/mnist/models/cnn.npz",
                 "accel/nn/mnist/models/mlp.npz"):
        assert path in names, path
    assert not any(name.startswith("tests/") for name in names)


def test_installed_copy_is_the_one_imported(installed, tmp_path):
    bin_dir, _, _, env = installed
    out = _run([bin_dir / "python", "-c",
                "import json, accel, sim, boards, accel.build.firmware as f\n"
                "print(json.dumps([accel.__file__, sim.__file__, boards.__file__,"
                " str(f.FIRMWARE_DIR)]))"], cwd=tmp_path, env=env)
    purelib = Path(_run([bin_dir / "python", "-c",
                         "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                        cwd=tmp_path, env=env).strip())
    assert purelib.is_relative_to(bin_dir.parent)
    assert purelib != Path(sysconfig.get_paths()["purelib"])
    for path in json.loads(out):
        assert Path(path).is_relative_to(purelib), path
        assert not Path(path).is_relative_to(REPO), path


def test_commands_work_from_another_directory(installed, tmp_path):
    bin_dir, src, _, env = installed
    purelib = next((bin_dir.parent / "lib").glob("python*/site-packages"))
    before = _files(purelib)
    accelgen = bin_dir / "accelgen"
    assert accelgen.is_file()

    out = _run([accelgen, "build", "--rows", "2", "--cols", "2", "--out", "X"], cwd=tmp_path,
               env=env)
    assert "2x2" in out
    manifest = json.loads((tmp_path / "X" / "manifest.json").read_text())
    assert (manifest["config"]["rows"], manifest["config"]["cols"]) == (2, 2)
    top = manifest["top"]
    assert set(manifest["files"]) <= set(os.listdir(tmp_path / "X"))
    assert f"\nmodule {top}(" in (tmp_path / "X" / f"{top}.v").read_text()
    assert "#define ACCEL_ROWS 2" in (tmp_path / "X" / "accelgen.h").read_text()

    out = _run([accelgen, "firmware", "build", "--rows", "2", "--cols", "2", "--out", "Y"],
               cwd=tmp_path, env=env)
    assert "selftest for 2x2" in out
    info = json.loads((tmp_path / "Y" / "selftest.json").read_text())
    assert info["image_bytes"] == (tmp_path / "Y" / "selftest.bin").stat().st_size > 0
    assert info["config"]["rows"] == 2

    out = _run([accelgen, "mnist", "eval", "--images", "10"], cwd=tmp_path, env=env)
    assert "10 images" in out and "accuracy" in out
    assert "identical logits to the golden model: 10/10" in out

    # Nothing written but the outputs: not into the cwd, the installed packages or the source.
    assert sorted(os.listdir(tmp_path)) == ["X", "Y"]
    assert _files(purelib) == before
    assert not (src / ".sim_cache").exists()
