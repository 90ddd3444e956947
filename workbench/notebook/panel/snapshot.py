"""The panel's static snapshot: what it shows, as HTML and text that need no widgets.

nbconvert cannot render widgets offline, so the panel's display carries this beside the
live widget view (``text/html``, ``text/plain``) and is updated whenever results arrive:
a saved or exported notebook then shows the stage rows (selected variants, equivalence,
budget status) and the latest results (:func:`workbench.render.panel.snapshot` draws it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from workbench.app.views import panel_html
from workbench.notebook.panel.status import Status

if TYPE_CHECKING:
    from workbench.decisions.record import DecisionRecord
    from workbench.measure.comparison import Comparison
    from workbench.results import Result

__all__ = ["RowState", "Snapshot", "plain"]


@dataclass(frozen=True)
class RowState:
    stage: str
    variants: tuple[str, ...]
    selected: str
    equivalence: Status
    budget: Status
    focused: bool = False


@dataclass(frozen=True)
class Snapshot:
    """Everything the static rendering shows."""

    title: str
    rows: tuple[RowState, ...]
    status: str
    errors: str  # already-escaped HTML
    comparisons: tuple[Comparison, ...]
    fusion_html: str
    profiles: tuple[Result, ...]
    decisions: tuple[DecisionRecord, ...]

    def html(self) -> str:
        return panel_html.snapshot(self.title, self.rows, status=self.status,
                                   errors=self.errors, comparisons=self.comparisons,
                                   fusion_html=self.fusion_html, profiles=self.profiles,
                                   session_decisions=self.decisions)

    def text(self) -> str:
        lines = [self.title]
        for r in self.rows:
            lines.append(f"  {'>' if r.focused else ' '} {r.stage}: {r.selected} "
                         f"(of {', '.join(r.variants)}); equivalence: {r.equivalence.text}; "
                         f"budget: {r.budget.text}")
        if self.status:
            lines.append(self.status)
        lines += [c.summary_line() for c in self.comparisons]
        lines += [p.summary_line() for p in self.profiles]
        lines += [f"decision: {d.stage} = {d.variant} ({d.rationale})" for d in self.decisions]
        return "\n".join(lines)


def plain(snapshot: Snapshot, limit: int = 2000) -> str:
    text = snapshot.text()
    return text if len(text) <= limit else text[: limit - 20] + "\n... (cut)"
