"""Presentation services: the renderings of results that the front ends show (text for the
terminal, HTML fragments and SVG charts for notebooks). The front ends reach ``render/``
through here only, so what a front end may show is listed in one place."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from workbench.render import panel as _panel

if TYPE_CHECKING:
    from workbench.decisions.record import DecisionRecord
    from workbench.decisions.store import LogRead
    from workbench.measure.instructions import InstructionCount

#: The widget panel's HTML (badges, warnings, errors, the suggestion and the decisions, the
#: Timing tab, the static snapshot): :mod:`workbench.render.panel`.
panel_html = _panel


def instruction_line(count: InstructionCount) -> str:
    """One instruction count as a line of text (``workbench baseline`` prints one per
    counted target)."""
    from workbench.render.measure import instruction_line as line

    return line(count)


def timeline_svg(records: Sequence[DecisionRecord], superseded: Mapping[str, str]) -> str:
    """The decisions of one stage as marks on a time axis (inline SVG, escaped), oldest
    left; superseded ones (``superseded``: id -> the id that replaced it) drawn grey."""
    from workbench.decisions.timeline import on_time_axis
    from workbench.render.timeline import timeline_svg as svg

    return svg(on_time_axis(records), superseded)


def decision_log_html(read: LogRead | Sequence[DecisionRecord], *, stage: str | None = None,
                      since: datetime | None = None, title: str = "Budget decisions") -> str:
    """The decision log as one self-contained HTML page: the decisions of ``stage`` made
    at or after ``since`` (both optional) of ``read`` (a read of the log, or records)."""
    from workbench.decisions.timeline import log_view
    from workbench.render.timeline import decision_log_page

    return decision_log_page(log_view(read, stage=stage, since=since), title=title)
