"""Test markers: what a test needs beyond ``pip install -e '.[test]'``'s Python packages.

Every test module that runs an external tool says so with an explicit ``pytestmark`` (or marks
the few tests of a mixed module one by one):

- ``python -m pytest -m "not rtl and not soc and not formal and not fpga"`` needs the Python
  packages alone: no Verilator, Icarus, RISC-V GCC or Yosys;
- adding ``and not slow`` gives the fast loop (about a minute with ``-n 2``).

``--strict-markers`` (in ``pyproject.toml``) turns a misspelt marker into an error. A test of the
fast loop that runs longer than :data:`SLOW_SECONDS` is named at the end of the run, so the fast
loop stays fast as tests are added.
"""

MARKERS = {
    "rtl": "builds, runs or lints the emitted Verilog in Verilator or Icarus (cocotb)",
    "soc": "needs the SoC: RISC-V firmware (riscv64-unknown-elf-gcc) and/or PicoRV32 simulation",
    "formal": "proves properties (YoWASP Yosys with an SMT solver)",
    "fpga": "runs Yosys or nextpnr (synthesis, place and route, resource counts)",
    "slow": "takes more than about 2 seconds on its own; left out of the fast loop",
}

#: Calls longer than this, of tests in the fast loop (no marker at all), are listed after the run.
SLOW_SECONDS = 5.0

_unmarked_slow: list[tuple[float, str]] = []


def pytest_configure(config):
    for name, meaning in MARKERS.items():
        config.addinivalue_line("markers", f"{name}: {meaning}")


def pytest_runtest_setup(item):
    # user_properties travel with the report, also from pytest-xdist workers.
    marked = sorted(MARKERS.keys() & {mark.name for mark in item.iter_markers()})
    item.user_properties.append(("markers", marked))


def pytest_runtest_logreport(report):
    if report.when == "call" and report.duration > SLOW_SECONDS \
            and not dict(report.user_properties).get("markers"):
        _unmarked_slow.append((report.duration, report.nodeid))


def pytest_terminal_summary(terminalreporter):
    if _unmarked_slow:
        terminalreporter.section("tests slower than the fast loop allows (mark them slow)")
        for duration, nodeid in sorted(_unmarked_slow, reverse=True):
            terminalreporter.write_line(f"{duration:6.1f} s  {nodeid}")
