"""The decision log as one self-contained HTML page (``workbench decisions export``).

One file: the workbench's stylesheet inlined, a timeline per stage drawn as inline SVG,
each decision with its evidence table, verdicts, the suggestion against the choice and the
rationale. No script, no external URL, nothing fetched: a restrictive
Content-Security-Policy forbids all of it, and every string from the log is escaped by
the template engine (``decision_log.html.j2`` and ``timeline.svg.j2``, among the render
package's autoescaped templates; a decision's own block is
:func:`workbench.render.decision.decision_body`).
Laid out to print (no clipped overflow, no decision split across a page break where it
fits on one).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from markupsafe import Markup

from workbench.decisions.record import DecisionRecord
from workbench.decisions.store import LogRead, parse_since
from workbench.render.fragments import render

__all__ = ["CSP", "export_html", "timeline_svg"]

#: Nothing may load or run: inline styles and data: images only.
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'none'"
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


def timeline_svg(records: Sequence[DecisionRecord], superseded: Mapping[str, str], *,
                 width: int = 720) -> Markup:
    """The decisions of one stage as marks on a time axis, labelled by variant, oldest
    left; superseded ones (``superseded``: id -> the id that replaced it) drawn grey.
    Empty for no records."""
    if not records:
        return Markup("")
    ordered = sorted(records, key=lambda r: parse_since(r.created_at))
    times = [parse_since(r.created_at).timestamp() for r in ordered]
    low, high = times[0], times[-1]
    left, right, axis = 24, width - 24, 44
    marks = []
    for i, (r, t) in enumerate(zip(ordered, times, strict=True)):
        share = (t - low) / (high - low) if high > low else 0.5
        x = left + (right - left) * share
        anchor = "start" if x < left + 60 else "end" if x > right - 60 else "middle"
        marks.append(_Mark(r.id, r.created_at, r.variant, _label(r.variant), f"{x:.1f}",
                           axis - 12 if i % 2 == 0 else axis - 27, anchor,
                           _GREY if r.id in superseded else _COLOURS.get(r.variant, _OTHER),
                           superseded.get(r.id)))
    return Markup(render("timeline.svg.j2", width=width, height=axis + 22, left=left,
                          right=right, axis=axis, marks=marks, stage=ordered[0].stage,
                          first=ordered[0].created_at[:10], last=ordered[-1].created_at[:10]))


def export_html(read: LogRead | Sequence[DecisionRecord], *, stage: str | None = None,
                since: datetime | None = None, title: str = "Budget decisions") -> str:
    """The page (see the module docstring) for the decisions of ``stage`` made at or
    after ``since`` (both optional); ``read`` is a read of the log or the records
    themselves. An empty selection gives a page saying that no decision matches."""
    from workbench.render.decision import decision_body
    from workbench.render.fragments import stylesheet

    source = str(read.path) if isinstance(read, LogRead) else ""
    if not isinstance(read, LogRead):
        read = LogRead(Path(), tuple(read))
    shown = read.select(stage=stage, since=since)
    superseded = read.superseded_by()
    stages: dict[str, list[DecisionRecord]] = {}
    for r in shown:
        stages.setdefault(r.stage, []).append(r)
    sections = []
    for name, records in stages.items():
        newest_first = sorted(records, key=lambda r: parse_since(r.created_at), reverse=True)
        sections.append((name, timeline_svg(records, superseded), [
            (r, Markup(decision_body(r, superseded_by=superseded.get(r.id))))
            for r in newest_first]))
    filters = [f"stage {stage}" if stage is not None else "",
               f"since {since.isoformat()}" if since is not None else ""]
    return render("decision_log.html.j2", title=title, csp=Markup(CSP), style=Markup(stylesheet()),
                   sections=sections, count=len(shown), total=len(read.records),
                   filters=", ".join(f for f in filters if f), source=source,
                   superseded=superseded, shown={r.id for r in shown}, torn=read.torn)
