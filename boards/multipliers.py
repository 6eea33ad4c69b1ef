"""Which multipliers of a design get the FPGA's hard multipliers, and which are built from LUTs.

Yosys maps every ``$mul`` onto hard multipliers (``mul2dsp``: ECP5 ``MULT18X18D``, iCE40
``SB_MAC16``), splitting wide products into several, and does not stop when the device runs
out: placement then fails. `plan_multipliers` reads the design's RTLIL, computes how many hard
multipliers Yosys would give each ``$mul`` (`dsp_cost`, mul2dsp's own splitting rule), and
hands the device's hard multipliers out in order of LUTs saved per hard multiplier — the soft
size of a product grows with ``a_width * b_width`` — so the activation unit's 32 x 31
requantization products (about 3,500 LUT4 each in logic, 4 hard multipliers) keep theirs before
the systolic array's 8 x 8 ones (about 170 LUT4 each as a Booth multiplier). The rest are
rebuilt as radix-4 Booth multipliers in LUTs by Yosys' ``booth`` pass (or, for operands
narrower than the 4 bits ``booth`` takes, by Yosys' generic ``techmap``), which
`MultiplierPlan.yosys_script` runs before synthesis.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Multiplier", "MultiplierPlan", "DSP_RULES", "dsp_cost", "find_multipliers",
           "plan_multipliers"]


@dataclass(frozen=True)
class DSPRule:
    """How Yosys' ``mul2dsp`` splits a product for one family: chunks of at most ``width`` bits
    per operand; a chunk pair narrower than ``min_width`` (either operand) or ``min_y`` (their
    sum) stays in logic."""

    width: int
    min_width: int = 2
    min_y: int = 0


#: The options ``synth_ecp5`` and ``synth_ice40 -dsp`` pass to ``mul2dsp``.
DSP_RULES = {"ecp5": DSPRule(width=18), "ice40": DSPRule(width=16, min_y=11)}


@dataclass(frozen=True)
class Multiplier:
    """One ``$mul`` cell of the RTLIL.

    Members
    -------
    module, name : str
        RTLIL module and cell names (without the leading backslash of public names).
    a_width, b_width, y_width : int
    constant : int or None
        The value of a constant operand, if one is constant.
    """

    module: str
    name: str
    a_width: int
    b_width: int
    y_width: int
    constant: int | None = None

    @property
    def soft_size(self) -> int:
        """Partial-product bits: what a multiplier in logic costs, up to a constant."""
        return self.a_width * self.b_width

    @property
    def selector(self) -> str:
        """The cell as a Yosys selection (``module/cell``)."""
        return f"{_escape(self.module)}/{_escape(self.name)}"


def _escape(name: str) -> str:
    # Yosys selections treat these as wildcards or separators.
    return re.sub(r"([*?\[\]/\\ ])", r"\\\1", name)


def _chunks(width: int, rule: DSPRule) -> list[int]:
    if width <= rule.width:
        return [width]
    full = (width - 1) // rule.width
    return [rule.width] * full + [width - full * rule.width]


def dsp_cost(mul: Multiplier, family: str) -> int:
    """Hard multipliers Yosys gives ``mul`` on ``family`` ("ecp5" or "ice40"): 0 for products
    by a power of two (they become shifts) and for products too narrow to map."""
    rule = DSP_RULES[family]
    if mul.constant is not None and mul.constant & (mul.constant - 1) == 0:
        return 0
    a, b = sorted((mul.a_width, mul.b_width), reverse=True)
    return sum(1 for ca in _chunks(a, rule) for cb in _chunks(b, rule)
               if min(ca, cb) >= rule.min_width and ca + cb >= rule.min_y)


_CELL = re.compile(r"^\s*cell \$mul (\S+)$")
_PARAM = re.compile(r"^\s*parameter \\(\w+) (\S+)$")
_CONNECT = re.compile(r"^\s*connect \\([AB]) (.+)$")
_CONST = re.compile(r"^(\d+)'([01]+)$")


def _name(token: str) -> str:
    return token[1:] if token.startswith("\\") else token


def find_multipliers(rtlil: str) -> list[Multiplier]:
    """Every ``$mul`` cell in RTLIL text, in file order."""
    found = []
    module = None
    lines = iter(rtlil.splitlines())
    for line in lines:
        if line.startswith("module "):
            module = _name(line.split(None, 1)[1].strip())
            continue
        match = _CELL.match(line)
        if not match:
            continue
        params: dict[str, int] = {}
        constant = None
        for body in lines:
            if body.strip() == "end":
                break
            if m := _PARAM.match(body):
                params[m.group(1)] = int(m.group(2))
            elif (m := _CONNECT.match(body)) and (c := _CONST.match(m.group(2).strip())):
                constant = int(c.group(2), 2)
        found.append(Multiplier(module, _name(match.group(1)), params["A_WIDTH"],
                                params["B_WIDTH"], params["Y_WIDTH"], constant))
    return found


@dataclass(frozen=True)
class MultiplierPlan:
    """The outcome of `plan_multipliers`.

    Members
    -------
    hard : tuple of (Multiplier, int)
        Multipliers left to Yosys' DSP mapping, with their cost in hard multipliers.
    soft : tuple of Multiplier
        Multipliers rebuilt in logic (Booth).
    budget : int
        Hard multipliers available.
    """

    hard: tuple[tuple[Multiplier, int], ...]
    soft: tuple[Multiplier, ...]
    budget: int

    @property
    def dsps(self) -> int:
        """Hard multipliers the design will use."""
        return sum(cost for _, cost in self.hard)

    def yosys_script(self) -> str:
        """Yosys commands to run after reading the design: elaborate processes (``booth``
        skips modules that still have them), then rebuild the soft multipliers in logic.
        Empty when every multiplier keeps its hard multipliers."""
        if not self.soft:
            return ""
        booth = [m for m in self.soft if min(m.a_width, m.b_width) >= 4 and m.y_width >= 8]
        narrow = [m for m in self.soft if m not in booth]
        lines = ["proc"]
        if booth:
            lines.append("booth " + " ".join(m.selector for m in booth))
        if narrow:
            lines.append("techmap -map +/techmap.v " + " ".join(m.selector for m in narrow))
        return "\n".join(lines) + "\n"

    def summary(self) -> str:
        """One line: how many products of which shapes went where."""
        def shapes(muls):
            counts: dict[str, int] = {}
            for m in muls:
                key = f"{m.a_width}x{m.b_width}"
                counts[key] = counts.get(key, 0) + 1
            return ", ".join(f"{n} x {k}" for k, n in sorted(counts.items(),
                                                              key=lambda kv: -kv[1]))
        hard = shapes(m for m, cost in self.hard if cost) or "none"
        soft = shapes(self.soft) or "none"
        return (f"{self.dsps} of {self.budget} hard multipliers for {hard}; "
                f"in logic: {soft}")


def plan_multipliers(rtlil: str, family: str, budget: int) -> MultiplierPlan:
    """Hand ``budget`` hard multipliers to the ``$mul`` cells of ``rtlil`` (see the module
    docstring); ties go in file order, so the plan is deterministic."""
    muls = find_multipliers(rtlil)
    costed = [(m, dsp_cost(m, family)) for m in muls]
    free = [(m, c) for m, c in costed if c == 0]
    candidates = sorted(((m, c) for m, c in costed if c > 0),
                        key=lambda mc: -mc[0].soft_size / mc[1])
    hard, soft = list(free), []
    left = budget
    for m, cost in candidates:
        if cost <= left:
            hard.append((m, cost))
            left -= cost
        else:
            soft.append(m)
    return MultiplierPlan(tuple(hard), tuple(soft), budget)
