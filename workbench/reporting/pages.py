"""The pages of the reports folder: each run's ``summary.json`` and ``index.html``, and
``index.html`` at the top listing every run with a trend chart per budgeted stage.

Here: what the pages show (the summary, the breaches, the current decisions, the history's
series) and writing them; :mod:`workbench.render.report_pages` draws them, self-contained
(inline style, inline SVG, no script; a Content-Security-Policy that forbids fetching
anything) and linking only to files beside them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workbench.errors import InvalidInputError, WorkbenchError
from workbench.files import write_atomic

if TYPE_CHECKING:
    from workbench.render.report_pages import Chart
    from workbench.reporting.plan import Report, ReportPlan
    from workbench.results import Result

__all__ = ["breaches", "index_page", "run_page", "write_pages"]

TREND_METRIC = "latency_p50"


def breaches(records: Sequence[tuple[str, Sequence[Result]]],
             runs: Sequence[Any]) -> list[dict[str, Any]]:
    """Every error-level breach the notebooks showed: which rule, what was observed."""
    from workbench.budget.budgeted_block import BudgetedBlock
    from workbench.budget.check_result import CheckResult

    found: list[dict[str, Any]] = []
    for name, results in records:
        for r in results:
            if isinstance(r, CheckResult):
                where, check = "check", r
            elif isinstance(r, BudgetedBlock) and not r.warn_only:
                where, check = f"%%budget {r.name}", r.check
            else:
                continue
            found += [{"notebook": name, "where": where, "target": v.rule.label,
                       "rule": f"{v.rule.metric} {v.rule.limit_text()}",
                       "workload": v.workload, "message": v.message}
                      for v in check.verdicts if v.blocking]
    named = {b["notebook"] for b in found}
    for run in runs:  # a breach raised without a record (the guard): its error says it
        if run.status == "breach" and run.name not in named and run.error:
            found.append({"notebook": run.name, "where": run.error["ename"], "target": "",
                          "rule": run.error["evalue"], "workload": None, "message": ""})
    return found


def _decided(plan: ReportPlan, notes: list[str]) -> dict[str, Any]:
    from workbench.decisions.store import DecisionLog

    log = next((Path(r.parameters["log"]) for r in plan.notebooks if "log" in r.parameters),
               plan.log)
    if not log.is_file():
        return {}
    try:
        return DecisionLog(log).read().current(plan.pipeline, plan.pipeline_name)
    except WorkbenchError as exc:
        notes.append(f"the decision log was not read: {exc}")
        return {}


def run_page(summary: dict[str, Any]) -> str:
    """One run's ``index.html``: its status first, then its notebooks and stages."""
    from workbench.render.report_pages import run_page as page

    return page(summary)


def _trends(out: Path) -> list[Chart]:
    db = out / "history.sqlite"
    if not db.is_file():
        return []
    from workbench.budget.history import load_series, series_keys
    from workbench.render.report_pages import history_note, trend_chart

    charts: list[Chart] = []
    try:
        keys = series_keys(db, TREND_METRIC)
        groups: dict[tuple[str, str | None], list[str]] = {}
        for stage, variant, workload in keys:
            groups.setdefault((stage, workload), []).append(variant)
        for (stage, workload), variants in sorted(groups.items(), key=lambda g: (g[0][0],
                                                                               g[0][1] or "")):
            lines = {v: load_series(db, stage, TREND_METRIC, v, workload) for v in variants}
            charts.append(trend_chart(stage, workload, lines, TREND_METRIC))
    except InvalidInputError as exc:
        charts.append(history_note(f"the history database was not read: {exc}"))
    return charts


def index_page(out: Path) -> str:
    """``OUT/index.html``: every run (newest first) and the trend charts."""
    from workbench.render.report_pages import index_page as page
    from workbench.reporting.summary import read_summary

    runs: list[dict[str, Any]] = []
    unreadable: list[tuple[str, str]] = []
    for path in sorted(out.glob("*/summary.json"), reverse=True):
        try:
            runs.append(read_summary(path))
        except InvalidInputError as exc:
            unreadable.append((path.parent.name, str(exc)))
    runs.sort(key=lambda s: (s["created_at"], s["id"]), reverse=True)
    return page(runs, unreadable, _trends(out), TREND_METRIC)


def write_pages(report: Report, plan: ReportPlan,
                records: Sequence[tuple[str, Sequence[Result]]]) -> None:
    """Rewrite the run's summary and index and the folder's index from what is known."""
    from workbench.reporting.summary import stage_summary

    s = report.summary
    s["notebooks"] = [r.to_json() for r in plan.notebooks]
    s["breaches"] = breaches(records, plan.notebooks)
    notes = [n for n in s["notes"] if not n.startswith("the decision log")]
    s["stages"] = stage_summary([r for _, results in records for r in results],
                                _decided(plan, notes))
    s["notes"] = notes
    write_atomic(report.path / "summary.json", json.dumps(s, indent=2) + "\n")
    write_atomic(report.path / "index.html", run_page(s))
    write_atomic(plan.out / "index.html", index_page(plan.out))
