"""Which variant of a stage to choose: the seed's selection rule.

Given the last comparison of a stage (every variant measured on one workload, each with
its equivalence to ``pure``) and, optionally, the budget verdicts of each variant:

1. A variant is **eligible** when

   - it is equivalent to pure: its ``equivalence`` held on the measured workload (pure,
     the reference, is always equivalent; a variant with no equivalence result is not),
   - and none of its **error-level** rules is a ``breach`` (warn-level breaches,
     inconclusive, not-comparable and no-baseline verdicts do not disqualify).

2. If ``pure`` is eligible, suggest ``pure``: the simplest correct code wins whenever it
   meets the budget.
3. Otherwise suggest the **least escalated** eligible variant: ``pure < vectorized < native <
   parallel``, or the order the stage declares its variants (``order``).
4. If no variant is eligible, suggest nothing (``variant=None``) with the reason "no
   variant meets the budget: revise the budget or optimize further", naming the
   **closest** variant: among the equivalent variants (all variants if none is
   equivalent), the one with the fewest error-level breaches, then the smallest total
   excess over the limits (log of observed/limit), then the least escalated.

Nothing here measures or reads files: :func:`suggest` is a pure function of its inputs.
The suggestion is advice: a user may choose another variant, and the decision record says
whether they followed it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

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
    eligible, the closest variant."""

    variant: str | None
    reason: str
    closest: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"variant": self.variant, "reason": self.reason, "closest": self.closest}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Suggestion:
        variant, closest = data.get("variant"), data.get("closest")
        return cls(None if variant is None else str(variant), str(data["reason"]),
                   None if closest is None else str(closest))


def _ranked(variants: Sequence[str], order: Sequence[str] | None) -> list[str]:
    """``variants`` from least to most escalated (pure first)."""
    declared = list(order) if order is not None else list(STANDARD_VARIANTS)

    def rank(v: str) -> tuple[int, int, int]:
        if v == REFERENCE:
            return (0, 0, 0)
        if v in declared:
            return (1, declared.index(v), 0)
        return (2, 0, variants.index(v))

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
    return True, "equivalent to pure and within every error-level budget"


def breach_excess(v: Verdict) -> float:
    """How far over its limit a breach is, as log(observed/limit) (>= 0; 0 if unknown)."""
    value = v.ratio if v.rule.kind == "relative" else v.observed
    if value is None or value <= 0 or v.rule.value <= 0:
        return 0.0
    excess = value / v.rule.value if v.rule.direction == "lower" else v.rule.value / value
    return max(math.log(excess), 0.0)


def _closest(candidates: Sequence[str],
             verdicts: Mapping[str, Sequence[Verdict]]) -> tuple[str, list[Verdict]]:
    def key(item: tuple[int, str]) -> tuple[int, float, int]:
        index, variant = item
        found = _breaches(verdicts.get(variant, ()))
        return (len(found), sum(breach_excess(b) for b in found), index)

    _, best = min(enumerate(candidates), key=key)
    return best, _breaches(verdicts.get(best, ()))


def suggest(comparison: Comparison,
            verdicts_by_variant: Mapping[str, Sequence[Verdict]] | None = None,
            order: Sequence[str] | None = None) -> Suggestion:
    """The variant to choose by the rule of the module docstring."""
    verdicts = verdicts_by_variant or {}
    ranked = _ranked(comparison.variants, order)
    refused: list[str] = []
    equivalent: list[str] = []
    for variant in ranked:
        same, detail = _equivalent(comparison, variant)
        breaches = _breaches(verdicts.get(variant, ()))
        if same:
            equivalent.append(variant)
        if same and not breaches:
            why = ("pure meets the budget and is the reference" if variant == REFERENCE else
                   f"{variant} is the least escalated variant that is equivalent to pure "
                   "and meets the budget")
            if refused:
                why += " (" + "; ".join(refused) + ")"
            return Suggestion(variant, why)
        if not same:
            refused.append(f"{variant}: not equivalent ({detail})")
        else:
            refused.append(f"{variant}: {len(breaches)} error-level breach"
                           f"{'es' if len(breaches) != 1 else ''}")
    if not ranked:
        return Suggestion(None, "the comparison has no variants")
    closest, breaches = _closest(equivalent or ranked, verdicts)
    said = ", ".join(f"{b.rule.metric} {b.rule.limit_text()}" for b in breaches) or \
        "not equivalent to pure"
    return Suggestion(None, f"{NO_VARIANT}; closest: {closest} ({said})", closest)
