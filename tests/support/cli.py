"""Running the ``accelgen`` CLI in-process from tests."""

import json
from pathlib import Path

from click.testing import CliRunner

from accel.cli import main
from accel.config import AccelConfig


def run_cli(*args):
    """Invoke ``accelgen`` with ``args`` (each passed through ``str``); exceptions propagate."""
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def write_config(directory: Path, config: AccelConfig) -> Path:
    """``directory/config.json`` holding ``config``, for ``--config``."""
    path = Path(directory) / "config.json"
    path.write_text(json.dumps(config.to_dict()))
    return path
