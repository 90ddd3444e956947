"""Renderings of a budget check: one row per verdict, coloured by status."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from workbench import formatting as fmt
from workbench.render import Renderer
from workbench.render.fragments import render
from workbench.render.tables import table

if TYPE_CHECKING:
    from workbench.budget.check_result import CheckResult, Verdict

__all__ = ["RENDERERS", "verdict_cells"]

COLUMNS = ("status", "level", "target", "metric", "observed [interval]", "limit",
           "ratio [interval]")
_ANSI = {"pass": "32", "breach": "31", "inconclusive": "33", "not-comparable": "35",
         "no-baseline": "36"}


def verdict_cells(v: Verdict) -> tuple[str, ...]:
    kind = v.rule.info.kind
    observed = fmt.with_interval(v.observed, v.observed_low, v.observed_high, kind)
    ratio = "" if v.ratio is None else fmt.with_interval(v.ratio, v.ratio_low, v.ratio_high,
                                                         "ratio")
    return (v.status, v.rule.level, v.target, v.rule.metric, observed, v.rule.limit_text(),
            ratio)


def check_headline(r: CheckResult) -> str:
    from workbench.budget.check_result import STATUSES

    counts = ", ".join(f"{r.count(s)} {s}" for s in STATUSES if r.count(s))
    return (f"budget check: {len(r.verdicts)} verdicts ({counts or 'none'}); "
            f"each error-level verdict errs at most {1 - r.confidence:.3g} at each end over "
            f"all looks ({r.correction}, family alpha {r.family_alpha:g}: at most "
            f"{r.family_alpha:g} for the whole check, at each end); "
            f"budgets {r.budgets_hash[:12]}")


def _said(r: CheckResult) -> list[str]:
    return [*([f"relative limits judged against {r.against}"] if r.against else []),
            *r.notes]


def check_text(r: CheckResult, color: bool = False, **_: Any) -> str:
    lines = table(COLUMNS, [verdict_cells(v) for v in r.verdicts])
    if color:
        lines = lines[:1] + [f"\x1b[{_ANSI[v.status]}m{line}\x1b[0m"
                             for v, line in zip(r.verdicts, lines[1:], strict=True)]
    messages = [f"  {v.status}: {v.target} {v.rule.metric}: {v.message}" for v in r.verdicts]
    return "\n".join([check_headline(r), *_said(r), *lines, *messages])


def _css(v: Verdict) -> str:
    if v.status == "breach" and v.rule.level != "error":
        return "wb-breach-warn"
    return f"wb-{v.status}"


def _counts(r: CheckResult) -> list[tuple[str, list[int]]]:
    from workbench.budget.check_result import STATUSES

    levels = dict.fromkeys(["error", "warn", *(v.rule.level for v in r.verdicts)])
    return [(level, [sum(1 for v in r.verdicts if v.rule.level == level and v.status == s)
                     for s in STATUSES]) for level in levels
            if any(v.rule.level == level for v in r.verdicts)]


def check_body(r: CheckResult, **_: Any) -> str:
    """The check on one screen (counts by level and status, every breach and every
    undecided error-level rule with its interval and why, what it was judged against),
    then every verdict, folded."""
    from workbench.budget.check_result import STATUSES

    blocking = [v for v in r.verdicts if v.blocking]
    rows = [(v, _css(v), verdict_cells(v)) for v in r.verdicts]
    attention = [row for row in rows if row[0].status == "breach" or row[0].undecided]
    return render("budget_check.html.j2", r=r, headline=check_headline(r), columns=COLUMNS,
                  rows=rows, blocking=blocking, attention=attention, statuses=STATUSES,
                  counts=_counts(r))


RENDERERS = {"budget-check": Renderer(check_headline, check_text, check_body)}
