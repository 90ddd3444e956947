"""Sequential budget checks: more worker rounds until the error-level verdicts are decided.

A check looks at its data, and when an error-level latency or throughput verdict is
inconclusive it measures more interleaved worker rounds of the undecided targets (both
sides) and looks again, until every such verdict is decided or the time budget
(``--max-time``) would be exceeded by the next look.

Looking again and again would multiply the chances of a false alarm, so the error rate is
*spent* across looks (alpha spending; Lan & DeMets 1983, "Discrete sequential boundaries
for clinical trials", Biometrika 70(3):659-663), with a union (Bonferroni) bound over the
looks instead of the exact group-sequential boundaries, so that the guarantee holds for
any number of looks and whatever the correlation between them. Look k may breach with
probability at most ``alpha_k`` per tail, where

    alpha_1 = alpha / 2,    alpha_k = alpha / (2 k (k - 1))  for k >= 2,

which sums to ``alpha`` over unlimited looks (alpha/2 + alpha/2 * sum 1/(k(k-1))). The first
look is therefore exactly the fixed-sample check (a two-sided interval at 1 - alpha, one
tail for a breach), and a check stopped by time at any look keeps its false-alarm rate at
most ``alpha`` per rule; Bonferroni across the m error-level rules divides each by m, as
before. A verdict, once decided (breach or pass), is final: later looks only concern the
rules still undecided, and their targets are the only ones measured again.

Each look adds :data:`ROUNDS_PER_LOOK` rounds, an even number, so that within a round
pair each side goes first once (see :func:`workbench.measure.engine.interleave`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from workbench.budget.result import CheckResult, Verdict
from workbench.errors import InvalidInputError

__all__ = ["DEFAULT_MAX_TIME", "ROUNDS_PER_LOOK", "Look", "check_max_time", "look_tail",
           "pending", "run_looks"]

#: Seconds a check may measure in all, first look included, unless told otherwise. Fitted
#: to the repository's own CI check (16 targets on ``tiny``): the first look takes about
#: 80 s there, so this leaves room for two more looks on the undecided targets.
DEFAULT_MAX_TIME = 240.0
ROUNDS_PER_LOOK = 2
_STATISTICAL = ("latency_p50", "latency_p95", "latency_p99", "throughput")


def look_tail(look: int, alpha: float) -> float:
    """The one-sided error level look ``look`` (1-based) may spend out of ``alpha``."""
    if not isinstance(look, int) or look < 1:
        raise InvalidInputError(f"look must be an integer >= 1; got {look!r}")
    return alpha / 2 if look == 1 else alpha / (2 * look * (look - 1))


def check_max_time(value: object) -> float:
    """``value`` as a time budget in seconds (>= 0; 0 means a single look)."""
    if isinstance(value, bool) or not isinstance(value, int | float) \
            or not math.isfinite(value) or value < 0:
        raise InvalidInputError(f"max_time must be a number of seconds >= 0 (0: no extra "
                                f"looks); got {value!r}")
    return float(value)


def _key(v: Verdict) -> tuple[str, str, str, str | None]:
    return (v.rule.stage, v.rule.variant, v.rule.metric, v.workload)


def pending(result: CheckResult) -> tuple[Verdict, ...]:
    """The error-level latency/throughput verdicts that more rounds could decide: those
    left inconclusive by their data (a verdict with a confidence level), not those whose
    target failed or was not measured."""
    return tuple(v for v in result.verdicts
                 if v.rule.level == "error" and v.rule.metric in _STATISTICAL
                 and v.status == "inconclusive" and v.confidence is not None)


@dataclass(frozen=True)
class Look:
    """What happened at one look: its number, the seconds so far, what was undecided."""

    number: int
    elapsed: float
    undecided: tuple[str, ...]


def _merge(final: dict[tuple[str, str, str, str | None], Verdict],
           result: CheckResult, look: int) -> CheckResult:
    """Keep every verdict decided at an earlier look; take the rest from ``result``."""
    merged = []
    for v in result.verdicts:
        key = _key(v)
        if key in final:
            merged.append(final[key])
            continue
        v = replace(v, look=look)
        if v.status in ("breach", "pass") and v.rule.metric in _STATISTICAL:
            final[key] = v
        merged.append(v)
    return replace(result, verdicts=tuple(merged))


def run_looks(evaluate: Callable[[int], CheckResult],
              extend: Callable[[Sequence[tuple[str, str]]], None], max_time: float, *,
              first_rounds: int, targets: int, clock: Callable[[], float] = time.monotonic,
              started: float | None = None,
              on_look: Callable[[Look], None] | None = None) -> tuple[CheckResult, int]:
    """Evaluate, then extend the undecided targets and evaluate again while time allows.

    ``evaluate(look)`` judges all data so far at that look's error level; ``extend(pairs)``
    measures :data:`ROUNDS_PER_LOOK` more rounds of those (stage, variant) targets.
    The next look starts only if its estimated duration fits in what is left of
    ``max_time`` (seconds since ``started``): per target and round, the first look's
    (``first_rounds`` rounds of ``targets`` targets), then the last look's.
    Returns the merged result and the number of looks made.
    """
    t0 = clock() if started is None else started
    final: dict[tuple[str, str, str, str | None], Verdict] = {}
    look = 1
    result = _merge(final, evaluate(look), look)
    per_target_round: float | None = None
    while True:
        open_ = pending(result)
        elapsed = clock() - t0
        if on_look is not None:
            on_look(Look(look, elapsed, tuple(v.target for v in open_)))
        if not open_:
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
