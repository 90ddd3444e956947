"""Judging the variants of one comparison against the budgets: what the panel's badges,
the selection rule and ``workbench decide`` share.

:func:`standing_budgets` reads a budgets file and the stored baseline of a workload (the
one ``workbench baseline`` writes, for relative limits); :func:`verdicts_by_variant`
checks a comparison's measurements together against them, as ``workbench check`` checks
its targets, and hands each variant its own verdicts.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from workbench.errors import WorkbenchError

if TYPE_CHECKING:
    from workbench.budget.check_result import Verdict
    from workbench.budget.spec import BudgetSpec
    from workbench.measure.comparison import Comparison
    from workbench.measure.instructions import InstructionCount
    from workbench.measure.measurement import Measurement
    from workbench.refs import PipelineArg

__all__ = ["Budgets", "baseline_path", "standing_budgets", "verdicts_by_variant"]


@dataclass(frozen=True)
class Budgets:
    """The budgets variants are held to: the parsed file (None: there is none), the
    stored baseline's measurements for relative limits, and a note on where they came from."""

    spec: BudgetSpec | None
    baseline: tuple[Measurement, ...] = ()
    note: str = ""
    baseline_instructions: tuple[InstructionCount, ...] = ()


def baseline_path(root: Path, workload: str) -> Path:
    """Where ``workbench baseline`` stores a workload's baseline by default."""
    return Path(root) / "reports" / f"baseline-{workload}.json"


def standing_budgets(budgets: Path, baseline: Path | None, workload: str,
                     pipeline: PipelineArg = None) -> Budgets:
    """The budgets file at ``budgets`` (checked against ``pipeline``'s stages) and the
    baseline at ``baseline`` if given and stored. A malformed budgets file raises; a baseline that
    cannot be used is a note."""
    from workbench.budget.baseline import load_baseline
    from workbench.budget.checking import load_spec

    if not budgets.is_file():
        return Budgets(None, (), f"no budgets file at {budgets}")
    spec = load_spec(budgets, pipeline)
    if baseline is None:
        return Budgets(spec, (), f"budgets {budgets}; no stored baseline given, so relative "
                                 "limits have no baseline")
    if not baseline.is_file():
        return Budgets(spec, (), f"budgets {budgets}; no stored baseline at {baseline}, so "
                                 "relative limits have no baseline")
    try:
        base = load_baseline(baseline, workload=workload)
    except WorkbenchError as exc:
        return Budgets(spec, (), f"budgets {budgets}; baseline not used: {exc}")
    return Budgets(spec, base.measurements, f"budgets {budgets}; baseline {baseline}",
                   base.instructions)


def verdicts_by_variant(budgets: Budgets, comparison: Comparison,
                        ) -> dict[str, tuple[Verdict, ...]]:
    """Each variant's verdicts from checking the comparison's measurements together
    (as ``workbench check`` checks its targets) against the budgets and baseline."""
    from workbench.budget.verdict import check

    out: dict[str, tuple[Verdict, ...]] = {v: () for v in comparison.variants}
    if budgets.spec is None:
        return out
    measured = [r.measurement for r in comparison.results
                if budgets.spec.rules_for(comparison.stage, r.variant)]
    if not measured:
        return out
    counts = [r.instructions for r in comparison.results if r.instructions is not None]
    result = check(budgets.spec, measured, budgets.baseline, instructions=counts,
                   baseline_instructions=budgets.baseline_instructions)
    for verdict in result.verdicts:
        if (verdict.workload is not None and verdict.rule.stage == comparison.stage
                and verdict.rule.variant in out):
            out[verdict.rule.variant] += (verdict,)
    return out
