"""``python -m bench``: the bench report (see `bench.report`)."""

import sys

from bench.report import main

sys.exit(main())
