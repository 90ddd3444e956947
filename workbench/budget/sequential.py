"""Sequential budget checks: more worker rounds until the error-level verdicts are decided.

A check looks at its data, and when an error-level latency, throughput or memory verdict is
inconclusive it measures more interleaved worker rounds of the undecided targets (both
sides with ``--against``, the current side against a stored baseline) and looks again,
until every such verdict is decided, the time budget (``--max-time``) would be exceeded by
the next look, or :data:`~workbench.budget.boundary.MAX_LOOKS` looks were made.

Looking again and again multiplies the chances to err, so every look of a verdict uses the
same one-sided tail, calibrated for the check's worker schedule (a constant, Pocock-like
boundary; :mod:`workbench.budget.boundary`) so that over all the looks each end errs with
probability at most the verdict's share of the family alpha. Stopping on a pass or a breach
only lowers the other end's error. A check with ``--max-time 0`` makes one look and spends
the whole share on it. A verdict, once decided (breach or pass), is final: later looks
only concern the rules still undecided, and their targets are the only ones measured again.

Each look adds :data:`ROUNDS_PER_LOOK` rounds, an even number, so that within a round
pair each side goes first once (see :func:`workbench.measure.engine.interleave`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from workbench.budget.boundary import MAX_LOOKS
from workbench.budget.check_result import CheckResult, Verdict
from workbench.measure.looks import DEFAULT_MAX_TIME, ROUNDS_PER_LOOK, check_max_time, look_tail
from workbench.measure.metrics import Members

__all__ = ["DEFAULT_MAX_TIME", "MAX_LOOKS", "ROUNDS_PER_LOOK", "Look", "check_max_time",
           "look_tail", "pending", "run_looks", "verdict_key"]

_SEQUENTIAL = Members("timing", "memory")


Key = tuple[str, str, str, str, float, str, bool, str | None]


def verdict_key(v: Verdict) -> Key:
    """A verdict's identity across looks: its rule (a metric may have several: relative
    and absolute, a stage's target beside a variant's limit) and its workload."""
    r = v.rule
    return (r.stage, r.variant, r.metric, r.kind, r.value, r.level, r.target, v.workload)


def pending(result: CheckResult) -> tuple[Verdict, ...]:
    """The error-level latency/throughput/memory verdicts more rounds could decide: those
    left inconclusive by their data (a verdict with a confidence level), not those whose
    target failed or was not measured."""
    return tuple(v for v in result.verdicts
                 if v.rule.level == "error" and v.rule.metric in _SEQUENTIAL
                 and v.status == "inconclusive" and v.confidence is not None)


@dataclass(frozen=True)
class Look:
    """What happened at one look: its number, the seconds so far, what was undecided."""

    number: int
    elapsed: float
    undecided: tuple[str, ...]


def _merge(final: dict[Key, Verdict],
           result: CheckResult, look: int) -> CheckResult:
    """Keep every verdict decided at an earlier look; take the rest from ``result``."""
    merged = []
    for v in result.verdicts:
        key = verdict_key(v)
        if key in final:
            merged.append(final[key])
            continue
        v = replace(v, look=look)
        if v.status in ("breach", "pass") and v.rule.metric in _SEQUENTIAL:
            final[key] = v
        merged.append(v)
    return replace(result, verdicts=tuple(merged))


def run_looks(evaluate: Callable[[int], CheckResult],
              extend: Callable[[Sequence[tuple[str, str]]], None], max_time: float, *,
              first_rounds: int, targets: int, clock: Callable[[], float] = time.monotonic,
              started: float | None = None,
              on_look: Callable[[Look], None] | None = None,
              max_looks: int = MAX_LOOKS) -> tuple[CheckResult, int]:
    """Evaluate, then extend the undecided targets and evaluate again while time allows.

    ``evaluate(look)`` judges all data so far at that look's error level; ``extend(pairs)``
    measures :data:`ROUNDS_PER_LOOK` more rounds of those (stage, variant) targets.
    The next look starts only if its estimated duration fits in what is left of
    ``max_time`` (seconds since ``started``) and ``max_looks`` allows: per target and
    round, the first look's (``first_rounds`` rounds of ``targets`` targets), then the
    last look's.
    Returns the merged result and the number of looks made.
    """
    t0 = clock() if started is None else started
    final: dict[Key, Verdict] = {}
    look = 1
    result = _merge(final, evaluate(look), look)
    per_target_round: float | None = None
    while True:
        open_ = pending(result)
        elapsed = clock() - t0
        if on_look is not None:
            on_look(Look(look, elapsed, tuple(v.target for v in open_)))
        if not open_ or look >= max_looks:
            break
        pairs = tuple(dict.fromkeys((v.rule.stage, v.rule.variant) for v in open_))
        if per_target_round is None:
            per_target_round = elapsed / max(1, first_rounds * targets)
        if elapsed + per_target_round * ROUNDS_PER_LOOK * len(pairs) > max_time:
            break
        before = clock()
        extend(pairs)
        look += 1
        result = _merge(final, evaluate(look), look)
        per_target_round = (clock() - before) / (ROUNDS_PER_LOOK * len(pairs))
    return result, look
