"""The decision log as one self-contained HTML page, and a stage's decisions as a
timeline (inline SVG).

One file: the workbench's stylesheet inlined, a timeline per stage, each decision with
its evidence table, verdicts, the suggestion against the choice and the rationale. No
script, no external URL, nothing fetched: a restrictive Content-Security-Policy
(:data:`workbench.render.offline.CSP`) forbids all of it, and every string from the log
is escaped by the template engine (``decision_log.html.j2`` and ``timeline.svg.j2``; a
decision's own block is :func:`workbench.render.decision.decision_body`). Laid out to
print (no clipped overflow, no decision split across a page break where it fits on one).
What the page shows is :class:`workbench.decisions.timeline.LogView`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from markupsafe import Markup

from workbench.render.fragments import render
from workbench.render.offline import offline_page

if TYPE_CHECKING:
    from workbench.decisions.record import DecisionRecord
    from workbench.decisions.timeline import LogView

__all__ = ["decision_log_page", "timeline_svg"]

_COLOURS = {"pure": "#2e7d32", "vectorized": "#1f4e99", "native": "#b45309"}
_OTHER, _GREY = "#6a1b9a", "#9a9a9a"
_LABEL = 24  # characters of a variant name drawn under its mark (the tooltip has it all)


@dataclass(frozen=True, slots=True)
class _Mark:
    ident: str
    when: str
    variant: str
    label: str
    x: str
    label_y: int
    anchor: str
    colour: str
    superseded: str | None


def _label(variant: str) -> str:
    return variant if len(variant) <= _LABEL else variant[:_LABEL - 1] + "\u2026"


def timeline_svg(timeline: Sequence[tuple[DecisionRecord, float]],
                 superseded: Mapping[str, str], *, width: int = 720) -> Markup:
    """The decisions of one stage (``timeline``: oldest first, each with its POSIX time)
    as marks on a time axis, labelled by variant; superseded ones (``superseded``: id ->
    the id that replaced it) drawn grey. Empty for no records."""
    if not timeline:
        return Markup("")
    low, high = timeline[0][1], timeline[-1][1]
    left, right, axis = 24, width - 24, 44
    marks = []
    for i, (r, t) in enumerate(timeline):
        share = (t - low) / (high - low) if high > low else 0.5
        x = left + (right - left) * share
        anchor = "start" if x < left + 60 else "end" if x > right - 60 else "middle"
        marks.append(_Mark(r.id, r.created_at, r.variant, _label(r.variant), f"{x:.1f}",
                           axis - 12 if i % 2 == 0 else axis - 27, anchor,
                           _GREY if r.id in superseded else _COLOURS.get(r.variant, _OTHER),
                           superseded.get(r.id)))
    first, last = timeline[0][0], timeline[-1][0]
    return Markup(render("timeline.svg.j2", width=width, height=axis + 22, left=left,
                         right=right, axis=axis, marks=marks, stage=first.stage,
                         first=first.created_at[:10], last=last.created_at[:10]))


def decision_log_page(view: LogView, *, title: str = "Budget decisions") -> str:
    """The page (see the module docstring) showing ``view``; a view with no decision
    gives a page saying that no decision matches."""
    from workbench.render.decision import decision_body

    superseded = view.superseded
    sections = [(s.stage, timeline_svg(s.timeline, superseded), [
        (r, Markup(decision_body(r, superseded_by=superseded.get(r.id))))
        for r in s.newest_first]) for s in view.stages]
    return offline_page("decision_log.html.j2", title=title, sections=sections,
                        count=len(view.shown), total=view.total, filters=view.filters,
                        source=view.source, superseded=superseded,
                        shown={r.id for r in view.shown}, torn=view.torn)
