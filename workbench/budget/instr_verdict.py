"""Budget verdicts on instruction counts (``instructions``, ``l1_misses``, ``ll_misses``).

A count under Cachegrind is the same every time the same code runs in the same memory
layout (:mod:`workbench.measure.instructions`), so these verdicts have no interval and are
never inconclusive for want of samples: two counts within their equal band
(:func:`~workbench.measure.instructions.equal_band`: the tolerance
:data:`~workbench.measure.instructions.TOLERANCE`, or the counts' spread over memory
layouts when that is wider) are equal.

- *Relative* limit t: the ratio r = current/baseline; within the band around 1 it counts
  as exactly 1. Breach when r > t, pass otherwise (so with t >= 1, equal code always
  passes; ``"0.95x"`` demands a 5 % cut and breaches when it is not there).
- *Absolute* limit L (a count per call): breach when the count exceeds L by more than the
  tolerance, pass otherwise.

A relative rule needs a baseline count of the same stage, variant and workload
(``no-baseline`` otherwise) made with the same Valgrind version and comparable
fingerprints (``not-comparable`` otherwise). Cache-miss metrics need the cache
simulation (``--cache-sim=yes``), which a check turns on for targets that have such a rule.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from workbench.budget.result import Status, Verdict
from workbench.budget.rules import Rule
from workbench.measure.instructions import (
    TOLERANCE,
    InstructionCount,
    differs_beyond,
    equal_band,
)
from workbench.measure.targets import TargetSpec
from workbench.render import format as fmt

__all__ = ["InstructionKey", "baselines_by_key", "instruction_key", "instruction_key_of",
           "judge_count", "judge_uncounted"]

_NAMES = {"instructions": "instructions per call", "l1_misses": "L1 misses per call",
          "ll_misses": "last-level misses per call"}
InstructionKey = tuple[str, str, str | None]


def instruction_key_of(target: TargetSpec) -> InstructionKey:
    return target.name, target.variant or "pure", target.workload


def instruction_key(count: InstructionCount) -> InstructionKey:
    return instruction_key_of(count.target)


def _shown(metric: str, value: float) -> str:
    return f"{_NAMES[metric]} {fmt.count(value)} (simulated)"


def judge_count(rule: Rule, count: InstructionCount, workload: str | None,
                baselines: Mapping[InstructionKey, InstructionCount],
                tolerance: float = TOLERANCE) -> Verdict:
    """The verdict of one instruction rule on ``count`` (see the module docstring)."""
    metric = rule.metric
    if not count.ok:
        return Verdict(rule, "inconclusive", workload,
                       f"counting instructions failed: {count.error}")
    value = count.metric(metric)
    if value is None:
        return Verdict(rule, "inconclusive", workload, f"{metric} needs the cache "
                       "simulation, which this count was made without")
    observed: dict[str, Any] = {"observed": value}
    within = f"{100 * tolerance:.3g}%"
    if rule.kind == "absolute":
        if value > rule.value and differs_beyond(value, rule.value, tolerance):
            return Verdict(rule, "breach", workload, f"{_shown(metric, value)} is over the "
                           f"limit {fmt.count(rule.value)} by "
                           f"{100 * (value / rule.value - 1):.2f}% (tolerance {within})",
                           **observed)
        return Verdict(rule, "pass", workload, f"{_shown(metric, value)} is within the limit "
                       f"{fmt.count(rule.value)} (tolerance {within})", **observed)
    base = baselines.get(instruction_key(count))
    if base is None or not base.ok:
        why = "has no instruction count" if base is None else f"count failed ({base.error})"
        return Verdict(rule, "no-baseline", workload, f"the baseline {why} of {rule.label} "
                       f"on {workload or '-'}; relative limits need one", **observed)
    differ = count.incomparable(base)
    if differ:
        return Verdict(rule, "not-comparable", workload, "the baseline count was made with a "
                       f"different {', '.join(differ)}; relative limits are not evaluated",
                       **observed)
    base_value = base.metric(metric)
    if base_value is None or base_value <= 0:
        return Verdict(rule, "no-baseline", workload, f"the baseline count has no {metric} "
                       "(cache misses need the cache simulation on both sides)", **observed)
    ratio = value / base_value
    band = equal_band(count, base, tolerance)
    equal = not differs_beyond(value, base_value, band)
    effective = 1.0 if equal else ratio
    limit = f"{rule.value:g}x"
    if band > tolerance:
        within = f"{within}, widened to {100 * band:.2g}% by the spread over memory layouts"
    shown = (f"{_NAMES[metric]} current/baseline {ratio:.4f}x ({fmt.count(value)} vs "
             f"{fmt.count(base_value)}, simulated)")
    status: Status
    if effective > rule.value:
        how = "equal within the tolerance, " if equal else ""
        msg = f"{shown} is over the limit {limit} ({how}tolerance {within})"
        status = "breach"
    else:
        how = "equal within the tolerance" if equal else "within it"
        msg = f"{shown}: {how} (limit {limit}, tolerance {within})"
        status = "pass"
    return Verdict(rule, status, workload, msg, baseline=base_value, ratio=ratio,
                   **observed)


def judge_uncounted(rule: Rule, workload: str | None) -> Verdict:
    """The verdict of an instruction rule on a target that was not counted: a relative
    rule had no baseline count to compare with (so none was made now); an absolute one
    is not evaluated."""
    if rule.kind == "relative":
        return Verdict(rule, "no-baseline", workload, "no baseline instruction count of "
                       f"{rule.label} on {workload or '-'} (so none was made now): "
                       "relative limits need one; `workbench baseline` stores counts")
    return Verdict(rule, "inconclusive", workload, "not evaluated: needs an instruction "
                   "count under Cachegrind (none was made)")


def baselines_by_key(counts: Sequence[InstructionCount]
                     ) -> dict[InstructionKey, InstructionCount]:
    return {instruction_key(c): c for c in reversed(counts)}
