"""Report services: what ``workbench report`` and the report notebooks do.

The command line plans a report (:func:`plan_report`: notebooks, parameters and workload
checked before anything runs), lists what the notebooks declare
(:func:`report_parameters`) or runs it (:func:`run_report`). The report notebooks show
what only reports show: each stage's suggested and decided variant
(:func:`stage_choices`), each stage's share of the pipeline's time (:func:`stage_shares`),
and find the stored baseline of a workload (:func:`baseline_path`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from workbench.measure.comparison import Comparison
    from workbench.measure.placement import Fanout
    from workbench.measure.targets import WorkloadArg
    from workbench.project import Project
    from workbench.refs import PipelineArg
    from workbench.report.choices import StageChoices
    from workbench.report.params import Declared
    from workbench.report.runner import Report, ReportPlan
    from workbench.report.shares import StageShares

__all__ = ["REPORT_NOTEBOOKS", "baseline_path", "plan_report", "report_parameters",
           "run_report", "stage_choices", "stage_shares"]

#: The built-in report notebooks, in the order a report runs them.
REPORT_NOTEBOOKS = ("compare", "profile", "budgets", "decisions")


def plan_report(notebooks: Sequence[str] | None, given: Sequence[str], *, workload: str,
                pipeline: str, out: Path, cwd: Path, log: Path | None = None,
                command: str) -> ReportPlan:
    """Check the notebooks (built-in names or ``.ipynb`` paths; None: every built-in
    one), the ``-p [NB:]KEY=VALUE`` texts in ``given`` and the workload: a usage error
    names what is wrong before any kernel starts. ``log`` defaults to the decision log of
    the project at ``cwd``."""
    from workbench.project import find_project
    from workbench.report.params import parse_given
    from workbench.report.runner import notebook_path
    from workbench.report.runner import plan_report as plan

    paths = [notebook_path(n) for n in (notebooks or REPORT_NOTEBOOKS)]
    return plan(paths, given=[parse_given(g) for g in given], workload=workload,
                pipeline=pipeline, out=out, cwd=cwd,
                log=find_project(cwd).decisions_path if log is None else log,
                command=command)


def report_parameters(plan: ReportPlan) -> list[tuple[str, Path, list[Declared]]]:
    """Each planned notebook's name, source and the parameters it declares."""
    from workbench.report.params import declared_parameters

    return [(run.name, Path(run.source), list(declared_parameters(Path(run.source)).values()))
            for run in plan.notebooks]


def run_report(plan: ReportPlan, *, progress: Callable[[str], None] | None = None,
               bar: bool = False, fanout: Fanout | None = None) -> Report:
    """Run the planned notebooks into a new run folder under ``plan.out`` (through a
    cluster's ``fanout``: at once on several nodes, each notebook on one)."""
    from workbench.report.runner import execute

    return execute(plan, progress=progress, bar=bar, fanout=fanout)


def stage_choices(comparisons: Mapping[str, Comparison], *, pipeline: PipelineArg,
                  project: Project, budgets: Path | None = None,
                  baseline: Path | None = None, log: Path | None = None) -> StageChoices:
    """Per compared stage, the variant the selection rule suggests against the project's
    budgets (and the workload's stored baseline) beside the one the decision log records."""
    from workbench.report.choices import stage_choices as choices

    return choices(comparisons, pipeline=pipeline, project=project, budgets=budgets,
                   baseline=baseline, log=log)


def stage_shares(pipeline: PipelineArg, workload: WorkloadArg, *, runs: int = 3,
                 decided: Path | None = None) -> StageShares:
    """Each stage's median time and share over ``runs`` warm, unfused runs of the
    pipeline as decided (after one warm-up run)."""
    from workbench.report.shares import stage_shares as shares

    return shares(pipeline, workload, runs=runs, decided=decided)


def baseline_path(root: Path, workload: str) -> Path:
    """Where ``workbench baseline`` stores a workload's baseline by default."""
    from workbench.budget.judge import baseline_path as path

    return path(root, workload)
