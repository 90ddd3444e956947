"""The notebook workbench's widget panel (ipywidgets 8): ``workbench.notebook.panel()``
and ``%wb panel`` build it with :func:`build_panel`.

One row per stage (variants as toggle buttons: the session's selection; a "measure"
checkbox; equivalence and budget status), a workload picker, workers and samples, a
Measure button that compares the ticked stages' variants in a background thread (with
a progress bar and Cancel), result tabs (Timing, Fusion, Flame graph, Memory, Lines) and
a "Record decision" area. Errors show inside the panel. Every result is kept in the
session. Displayed, the panel carries a static HTML snapshot beside the live widget
(:mod:`.panel_snapshot`) and updates it under its display id whenever results arrive,
so a saved or exported notebook shows the latest results without widgets.

The jobs themselves (measure, profile, decide) are in :mod:`.panel_actions`.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterable
from html import escape
from typing import TYPE_CHECKING, Any

from workbench._optional import require
from workbench.decisions.evidence import hotspot_hint
from workbench.errors import WorkbenchError
from workbench.measure.comparison import Comparison
from workbench.notebook.panel_actions import PANEL_LABEL, Actions
from workbench.notebook.panel_controls import DEFAULT_SAMPLES, DEFAULT_WORKERS, Controls
from workbench.notebook.panel_decide import DecisionArea
from workbench.notebook.panel_rows import StageRow, header, toggle_width
from workbench.notebook.panel_snapshot import RowState, Snapshot, plain
from workbench.notebook.panel_status import (
    Budgets,
    Status,
    budget_status,
    equivalence_status,
    load_budgets,
)
from workbench.notebook.panel_tabs import ResultTabs
from workbench.notebook.panel_tasks import Runner, error_html
from workbench.refs import resolve_pipeline

if TYPE_CHECKING:
    from workbench.budget.result import Verdict
    from workbench.decisions.rule import Suggestion
    from workbench.notebook.session import Session
    from workbench.refs import PipelineArg
    from workbench.results import Result
    from workbench.workloads import Workload

widgets: Any = require("ipywidgets", feature="the notebook panel", extra="notebook")

__all__ = ["DEFAULT_SAMPLES", "DEFAULT_WORKERS", "Panel", "build_panel"]

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def _workload_name(w: Workload | str) -> str:
    return w if isinstance(w, str) else w.name


class Panel(Actions):
    """The panel's widgets (``widget`` holds them all) and the state behind them."""

    def __init__(self, session: Session, *, workers: int = DEFAULT_WORKERS,
                 samples: int = DEFAULT_SAMPLES) -> None:
        self.session = session
        self.pipeline, self.ref = resolve_pipeline(session.pipeline)  # registers workloads
        self.lock = threading.RLock()
        self.display_id: str | None = None
        self.budgets: Budgets | None = None
        self.comparisons: dict[str, Comparison] = {}
        self.verdicts: dict[str, dict[str, tuple[Verdict, ...]]] = {}
        self.suggestions: dict[str, Suggestion] = {}
        self.profiles: dict[tuple[str, str], Result] = {}
        self.last_run: list[str] = []
        self.focus = self.pipeline.stage_names[0]
        width = toggle_width(self.pipeline.stages)
        self.rows = {s.name: StageRow(s, session.variant_of(s.name), width=width,
                                      on_select=self.select, on_focus=self.set_focus)
                     for s in self.pipeline.stages}
        controls = Controls(session.workload, workers, samples, on_measure=self.measure,
                            on_cancel=self.cancel, on_workload=self._workload_changed)
        self.controls = controls
        self.workload_picker, self.workers, self.samples = \
            controls.workload_picker, controls.workers, controls.samples
        self.count_instructions = controls.count_instructions
        self.measure_button, self.cancel_button, self.progress = \
            controls.measure_button, controls.cancel_button, controls.progress
        self.status, self.errors = controls.status, controls.errors
        self.tabs = ResultTabs(self.profile)
        self.decision = DecisionArea(self.record)
        self.runner = Runner(self._busy)
        head = widgets.HTML(f"<b>workbench panel</b>: pipeline <code>{escape(self.title)}"
                            "</code>")
        self.widget = widgets.VBox([head, controls.settings, controls.warning, header(width),
                                    *(r.box for r in self.rows.values()), controls.run_bar,
                                    self.status, self.errors, self.tabs.tab,
                                    self.decision.box])
        self.widget.add_class("wb-panel")
        self._load_budgets()
        self.seen = 0  # how many of the session's results the panel has looked at
        self.sync()
        self.set_focus(self.focus)

    @property
    def title(self) -> str:
        return self.ref or f"<object>:{self.pipeline.name}"

    @property
    def workload(self) -> Workload | str:
        value: Workload | str = self.workload_picker.value
        return value

    # -- what the rows and controls report ---------------------------------------------
    def select(self, stage: str, variant: str) -> None:
        """A toggle: the session's selection; the stage becomes the one to measure."""
        try:
            self.session.select({stage: variant})
        except WorkbenchError as exc:
            self.show_error(error_html(f"cannot select {stage}={variant}", exc))
            self.rows[stage].set_variant(self.session.variant_of(stage))
            return
        self.rows[stage].measure.value = True
        self.set_focus(stage)

    def set_focus(self, stage: str) -> None:
        """The stage that profiles and decisions are about."""
        self.focus = stage
        for name, row in self.rows.items():
            row.set_focus(name == stage)
        self.refresh()

    def _workload_changed(self, change: dict[str, Any]) -> None:
        """The session's workload; its stored baseline, if any, for relative limits."""
        try:
            self.session.use(workload=change["new"])
        except WorkbenchError as exc:
            self.show_error(error_html("cannot use that workload", exc))
        self._load_budgets()
        self.refresh()

    def _load_budgets(self) -> None:
        try:
            self.budgets = load_budgets(self.session, _workload_name(self.workload))
        except WorkbenchError as exc:
            self.budgets = None
            self.show_error(error_html("budgets file not used", exc))

    def _busy(self, busy: bool, kind: str) -> None:
        self.controls.busy(busy, cancellable=kind == "measure")
        self.tabs.enable(not busy)

    # -- what the panel shows ------------------------------------------------------------
    def show_error(self, html: str) -> None:
        """Add an error (escaped HTML) to the error area; Measure clears it."""
        with self.lock:
            self.errors.value += (f"<div class='wb-panel-error-box' style='color:#9b1c1c;"
                                  "background:#fdecec;border-left:3px solid #d62728;"
                                  f"padding:2px 8px;margin:4px 0'>{html}</div>")

    def sync(self) -> None:
        """Take what happened elsewhere in the session: selections (``%wb select``) on
        the toggles, comparisons (``%wb compare``) as the last comparison of their stage."""
        for name, row in self.rows.items():
            row.set_variant(self.session.variant_of(name))
        results = list(self.session.results)
        new, self.seen = results[self.seen:], len(results)
        found = [r for label, r in new if isinstance(r, Comparison)
                 and not label.startswith(PANEL_LABEL)]
        if found:
            self.adopt(found)

    def statuses(self, stage: str) -> tuple[Status, Status]:
        variant = self.session.variant_of(stage)
        with self.lock:
            comparison = self.comparisons.get(stage)
            verdicts = self.verdicts.get(stage)
        return (equivalence_status(comparison, variant),
                budget_status(self.budgets, stage, variant, verdicts))

    def refresh(self) -> None:
        """Rows, fusion report, profile targets and the suggestion, from the state."""
        for name, row in self.rows.items():
            row.show(*self.statuses(name))
        variant = self.session.variant_of(self.focus)
        self.tabs.set_target(self.focus, variant, _workload_name(self.workload))
        try:
            self.tabs.fusion.value = self.session.pipeline_object().fusion_report().to_html()
        except WorkbenchError as exc:
            self.tabs.fusion.value = error_html("no fusion report", exc)
        with self.lock:
            suggestion = self.suggestions.get(self.focus)
            comparison = self.comparisons.get(self.focus)
            verdicts = self.verdicts.get(self.focus, {})
            profiles = [r for (s, _), r in self.profiles.items() if s == self.focus]
        hint = None if comparison is None else hotspot_hint(comparison, verdicts, profiles)
        self.decision.show_suggestion(self.focus, variant, suggestion, hint)

    def snapshot(self) -> Snapshot:
        with self.lock:
            runs = tuple(self.comparisons[s] for s in self.last_run if s in self.comparisons)
            profiles = tuple(self.profiles.values())
        rows = tuple(RowState(name, tuple(row.toggle.options), self.session.variant_of(name),
                              *self.statuses(name), focused=name == self.focus)
                     for name, row in self.rows.items())
        return Snapshot(f"workbench panel: {self.title} on {_workload_name(self.workload)}",
                        rows, _text_of(self.status.value), self.errors.value, runs,
                        self.tabs.fusion.value, profiles, tuple(self.session.decisions))

    # -- display -------------------------------------------------------------------------
    def _repr_mimebundle_(self, include: Iterable[str] | None = None,
                          exclude: Iterable[str] | None = None, **_: Any) -> dict[str, Any]:
        """The live widget view, a static HTML snapshot and a text summary."""
        snap = self.snapshot()
        makers: dict[str, Callable[[], Any]] = {
            WIDGET_VIEW: lambda: self.widget._repr_mimebundle_()[WIDGET_VIEW],
            "text/html": snap.html, "text/plain": lambda: plain(snap)}
        wanted = set(makers) if include is None else set(include) & set(makers)
        wanted -= set(exclude or ())
        return {mime: make() for mime, make in makers.items() if mime in wanted}

    def _ipython_display_(self) -> None:
        """Displayed under the panel's display id, so that results update the output."""
        from IPython import display as ipython_display

        display: Any = ipython_display.display
        self.display_id = self.display_id or f"wb-panel-{uuid.uuid4().hex}"
        display(self._repr_mimebundle_(), raw=True, display_id=self.display_id)

    def publish(self) -> None:
        """Update the displayed output (its static snapshot) with the latest results."""
        if self.display_id is None:
            return
        from IPython import display as ipython_display

        update: Any = ipython_display.update_display
        update(self._repr_mimebundle_(), raw=True, display_id=self.display_id)

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the running job (for scripts and tests); True when none is running."""
        return self.runner.wait(timeout)

    def __repr__(self) -> str:
        return f"<workbench panel on {self.title}, {len(self.rows)} stages>"


def _text_of(html: str) -> str:
    import re
    from html import unescape

    return unescape(re.sub(r"<[^>]+>", "", html)).strip()


def build_panel(pipeline: PipelineArg = None, workload: Workload | str | None = None, *,
                workers: int = DEFAULT_WORKERS, samples: int = DEFAULT_SAMPLES) -> Panel:
    """The panel on the session's pipeline and workload; ``pipeline`` and ``workload``,
    when given, become the session's (``session.use``), as the panel's toggles and
    workload picker change the session's selection and workload."""
    from workbench.measure.config import MeasureConfig
    from workbench.notebook.session import current

    MeasureConfig(workers=workers, samples=samples)  # refuses bad values, naming them
    session = current()
    if pipeline is not None or workload is not None:
        session.use(pipeline=pipeline, workload=workload)
    return Panel(session, workers=workers, samples=samples)
