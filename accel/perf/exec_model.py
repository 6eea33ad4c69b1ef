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
    """

    def __init__(self, config: AccelConfig, timing: Timing) -> None:
        self.config = config
        self.timing = timing
        self.stream_free = 0.0          # the array takes the next A row / beat
        self.last_beat = float("-inf")  # os: the previous COMPUTE's last beat
        self.last_switch = float("-inf")  # ws: the previous weight switch
        self.weights_free = 0.0         # ws: the weight sequencer takes the next command
        self.last_retire = 0.0

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
        else:
            last = max(start + k - 1, self.last_beat + cfg.rows)
            self.last_beat = last
            end = last + 1
            retire = last + tm.array_latency + cfg.rows + tm.exec_tail
        self.stream_free = end
        retire = max(retire, self.last_retire + 1)
        self.last_retire = retire
        return retire
