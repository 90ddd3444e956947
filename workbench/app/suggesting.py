"""Suggestion services: a comparison judged against the standing budgets, and the variant
the selection rule suggests. ``decide``, the report's stage choices and the panel use it.

:func:`standing_budgets` reads the budgets file and the stored baseline (for relative
limits) once; :func:`suggest_variant` judges one comparison against them.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from workbench.refs import PipelineArg

if TYPE_CHECKING:
    from workbench.budget.standing import Budgets
    from workbench.decisions.judging import Judged
    from workbench.measure.comparison import Comparison

__all__ = ["baseline_path", "standing_budgets", "suggest_variant"]


def baseline_path(root: Path, workload: str) -> Path:
    """Where ``workbench baseline`` stores a workload's baseline by default (under the
    project at ``root``)."""
    from workbench.budget.standing import baseline_path as path

    return path(root, workload)


def standing_budgets(budgets: Path | None, workload: str, *, baseline: Path | None = None,
                     pipeline: PipelineArg = None) -> Budgets:
    """The budgets file at ``budgets`` (None: none given; checked against ``pipeline``'s
    stages) and the stored ``baseline`` of ``workload`` for relative limits. A malformed
    budgets file raises; a missing one, or a baseline that cannot be used, is a note."""
    from workbench.budget.standing import Budgets
    from workbench.budget.standing import standing_budgets as standing

    if budgets is None:
        return Budgets(None, (), "no budgets file given")
    return standing(budgets, baseline, workload, pipeline)


def suggest_variant(comparison: Comparison, budgets: Budgets | None, *,
                    pipeline: PipelineArg = None,
                    order: Sequence[str] | None = None) -> Judged:
    """Every variant of ``comparison`` judged against ``budgets`` (from
    :func:`standing_budgets`; None: no verdicts) and the variant the selection rule
    suggests: ``.verdicts`` (variant -> verdicts) and ``.suggestion``. The rule escalates
    in ``order``, by default the order in which ``pipeline``'s stage declares its
    variants."""
    from workbench.decisions.judging import judge
    from workbench.refs import resolve_pipeline

    if order is None:
        pipe, _ = resolve_pipeline(pipeline)
        order = pipe.stage(comparison.stage).variant_names
    return judge(comparison, budgets, order)
