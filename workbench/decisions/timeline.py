"""The decision log as one self-contained HTML page (``workbench decisions export``).

One file: the workbench's stylesheet inlined, a timeline per stage drawn as inline SVG,
each decision with its evidence table, verdicts, the suggestion against the choice and the
rationale. No script, no external URL, nothing fetched: a restrictive
Content-Security-Policy forbids all of it, and every string from the log is escaped by
the template engine. Laid out to print (no clipped overflow, no decision split across a
page break where it fits on one).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from html import escape

from markupsafe import Markup

from workbench.decisions.record import DecisionRecord
from workbench.decisions.store import LogRead, parse_since

__all__ = ["CSP", "export_html", "timeline_svg"]

#: Nothing may load or run: inline styles and data: images only.
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'none'"
_COLOURS = {"pure": "#2e7d32", "vectorized": "#1f4e99", "native": "#b45309"}


def timeline_svg(records: Sequence[DecisionRecord], superseded: dict[str, str], *,
                 width: int = 720) -> str:
    """The decisions of one stage as marks on a time axis (superseded ones grey)."""
    if not records:
        return ""
    times = [parse_since(r.created_at).timestamp() for r in records]
    low, high = min(times), max(times)
    span = high - low or 1.0
    left, right, row = 20, width - 20, 40
    height = 30 + row
    parts = [f'<svg class="wb-timeline" xmlns="http://www.w3.org/2000/svg" width="{width}" '
             f'height="{height}" viewBox="0 0 {width} {height}" role="img" '
             f'aria-label="decision timeline">',
             f'<line x1="{left}" y1="{row}" x2="{right}" y2="{row}" stroke="#999"/>']
    for i, (r, t) in enumerate(zip(records, times, strict=True)):
        x = left + (right - left) * ((t - low) / span if high > low else 0.5)
        old = r.id in superseded
        colour = "#aaa" if old else _COLOURS.get(r.variant, "#6a1b9a")
        y_text = row - 12 if i % 2 == 0 else row + 22
        parts.append(f'<g><title>{escape(r.id)} {escape(r.created_at)}: {escape(r.variant)}'
                     f'{" (superseded)" if old else ""}</title>'
                     f'<circle cx="{x:.1f}" cy="{row}" r="6" fill="{colour}"/>'
                     f'<text x="{x:.1f}" y="{y_text}" font-size="11" text-anchor="middle" '
                     f'fill="{colour}">{escape(r.variant[:24])}</text></g>')
    parts.append(f'<text x="{left}" y="{height - 2}" font-size="10" fill="#555">'
                 f'{escape(records[0].created_at[:10])}</text>'
                 f'<text x="{right}" y="{height - 2}" font-size="10" fill="#555" '
                 f'text-anchor="end">{escape(records[-1].created_at[:10])}</text></svg>')
    return "".join(parts)


def export_html(read: LogRead | Sequence[DecisionRecord], *, stage: str | None = None,
                since: datetime | None = None, title: str = "Budget decisions") -> str:
    """The page (see the module docstring) for the decisions of ``stage`` made at or
    after ``since`` (both optional)."""
    from workbench.render.decision import decision_body
    from workbench.render.fragments import render, stylesheet

    if not isinstance(read, LogRead):
        from pathlib import Path

        read = LogRead(Path("<records>"), tuple(read))
    shown = read.select(stage=stage, since=since)
    superseded = read.superseded_by()
    stages: dict[str, list[DecisionRecord]] = {}
    for r in shown:
        stages.setdefault(r.stage, []).append(r)
    sections = [(name, Markup(timeline_svg(records, superseded)),
                 [(r, Markup(decision_body(r, superseded_by=superseded.get(r.id))))
                  for r in reversed(records)])
                for name, records in stages.items()]
    filters = [f"stage {stage}" if stage else "", f"since {since.isoformat()}" if since
               else ""]
    return render("decision_log.html.j2", title=title, csp=Markup(CSP), style=Markup(stylesheet()),
                  sections=sections, count=len(shown), total=len(read.records),
                  filters=", ".join(f for f in filters if f), source=str(read.path),
                  superseded=superseded, torn=read.torn)
