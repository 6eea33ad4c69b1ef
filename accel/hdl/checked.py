"""Elaboratables that check their parameters before they exist.

Amaranth records every `Elaboratable` when it is created (in ``__new__``) and, once anything has
been elaborated, warns about each one that never was ("created but never used"). A constructor
that raises in ``__init__`` leaves such an object behind: the caller gets the exception *and*,
later, a warning about an object it never had. `CheckedConstruction` runs the class's
`check_parameters` in ``__new__`` instead, before the object exists, so bad parameters raise and
nothing is left over to warn about — without touching Amaranth's private warning switches.
"""

from __future__ import annotations

__all__ = ["CheckedConstruction"]


class CheckedConstruction:
    """Mixin for an `Elaboratable` whose constructor rejects bad parameters.

    List it before the Amaranth base (``class Foo(CheckedConstruction, wiring.Component)``) and
    override `check_parameters`; ``__init__`` then only ever sees checked parameters.
    """

    @classmethod
    def check_parameters(cls, *args, **kwargs) -> None:
        """Raise (``ValueError``, ``TypeError``) for bad constructor arguments.

        Called with exactly the arguments of the constructor call, before ``__init__``; it must
        neither consume nor change them (they go on to ``__init__`` unchanged). The default
        accepts everything.
        """

    def __new__(cls, *args, **kwargs):
        cls.check_parameters(*args, **kwargs)
        # src_loc_at=1: Amaranth's "never used" warning names the constructor's caller, not
        # this frame.
        return super().__new__(cls, src_loc_at=1)
