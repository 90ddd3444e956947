"""A comparison judged against the standing budgets, and the variant to suggest: what
``workbench decide``, the report's stage choices and the panel share.

:func:`judge` checks every variant of the comparison against the budgets (the budgets
file and the stored baseline, :func:`workbench.budget.standing.standing_budgets`) and
applies the selection rule (:func:`workbench.decisions.rule.suggest`) to the verdicts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from workbench.budget.standing import verdicts_by_variant
from workbench.decisions.rule import Suggestion, suggest

if TYPE_CHECKING:
    from workbench.budget.check_result import Verdict
    from workbench.budget.standing import Budgets
    from workbench.measure.comparison import Comparison

__all__ = ["Judged", "judge"]


@dataclass(frozen=True)
class Judged:
    """Each variant's budget verdicts (empty without budgets) and the suggestion."""

    verdicts: dict[str, tuple[Verdict, ...]]
    suggestion: Suggestion


def judge(comparison: Comparison, budgets: Budgets | None,
          order: Sequence[str] | None = None) -> Judged:
    """Each variant of ``comparison`` judged against ``budgets`` (None: no budgets, no
    verdicts) and the variant the selection rule suggests, escalating in ``order`` (the
    stage's variant order; None: the standard one)."""
    verdicts = {} if budgets is None else verdicts_by_variant(budgets, comparison)
    return Judged(verdicts, suggest(comparison, verdicts, order))
