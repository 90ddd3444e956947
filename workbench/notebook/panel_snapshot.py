"""The panel's static snapshot: what it shows, as HTML and text that need no widgets.

nbconvert cannot render widgets offline, so the panel's display carries this beside the
live widget view (``text/html``, ``text/plain``) and is updated whenever results arrive:
a saved or exported notebook then shows the stage rows (selected variants, equivalence,
budget status) and the latest results.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from typing import TYPE_CHECKING

from workbench.notebook.panel_decide import decisions_html
from workbench.notebook.panel_status import Status
from workbench.notebook.panel_tabs import timing_html
from workbench.render.fragments import fragment

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

    def _rows_html(self) -> str:
        out = []
        for r in self.rows:
            variants = " ".join(f"<b>[{escape(v)}]</b>" if v == r.selected else escape(v)
                                for v in r.variants)
            mark = "&#9656; " if r.focused else ""
            out.append(f"<tr><td>{mark}{escape(r.stage)}</td><td>{variants}</td>"
                       f"<td>{r.equivalence.badge()}</td><td>{r.budget.badge()}</td></tr>")
        return ("<table class='wb-table wb-panel-stages'><thead><tr><th>stage</th>"
                "<th>variants ([selected])</th><th>equivalence</th><th>budget</th></tr>"
                f"</thead><tbody>{''.join(out)}</tbody></table>")

    def html(self) -> str:
        parts = [f"<p class='wb-head'>{escape(self.title)}</p>",
                 "<p class='wb-sub'>static snapshot of the workbench panel (the live panel "
                 "needs a running kernel)</p>", self._rows_html()]
        if self.status:
            parts.append(f"<p class='wb-note'>{escape(self.status)}</p>")
        if self.errors:
            parts.append(f"<div class='wb-error'>{self.errors}</div>")
        if self.comparisons:
            parts += ["<p class='wb-head'>Timing</p>", timing_html(self.comparisons)]
        if self.fusion_html:
            parts += ["<p class='wb-head'>Fusion</p>", self.fusion_html]
        for result in self.profiles:
            parts += [f"<p class='wb-head'>{escape(result.summary_line())}</p>",
                      result.to_html()]
        if self.decisions:
            parts += ["<p class='wb-head'>Decisions</p>", decisions_html(self.decisions)]
        return fragment("panel", "".join(parts))

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

