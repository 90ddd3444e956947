"""The widget panel's HTML (:mod:`workbench.notebook.panel`): its head, settings note,
warnings and errors, the stage rows' column titles, labels and status badges, the
suggestion and the decisions, the result tabs' notes and Timing tab, and the static
snapshot that a saved notebook shows without widgets.

Everything is rendered from the ``panel_*.html.j2`` templates (autoescaped; text goes in
as text, HTML that is already HTML as ``Markup``). The live panel is ipywidgets, outside
any ``.wb-result`` fragment, so its pieces carry their styles inline; the snapshot is a
fragment (``panel``) with the stylesheet.
"""

from __future__ import annotations

import traceback as tracebacks
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

from markupsafe import Markup

from workbench.errors import WorkbenchError
from workbench.render.ecdf import latency_ecdf_svg
from workbench.render.fragments import fragment, render

if TYPE_CHECKING:
    from workbench.decisions.hotspots import Hint
    from workbench.decisions.record import DecisionRecord
    from workbench.decisions.rule import Suggestion
    from workbench.measure.comparison import Comparison
    from workbench.results import Result

__all__ = ["badge", "decide_title", "decisions", "error", "error_box", "head", "header",
           "note", "nothing_measured", "problems", "profile_target", "recorded", "refused",
           "settings_note", "snapshot", "stage_label", "suggestion", "timing", "warnings"]

#: A status badge's colours (text, background) by tone.
TONES = {"ok": ("#1d6b2a", "#e3f4e5"), "bad": ("#fff", "#c62828"),
         "warn": ("#7a4a00", "#ffe2a8"), "info": ("#1f5870", "#e0f0f6"),
         "none": ("#444", "#eeeeee")}


def _controls(part: str, **context: Any) -> str:
    return render("panel_controls.html.j2", part=part, **context)


def _rows(part: str, **context: Any) -> str:
    return render("panel_rows.html.j2", part=part, **context)


def _decide(part: str, **context: Any) -> str:
    return render("panel_decide.html.j2", part=part, **context)


def _tabs(part: str, **context: Any) -> str:
    return render("panel_tabs.html.j2", part=part, **context)


# -- head, settings, warnings, errors -------------------------------------------------------

def head(title: str) -> str:
    """The panel's first line: the pipeline it works on."""
    return _controls("head", title=title)


def settings_note(workers: int, samples: int) -> str:
    """What the default workers and samples are, and why."""
    return _controls("note", workers=workers, samples=samples)


def warnings(said: Sequence[str]) -> str:
    """Each warning in a box (none: empty)."""
    return _controls("warnings", warnings=said)


def error_box(html: str) -> str:
    """An error (HTML, already escaped) boxed for the panel's error area."""
    return _controls("error_box", html=Markup(html))


def error(what: str, exc: BaseException) -> str:
    """An error for the panel: the message of a workbench error; for anything else the
    exception and, folded, its traceback (so nothing is lost in the kernel's log)."""
    if isinstance(exc, WorkbenchError):
        return _controls("error", text=f"{what}: {exc}", traceback=None)
    return _controls("error", text=f"{what}: {type(exc).__name__}: {exc}",
                     traceback="".join(tracebacks.format_exception(exc)))


def problems(lines: Sequence[str]) -> str:
    """Problems of a measurement, one per line."""
    return _controls("problems", problems=lines)


# -- the stage rows ---------------------------------------------------------------------------

def header(cells: Sequence[tuple[str, int]]) -> str:
    """Column titles (title, width in pixels) above the stage rows."""
    return _rows("header", cells=cells)


def stage_label(name: str, focused: bool) -> str:
    """A stage's name in its row, marked when it is the focused stage."""
    return _rows("label", name=name, focused=focused)


def badge(text: str, tone: str, detail: str = "") -> str:
    """A short status with its tone's colours and ``detail`` as its tooltip."""
    fg, bg = TONES.get(tone, TONES["none"])
    return _rows("badge", text=text, tone=tone, detail=detail, fg=fg, bg=bg)


# -- the decision area ------------------------------------------------------------------------

def decide_title() -> str:
    return _decide("title")


def suggestion(stage: str, variant: str, suggested: Suggestion | None,
               hint: Hint | None = None) -> str:
    """The focused stage's selected variant, the suggested one (or how to get one) and
    the hotspot hint, if there is one."""
    return _decide("suggestion", stage=stage, variant=variant, suggestion=suggested,
                   hint=hint)


def refused(message: str) -> str:
    return _decide("refused", message=message)


def recorded(decision: DecisionRecord, session_decisions: Sequence[DecisionRecord],
             where: str) -> str:
    """The confirmation of a recorded decision, with the session's decisions."""
    return _decide("recorded", d=decision, where=where, decisions=session_decisions)


def decisions(records: Sequence[DecisionRecord]) -> str:
    """The session's decisions as a small table (newest last; none: empty)."""
    return _decide("decisions", decisions=records)


# -- the result tabs --------------------------------------------------------------------------

def nothing_measured() -> str:
    """The Timing tab before a comparison: how to get one."""
    return _tabs("nothing_measured")


def note(text: str) -> str:
    """A grey line in a tab (``Not run yet.``, ``running ...``)."""
    return _tabs("note", text=text)


def profile_target(stage: str, variant: str, workload: str, what: str) -> str:
    """What a profile button will profile."""
    return _tabs("target", stage=stage, variant=variant, workload=workload, what=what)


def timing(comparisons: Sequence[Comparison]) -> str:
    """Each comparison's HTML fragment followed by its latency ECDF."""
    if not comparisons:
        return nothing_measured()
    shown = [(Markup(c.to_html()), Markup(latency_ecdf_svg(c))) for c in comparisons]
    return _tabs("timing", shown=shown)


# -- the static snapshot ----------------------------------------------------------------------

class _Status(Protocol):
    @property
    def text(self) -> str: ...

    @property
    def tone(self) -> str: ...

    @property
    def detail(self) -> str: ...


class _Row(Protocol):
    @property
    def stage(self) -> str: ...

    @property
    def variants(self) -> tuple[str, ...]: ...

    @property
    def selected(self) -> str: ...

    @property
    def focused(self) -> bool: ...

    @property
    def equivalence(self) -> _Status: ...

    @property
    def budget(self) -> _Status: ...


def _badge_of(status: _Status) -> Markup:
    return Markup(badge(status.text, status.tone, status.detail))


def snapshot(title: str, rows: Sequence[_Row], *, status: str, errors: str,
             comparisons: Sequence[Comparison], fusion_html: str,
             profiles: Sequence[Result], session_decisions: Sequence[DecisionRecord]) -> str:
    """The panel as a self-contained fragment: the stage rows (selected variants,
    equivalence, budget status), the status line, the errors (HTML, already escaped)
    and the latest results."""
    body = render(
        "panel_snapshot.html.j2", title=title, status=status, errors=Markup(errors),
        rows=[(r, _badge_of(r.equivalence), _badge_of(r.budget)) for r in rows],
        timing=Markup(timing(comparisons)) if comparisons else None,
        fusion=Markup(fusion_html),
        profiles=[(p.summary_line(), Markup(p.to_html())) for p in profiles],
        decisions=Markup(decisions(session_decisions)))
    return fragment("panel", body)
