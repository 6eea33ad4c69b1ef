"""``python -m accel.cli``: the same as the ``accelgen`` command."""

from accel.cli import main

main()
