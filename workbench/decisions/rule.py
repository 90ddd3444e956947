"""Which variant of a stage to choose: the seed's selection rule.

Given the last comparison of a stage (every variant measured on one workload, each with
its equivalence to ``pure``) and, optionally, the budget verdicts of each variant:

1. A variant is **eligible** when

   - it is equivalent to pure: its ``equivalence`` held on the measured workload (pure,
     the reference, is always equivalent; a variant with no equivalence result is not),
   - and none of its **error-level** rules is a ``breach`` (warn-level breaches,
     inconclusive, not-comparable and no-baseline verdicts do not disqualify),
   - and, for a variant in the **cached tier** (its measurement recorded memo-table
     figures; named ``cached`` by convention), the four cache conditions hold: key stable
     and versioned, hit rate at or above the threshold, the cache fits the RSS budget,
     contention measured under load (:mod:`.cache_conditions`). A cached variant that
     fails one is skipped, and the reason names the condition with its figure.

2. If ``pure`` is eligible, suggest ``pure``: the simplest correct code wins whenever it
   meets the budget.
3. Otherwise suggest the **least escalated** eligible variant: ``pure < cached <
   vectorized < native < parallel``, or the order the stage declares its variants
   (``order``); a cached-tier variant comes right after pure whatever its name or place
   in ``order`` (caching keeps the code pure: the FP tier).
4. If no variant is eligible, suggest nothing (``variant=None``) with the reason "no
   variant meets the budget: revise the budget or optimize further", naming the
   **closest** variant: among the equivalent variants (all variants if none is
   equivalent), the one with the fewest error-level breaches, then the smallest total
   excess over the limits (log of observed/limit), then the least escalated.

The suggestion carries the cache conditions of every cached-tier variant of the
comparison (``cache``), each with its figure, held or not: the decision's evidence.

Nothing here measures or reads files: :func:`suggest` is a pure function of its inputs.
The suggestion is advice: a user may choose another variant, and the decision record says
whether they followed it.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from workbench.decisions.cache_conditions import CacheCheck, cache_check, cache_checks
from workbench.stages import STANDARD_VARIANTS

if TYPE_CHECKING:
    from workbench.budget.check_result import Verdict
    from workbench.measure.comparison import Comparison

__all__ = ["NO_VARIANT", "REFERENCE", "Suggestion", "breach_excess", "eligible", "suggest"]

REFERENCE = "pure"
NO_VARIANT = "no variant meets the budget: revise the budget or optimize further"


@dataclass(frozen=True, slots=True)
class Suggestion:
    """The suggested variant (None: no variant is eligible), why, and, when none is
    eligible, the closest variant; with the cache conditions of every cached-tier
    variant (none: ``()``)."""

    variant: str | None
    reason: str
    closest: str | None = None
    cache: tuple[CacheCheck, ...] = ()

    def cache_of(self, variant: str) -> CacheCheck | None:
        return next((c for c in self.cache if c.variant == variant), None)

    def to_json(self) -> dict[str, Any]:
        out = {"variant": self.variant, "reason": self.reason, "closest": self.closest}
        # absent without a cached-tier variant: the records of before read the same
        return out | ({"cache": [c.to_json() for c in self.cache]} if self.cache else {})

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Suggestion:
        variant, closest = data.get("variant"), data.get("closest")
        return cls(None if variant is None else str(variant), str(data["reason"]),
                   None if closest is None else str(closest),
                   tuple(CacheCheck.from_json(c) for c in data.get("cache", ())))


def _ranked(variants: Sequence[str], order: Sequence[str] | None,
            cached: Collection[str] = ()) -> list[str]:
    """``variants`` from least to most escalated (pure first, then the ``cached`` tier)."""
    declared = list(order) if order is not None else list(STANDARD_VARIANTS)

    def rank(v: str) -> tuple[int, int, int, int]:
        tier = 0 if v == REFERENCE else 1 if v in cached else 2
        if v == REFERENCE:
            return (0, 0, 0, 0)
        if v in declared:
            return (tier, 0, declared.index(v), 0)
        return (tier, 1, 0, variants.index(v))

    return sorted(dict.fromkeys(variants), key=rank)


def _equivalent(comparison: Comparison, variant: str) -> tuple[bool, str]:
    if variant == REFERENCE:
        return True, "the reference"
    eq = comparison.result(variant).equivalence
    if eq is None:
        return False, "equivalence was not checked"
    return eq.equivalent, eq.detail


def _breaches(verdicts: Sequence[Verdict]) -> list[Verdict]:
    return [v for v in verdicts if v.status == "breach" and v.rule.level == "error"]


def eligible(comparison: Comparison, variant: str,
             verdicts: Sequence[Verdict] = ()) -> tuple[bool, str]:
    """Whether ``variant`` is eligible (rule 1 above) and, if not, why not."""
    same, detail = _equivalent(comparison, variant)
    if not same:
        return False, f"not equivalent to pure ({detail})"
    found = _breaches(verdicts)
    if found:
        return False, "breaches " + ", ".join(f"{b.rule.metric} {b.rule.limit_text()}"
                                              for b in found)
    check = None if variant == REFERENCE else cache_check(comparison, variant, verdicts)
    if check is not None and not check.held:
        return False, "cache conditions not held: " + check.reason().partition(": ")[2]
    if check is not None:
        return True, ("equivalent to pure, within every error-level budget, and its memo "
                      "tables hold the four cache conditions")
    return True, "equivalent to pure and within every error-level budget"


def breach_excess(v: Verdict) -> float:
    """How far over its limit a breach is, as log(observed/limit) (>= 0; 0 if unknown)."""
    value = v.ratio if v.rule.kind == "relative" else v.observed
    if value is None or value <= 0 or v.rule.value <= 0:
        return 0.0
    excess = value / v.rule.value if v.rule.direction == "lower" else v.rule.value / value
    return max(math.log(excess), 0.0)


def _closest(candidates: Sequence[str], verdicts: Mapping[str, Sequence[Verdict]],
             checks: Mapping[str, CacheCheck]) -> tuple[str, str]:
    """The closest of ``candidates`` and what keeps it from the budget."""
    def key(item: tuple[int, str]) -> tuple[int, float, int]:
        index, variant = item
        found = _breaches(verdicts.get(variant, ()))
        return (len(found), sum(breach_excess(b) for b in found), index)

    _, best = min(enumerate(candidates), key=key)
    breaches = _breaches(verdicts.get(best, ()))
    check = checks.get(best)
    said = ", ".join(f"{b.rule.metric} {b.rule.limit_text()}" for b in breaches) or \
        (check.reason().partition(": ")[2] if check is not None and not check.held else
         "not equivalent to pure")
    return best, said


def _refusal(variant: str, same: bool, detail: str, breaches: Sequence[Verdict]) -> str:
    if not same:
        return f"{variant}: not equivalent ({detail})"
    return f"{variant}: {len(breaches)} error-level breach{'es' if len(breaches) != 1 else ''}"


def _why(variant: str, cached: bool, refused: Sequence[str]) -> str:
    why = ("pure meets the budget and is the reference" if variant == REFERENCE else
           f"{variant} is the least escalated variant that is equivalent to pure and meets "
           "the budget" + ("; its memo tables hold the four cache conditions" if cached
                           else ""))
    return why + (" (" + "; ".join(refused) + ")" if refused else "")


def suggest(comparison: Comparison,
            verdicts_by_variant: Mapping[str, Sequence[Verdict]] | None = None,
            order: Sequence[str] | None = None) -> Suggestion:
    """The variant to choose by the rule of the module docstring."""
    verdicts = verdicts_by_variant or {}
    checks = {v: c for v, c in cache_checks(comparison, verdicts).items() if v != REFERENCE}
    ranked = _ranked(comparison.variants, order, checks)
    every = tuple(checks[v] for v in ranked if v in checks)
    refused: list[str] = []
    equivalent: list[str] = []
    for variant in ranked:
        same, detail = _equivalent(comparison, variant)
        breaches = _breaches(verdicts.get(variant, ()))
        check = checks.get(variant)
        if same:
            equivalent.append(variant)
        if same and not breaches and (check is None or check.held):
            return Suggestion(variant, _why(variant, check is not None, refused), cache=every)
        refused.append(check.reason() if same and not breaches and check is not None else
                       _refusal(variant, same, detail, breaches))
    if not ranked:
        return Suggestion(None, "the comparison has no variants")
    closest, said = _closest(equivalent or ranked, verdicts, checks)
    return Suggestion(None, f"{NO_VARIANT}; closest: {closest} ({said})", closest, cache=every)
