"""Renderings of what the report notebooks add: each stage's suggested and decided variant
(``stage-choices``) and each stage's share of the pipeline's time (``stage-shares``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from markupsafe import Markup

from workbench import formatting as fmt
from workbench.render import Renderer
from workbench.render.charts import share_bar_svg
from workbench.render.fragments import render
from workbench.render.tables import table

if TYPE_CHECKING:
    from workbench.reporting.choices import StageChoice, StageChoices
    from workbench.reporting.shares import StageShares

__all__ = ["RENDERERS"]

CHOICE_COLUMNS = ("stage", "suggested", "decided", "agrees", "why")


def _agrees(c: StageChoice) -> str:
    return {None: "nothing decided", True: "yes", False: "NO"}[c.agrees]


def _choice_cells(c: StageChoice) -> tuple[str, ...]:
    decided = "-" if c.decided is None else f"{c.decided} ({c.decision_id}, " \
        f"{(c.decided_at or '')[:10]})"
    return (c.stage, c.suggested or "none", decided, _agrees(c), c.reason)


def choices_headline(r: StageChoices) -> str:
    differ = [c.stage for c in r.choices if c.agrees is False]
    tail = f"decision differs from the suggestion for {', '.join(differ)}" if differ else \
        "no decision differs from the suggestion"
    return f"suggested variants on {r.workload} ({len(r.choices)} stages): {tail}"


def choices_text(r: StageChoices, **_: Any) -> str:
    lines = [choices_headline(r)]
    lines += table(CHOICE_COLUMNS[:-1], [_choice_cells(c)[:-1] for c in r.choices],
                   indent="  ")
    lines += [f"  {c.stage}: {c.reason}" for c in r.choices]
    if r.budgets_note:
        lines.append(f"  ({r.budgets_note})")
    return "\n".join(lines)


def choices_body(r: StageChoices, **_: Any) -> str:
    return render("stage_choices.html.j2", headline=choices_headline(r),
                  columns=CHOICE_COLUMNS, rows=[(c, _choice_cells(c)) for c in r.choices],
                  note=r.budgets_note, log=r.log)


def shares_headline(r: StageShares) -> str:
    hot = r.hottest
    return (f"{r.pipeline} on {r.workload}: {hot.stage}/{hot.variant} takes "
            f"{fmt.percent(hot.share * 100, 0)} of the time (median of {r.runs} warm runs)")


def shares_text(r: StageShares, **_: Any) -> str:
    lines = [shares_headline(r)]
    lines += table(("stage", "variant", "median", "share"),
                   [(s.stage, s.variant, fmt.seconds(s.seconds), fmt.percent(s.share * 100))
                    for s in r.stages], indent="  ")
    lines.append("  (in-process, unfused, not isolated: it picks what to profile; "
                 "compare measures)")
    return "\n".join(lines)


def shares_body(r: StageShares, **_: Any) -> str:
    rows = [(s.stage, s.variant, fmt.seconds(s.seconds), fmt.percent(s.share * 100),
             Markup(share_bar_svg(s.share * 100)), s is r.hottest) for s in r.stages]
    return render("stage_shares.html.j2", headline=shares_headline(r), rows=rows)


RENDERERS = {
    "stage-choices": Renderer(choices_headline, choices_text, choices_body),
    "stage-shares": Renderer(shares_headline, shares_text, shares_body),
}
