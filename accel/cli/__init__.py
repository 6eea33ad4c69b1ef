"""``accelgen``: the command-line interface.

A click group whose commands mirror the phases of using a generated accelerator: ``build``,
``compile`` and ``run`` (bring your own model), ``firmware``, ``isa``, ``predict``, ``matmul``,
``sim``, ``fuzz``, ``mnist``, ``board``, ``sweep``, and ``cache`` (what they cache). Each command lives in its own module and is added
here explicitly; command modules import only `accel.cli.options` and the `accel` layers below,
never `main` or each other. Bad input is reported as ONE line ``Error: ...`` with exit code 2,
never a traceback.
"""

from __future__ import annotations

from typing import Any

import click

from accel import __version__
from accel.cli import (board, build, cache, compile, firmware, fuzz, isa, matmul, mnist, predict,
                       sim, sweep)

__all__ = ["main"]

#: Raised (click >= 8.2) to print the help when a group gets no arguments; it needs its context.
_HELP_REQUESTS = getattr(click.exceptions, "NoArgsIsHelpError", ())


class _OneLineErrors(click.Group):
    """A group whose usage errors print only ``Error: ...`` (no usage block), exit code 2."""

    def make_context(self, *args: Any, **kwargs: Any) -> click.Context:
        try:
            return super().make_context(*args, **kwargs)
        except click.UsageError as exc:
            if not isinstance(exc, _HELP_REQUESTS):
                exc.ctx = None
            raise

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.UsageError as exc:
            if not isinstance(exc, _HELP_REQUESTS):
                exc.ctx = None
            raise


@click.group(cls=_OneLineErrors, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="accelgen")
def main() -> None:
    """accelgen: generate systolic-array AI accelerators (Amaranth HDL -> Verilog)."""


main.add_command(build.build)
main.add_command(compile.compile_command)
main.add_command(compile.run_command)
main.add_command(firmware.firmware)
main.add_command(isa.isa)
main.add_command(predict.predict)
main.add_command(matmul.matmul_command)
main.add_command(sim.sim)
main.add_command(fuzz.fuzz)
main.add_command(mnist.mnist)
main.add_command(board.board)
main.add_command(sweep.sweep)
main.add_command(cache.cache)
