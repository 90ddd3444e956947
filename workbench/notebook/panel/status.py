"""What the panel's stage rows say: the equivalence and the budget status of a variant.

Plain functions of results (no widgets): the equivalence of a variant in the last
comparison of its stage, and the worst budget verdict of a variant's rules against the
standing budgets; a :class:`Status` shows as a small badge
(:func:`workbench.render.panel.badge`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from workbench.app.views import panel_html

if TYPE_CHECKING:
    from workbench.budget.check_result import Verdict
    from workbench.budget.standing import Budgets
    from workbench.measure.comparison import Comparison

__all__ = ["NOT_MEASURED", "Status", "budget_status", "equivalence_status", "worst"]

#: How bad a verdict is, worst last (an error-level breach is worse than a warn-level one).
_SEVERITY = {"pass": 1, "no-baseline": 2, "not-comparable": 3, "inconclusive": 4, "breach": 5}


@dataclass(frozen=True, slots=True)
class Status:
    """A short status (``text``), its tone (ok, bad, warn, info, none) and a longer
    explanation shown as a tooltip."""

    text: str
    tone: str = "none"
    detail: str = ""

    def badge(self) -> str:
        return panel_html.badge(self.text, self.tone, self.detail)


NOT_MEASURED = Status("not measured", "none", "press Measure to compare this stage's variants")


def equivalence_status(comparison: Comparison | None, variant: str) -> Status:
    """``equivalent`` / ``differs: <reason>`` / ``not measured`` for ``variant``."""
    if comparison is None or variant not in comparison.variants:
        return NOT_MEASURED
    eq = comparison.result(variant).equivalence
    where = f" on {comparison.workload}"
    if eq is None:
        return Status("not measured", "none", f"equivalence was not checked{where}")
    if eq.equivalent:
        return Status("equivalent", "ok", f"{eq.detail}{where}")
    return Status(f"differs: {eq.detail}", "bad", f"{eq.detail}{where}")


def worst(verdicts: Sequence[Verdict]) -> Verdict | None:
    """The worst verdict: by status, an error-level one before a warn-level one."""
    if not verdicts:
        return None
    return max(verdicts, key=lambda v: (_SEVERITY.get(v.status, 0), v.rule.level == "error"))


def budget_status(budgets: Budgets | None, stage: str, variant: str,
                  verdicts: Mapping[str, Sequence[Verdict]] | None) -> Status:
    """The worst verdict of ``stage``/``variant``'s rules in the last measurement;
    ``no budget`` without rules for it, ``not measured`` before a measurement."""
    if budgets is None or budgets.spec is None:
        return Status("no budget", "none", budgets.note if budgets else "no budgets loaded")
    rules = budgets.spec.rules_for(stage, variant)
    if not rules:
        return Status("no budget", "none", f"{budgets.spec.source} has no rule for "
                                           f"{stage}/{variant}")
    if verdicts is None or variant not in verdicts:
        return Status("not measured", "none", f"{len(rules)} rules in {budgets.spec.source}")
    found = verdicts[variant]
    bad = worst(found)
    if bad is None:
        return Status("not measured", "none", "no verdict for this variant")
    counts = ", ".join(f"{sum(1 for v in found if v.status == s)} {s}"
                       for s in _SEVERITY if any(v.status == s for v in found))
    detail = f"{counts}. Worst: {bad.rule.metric} {bad.rule.limit_text()}: {bad.message}"
    if bad.status == "breach":
        tone = "bad" if bad.rule.level == "error" else "warn"
        return Status(f"breach: {bad.rule.metric} ({bad.rule.level})", tone, detail)
    tone = {"pass": "ok", "inconclusive": "warn"}.get(bad.status, "info")
    return Status(f"{bad.status} ({len(found)} rules)", tone, detail)
