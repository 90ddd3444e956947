"""Report services: what ``workbench report`` and the report notebooks do.

The command line plans a report (:func:`plan_report`: notebooks, parameters and workload
checked before anything runs), lists what the notebooks declare
(:func:`report_parameters`) or runs it (:func:`run_report`). The report notebooks show
what only reports show: each stage's suggested and decided variant
(:func:`stage_choices`) and each stage's share of the pipeline's time
(:func:`stage_shares`); they find a workload's stored baseline with
:func:`~workbench.app.suggesting.baseline_path` (re-exported here) and draw the decision
timeline with :func:`workbench.app.views.timeline_svg`. :func:`export_notebook` writes a
notebook as an offline HTML page, as a report does with each notebook it runs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from workbench.app.suggesting import baseline_path
from workbench.reporting.choices import StageChoice, StageChoices
from workbench.reporting.plan import BUILTIN, NotebookRun, Report, ReportPlan
from workbench.reporting.shares import StageShare, StageShares

if TYPE_CHECKING:
    from workbench.app.budgets import CheckReport
    from workbench.measure.comparison import Comparison
    from workbench.measure.placement import Fanout
    from workbench.measure.targets import WorkloadArg
    from workbench.progress import Progress
    from workbench.project import Project
    from workbench.refs import PipelineArg
    from workbench.reporting.params import Declared

__all__ = ["REPORT_NOTEBOOKS", "NotebookRun", "Report", "ReportPlan", "StageChoice",
           "StageChoices", "StageShare", "StageShares", "baseline_path", "export_notebook",
           "notebook_parameters", "plan_report", "report_parameters", "run_report",
           "stage_choices", "stage_shares"]

#: The built-in report notebooks, in the order a report runs them.
REPORT_NOTEBOOKS = BUILTIN


def plan_report(notebooks: Sequence[str] | None, given: Sequence[str], *, workload: str,
                pipeline: str, out: Path, cwd: Path, log: Path | None = None,
                command: str) -> ReportPlan:
    """Check the notebooks (built-in names or ``.ipynb`` paths; None or empty: every
    built-in one), the ``-p [NB:]KEY=VALUE`` texts in ``given`` and the workload: a usage
    error names what is wrong before any kernel starts. ``log`` defaults to the decision
    log of the project at ``cwd``; ``command`` is the command as the pages show it."""
    from workbench.project import find_project
    from workbench.reporting.params import parse_given
    from workbench.reporting.plan import notebook_path
    from workbench.reporting.plan import plan_report as plan

    paths = [notebook_path(n) for n in (notebooks or BUILTIN)]
    return plan(paths, given=[parse_given(g) for g in given], workload=workload,
                pipeline=pipeline, out=out, cwd=cwd,
                log=find_project(cwd).decisions_path if log is None else log,
                command=command)


def notebook_parameters(path: Path) -> list[Declared]:
    """The parameters the notebook at ``path`` declares in its parameters cell (each with
    ``.name``, ``.default`` and ``.help``), in order."""
    from workbench.reporting.params import declared_parameters

    return list(declared_parameters(Path(path)).values())


def report_parameters(plan: ReportPlan) -> list[tuple[str, Path, list[Declared]]]:
    """Each planned notebook's name and source, and the parameters it declares
    (:func:`notebook_parameters`)."""
    return [(run.name, Path(run.source), notebook_parameters(run.source))
            for run in plan.notebooks]


def run_report(plan: ReportPlan, *, progress: Callable[[str], None] | None = None,
               bar: bool = False, fanout: Fanout | None = None) -> Report:
    """Run the planned notebooks into a new run folder under ``plan.out`` (through a
    cluster's ``fanout``: at once on several nodes, each notebook on one); ``progress``
    gets a line per notebook. The report's ``summary`` and ``exit_code`` say how it
    ended."""
    from workbench.reporting.runner import execute

    return execute(plan, progress=progress, bar=bar, fanout=fanout)


def stage_choices(comparisons: Mapping[str, Comparison], *, pipeline: PipelineArg,
                  project: Project, budgets: Path | None = None,
                  baseline: Path | None = None, log: Path | None = None) -> StageChoices:
    """Per compared stage, the variant the selection rule suggests beside the one the
    decision log records. ``budgets`` defaults to the project's budgets file, ``baseline``
    to the stored baseline of the comparisons' workload (when there is one) and ``log``
    to the project's decision log."""
    from workbench.reporting.choices import compared_workloads
    from workbench.reporting.choices import stage_choices as choices

    workloads = compared_workloads(comparisons)
    if baseline is None and workloads:
        stored = baseline_path(project.root, workloads[0])
        baseline = stored if stored.is_file() else None
    return choices(comparisons, pipeline=pipeline, budgets=budgets or project.budgets_path,
                   baseline=baseline, log=log or project.decisions_path)


def stage_shares(pipeline: PipelineArg, workload: WorkloadArg, *, runs: int = 3,
                 decided: Path | None = None) -> StageShares:
    """Each stage's median time and share over ``runs`` warm, unfused runs of the pipeline
    in this process, after one warm-up run, with the variants the decision log at
    ``decided`` records (pure where none; a log that does not exist yet decides
    nothing). It picks the stage worth profiling; ``compare`` measures."""
    from workbench.app.measuring import run
    from workbench.errors import InvalidInputError
    from workbench.reporting.shares import shares_of

    if isinstance(runs, bool) or not isinstance(runs, int) or runs < 1:
        raise InvalidInputError(f"runs must be a positive integer; got {runs!r}")
    if decided is not None and not decided.is_file():
        decided = None  # no log yet: nothing decided, every stage runs pure
    done = [run(pipeline, workload, fuse=False, decided=decided) for _ in range(runs + 1)]
    return shares_of(done[1:], runs)


def keep_measurements(comparisons: Mapping[str, Comparison], run_folder: str | Path,
                      ) -> Path | None:
    """Keep the comparisons' measurements in the report's run folder for its budgets
    notebook to judge (nothing to do outside a report: ``run_folder`` empty)."""
    from workbench.reporting.baselines import keep_measurements as keep

    return keep(comparisons.values(), Path(run_folder)) if str(run_folder) else None


def check_budgets(budgets: Path, *, workload: str, pipeline: PipelineArg, run_folder: str,
                  history: Path | None, workers: int, samples: int, warmup: float,
                  decided: Path | None,
                  against: str | None = None, baseline: Path | None = None,
                  repo: Path | None = None, layouts: int | None = 1,
                  max_time: float = 20.0, progress: Progress | None = None) -> CheckReport:
    """A report's budget check. With ``against``: that git ref measured now,
    interleaved (``repo`` names the repository). Otherwise relative limits are judged
    against ``baseline`` or, by default, the baseline of the last green report of this
    pipeline and workload under the run folder's parent; the targets the run's compare
    notebook measured with the same settings are judged from its measurements, the rest
    measured now; undecided error-level rules get more rounds within ``max_time`` seconds
    (0: one look); instructions are counted with ``layouts`` memory layouts. A
    first run drops its no-baseline verdicts for one note. A run with no error-level
    breach stores what it measured as the baseline of the next. ``samples`` and
    ``warmup`` (seconds) are the compare notebook's (other settings: the defaults), whose
    measurements are topped up to ``workers`` per budgeted target (or more, where the
    check's first look needs more to decide at its level)."""
    from dataclasses import replace

    from workbench.app.budgets import check
    from workbench.measure.config import MeasureConfig
    from workbench.reporting import baselines as b

    config = MeasureConfig(workers=workers, samples=samples, warmup_seconds=warmup)
    folder = Path(run_folder) if run_folder else None
    if against:
        report = check(budgets, workload=workload, pipeline=pipeline, config=config,
                       against=against, repo=repo, history=history, progress=progress,
                       decided=decided)
        return replace(report, result=replace(
            report.result, against=f"{against}, measured now, interleaved"))
    measured = b.kept_measurements(folder) if folder else ()
    green = None
    if baseline is None and folder is not None:
        label = pipeline if isinstance(pipeline, str) else ""
        green = b.last_green(folder.parent, workload, label, before=folder)
    source = baseline or (green.baseline if green else None)
    report = check(budgets, workload=workload, pipeline=pipeline, config=config,
                   baseline_file=source, history=history, progress=progress,
                   max_time=max_time,
                   decided=decided, measured=measured, count_all=True, layouts=layouts)
    stored = None
    if folder is not None and report.exit_code() == 0:
        stored = b.run_baseline_path(folder, workload)
        b.store_run_baseline(stored, measured, report.current, report.budgets_hash,
                             instructions=report.instructions, scaling=report.scaling)
    said = green.said if green else f"the stored baseline {source}" if source else \
        "nothing: no green report yet"
    result = replace(report.result, against=said)
    if source is None:  # one line for the first run instead of a notice and a row per rule
        from workbench.budget.checking import NO_BASELINE

        result = b.first_run(result, stored)
        report = replace(report, notices=tuple(n for n in report.notices if n != NO_BASELINE))
    return replace(report, result=result)


def budget_error(report: CheckReport) -> Exception | None:
    """The error that fails the budgets notebook (an error-level breach), else None."""
    from workbench.app.commands import check_error

    return check_error(report)


def export_notebook(path: Path, out: Path | None = None) -> Path:
    """The notebook at ``path`` as an offline HTML page (static renderings before widget
    views, nothing fetched), written next to it (or to ``out``) atomically."""
    from workbench.files import write_atomic
    from workbench.render.notebook_page import notebook_html

    return write_atomic(out or path.with_suffix(".html"), notebook_html(path))
