"""The pages of a reports folder: each run's ``index.html`` (its status first, then its
notebooks and stages) and the folder's ``index.html`` (every run, newest first, and a
trend chart per budgeted stage). Self-contained, like every offline page
(:mod:`.offline`): they link only to files beside them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from markupsafe import Markup

from workbench.render.offline import offline_page
from workbench.render.trend import trend_svg

if TYPE_CHECKING:
    from workbench.budget.history import Series

__all__ = ["Chart", "history_note", "index_page", "run_page", "trend_chart"]

#: A chart of the index: the stage, its workload ("-": any) and the chart (or a note).
Chart = tuple[str, str, Markup]


def run_page(summary: Mapping[str, Any]) -> str:
    """One run's ``index.html`` from its summary."""
    return offline_page("report_run.html.j2", s=summary, stages=list(summary["stages"].items()))


def trend_chart(stage: str, workload: str | None, lines: Mapping[str, Series],
                metric: str) -> Chart:
    """The trend of ``metric`` of ``stage`` on ``workload`` (None: any), a line per
    variant (``lines``: variant -> its series)."""
    title = f"{stage} on {workload or '-'}: {metric}"
    return stage, workload or "-", Markup(trend_svg(lines, title=title))


def history_note(text: str) -> Chart:
    """In place of a chart: why the history was not read (in full)."""
    return "history", "-", Markup("<p class='wb-note'>{}</p>").format(text)


def index_page(runs: Sequence[Mapping[str, Any]], unreadable: Sequence[tuple[str, str]],
               trends: Sequence[Chart], metric: str) -> str:
    """``OUT/index.html``: ``runs`` (their summaries, newest first), the run folders whose
    summary was not read and why, and the trend charts (:func:`trend_chart`)."""
    return offline_page("report_index.html.j2", runs=runs, latest=runs[0] if runs else None,
                        unreadable=unreadable, trends=trends, metric=metric)
