"""``python -m accel``: the same as the ``accelgen`` command."""

from accel.cli import main

main()
