"""Timing of the execute unit (`accel.control.exec_unit.ExecUnit`) and the systolic array."""

from __future__ import annotations

from accel.config import AccelConfig, Dataflow
from accel.perf.timing import Timing

__all__ = ["ExecModel"]


class ExecModel:
    """Schedules COMPUTE and COMPUTE_ACC in order.

    Weight-stationary: a COMPUTE whose B operand must be (re)read first shifts ``rows`` weight
    rows into the array's shadow registers, which may only start `Timing.weight_drain` cycles
    after the previous weight switch; its ``m`` A rows then stream one per cycle, back to back
    with the previous COMPUTE's. Output-stationary: ``k`` beats per COMPUTE, the last beats of
    two COMPUTEs at least ``rows`` cycles apart (the array's output port drains ``rows`` result
    rows per tile). Results land in the accumulator `Timing.array_latency` plus
    `Timing.exec_tail` cycles after the last A row or beat.

    The result writes have priority over LOAD_ACC's at the accumulator (`write0` of
    `accel.memory.accumulator.Accumulator`): `acc_free_window` tells a LOAD_ACC when its rows
    can be written around the result rows of the COMPUTEs scheduled so far.
    """

    def __init__(self, config: AccelConfig, timing: Timing) -> None:
        self.config = config
        self.timing = timing
        self.stream_free = 0.0          # the array takes the next A row / beat
        self.last_beat = float("-inf")  # os: the previous COMPUTE's last beat
        self.last_switch = float("-inf")  # ws: the previous weight switch
        self.weights_free = 0.0         # ws: the weight sequencer takes the next command
        self.last_retire = 0.0
        self.writes: list[tuple[float, float]] = []  # accumulator write intervals, in order

    def acc_free_window(self, start: float, rows: int) -> float:
        """The cycle after ``rows`` accumulator writes of a lower-priority port that begins at
        ``start``, writing only in cycles no scheduled result row takes."""
        t, left = start, float(rows)
        for begin, end in self.writes:
            if end <= t:
                continue
            if begin > t:
                use = min(begin - t, left)
                t += use
                left -= use
                if left <= 0:
                    return t
            t = max(t, end)
        return t + left

    def ready(self) -> float:
        """Earliest cycle the unit accepts a command (its queues are as deep as the
        scoreboard, so the dispatcher's limit applies first)."""
        return 0.0

    def schedule(self, m: int, k: int, reload: bool, fire: float) -> float:
        """Schedule a COMPUTE of ``m`` rows with a ``k``-row B operand that fired at ``fire``;
        ``reload`` when the B rows must be read again (ws). Returns the cycle it retires."""
        cfg, tm = self.config, self.timing
        start = max(fire + tm.exec_issue, self.stream_free)
        if cfg.dataflow is Dataflow.WS:
            if reload:
                beats = max(fire + tm.unit_accept, self.weights_free,
                            self.last_switch + tm.weight_drain)
                self.weights_free = beats + cfg.rows
                start = max(start, beats + cfg.rows + 1)
                self.last_switch = start
            end = start + m
            retire = end + tm.array_latency + tm.exec_tail
            self._wrote(start + tm.array_latency, end + tm.array_latency)
        else:
            last = max(start + k - 1, self.last_beat + cfg.rows)
            self.last_beat = last
            end = last + 1
            retire = last + tm.array_latency + cfg.rows + tm.exec_tail
            self._wrote(last + tm.array_latency, last + tm.array_latency + cfg.rows)
        self.stream_free = end
        retire = max(retire, self.last_retire + 1)
        self.last_retire = retire
        return retire

    def _wrote(self, begin: float, end: float) -> None:
        """Record result writes in ``[begin, end)``, merged with the previous interval when
        they touch; only the recent past is kept."""
        if self.writes and begin <= self.writes[-1][1]:
            self.writes[-1] = (self.writes[-1][0], max(end, self.writes[-1][1]))
        else:
            self.writes.append((begin, end))
            if len(self.writes) > 64:
                del self.writes[:32]
