"""The panel: its areas composed into one widget, the state behind them, and its display.

:class:`Panel` builds the areas (:class:`~.controls.Controls`, :class:`~.rows.StageRows`,
:class:`~.tabs.ResultTabs`, :class:`~.decide.DecisionArea`), the background
:class:`~.tasks.Runner` and its jobs (:class:`~.jobs.Measuring`, :class:`~.jobs.Profiling`),
and wires what one area reports to the others: a toggle selects a variant in the session
and focuses its stage; a comparison (measured here, or by ``%wb compare``) is judged
against the standing budgets (``app.suggesting``) and shown in the rows, the Timing tab
and the suggestion. The decision area's hotspot hint reads the focused stage's comparison
and the session's profiles of it (``app.hinting.stage_profiles``: those the panel's buttons
took and those of ``%wb flame``/``%wb memory`` alike); it is read again when a profile of
the stage arrives: from a button's job, or, once the panel is displayed, after every cell
(the panel then syncs with the session: :meth:`Panel.sync`). Displayed, the panel carries
a static HTML snapshot beside the live widget (:mod:`.snapshot`) and updates it under its
display id whenever results arrive, so a saved or exported notebook shows the latest
results without widgets.
"""

from __future__ import annotations

import re
import uuid
import weakref
from collections.abc import Callable, Iterable
from html import unescape
from typing import TYPE_CHECKING, Any

from workbench._optional import require
from workbench.app import settings, suggesting, workspace
from workbench.app.hinting import hotspot_hint, stage_profiles
from workbench.app.views import panel_html
from workbench.errors import WorkbenchError
from workbench.notebook.panel.controls import DEFAULT_SAMPLES, DEFAULT_WORKERS, Controls
from workbench.notebook.panel.decide import DecisionArea
from workbench.notebook.panel.jobs import PANEL_LABEL, Measuring, Profiling
from workbench.notebook.panel.rows import StageRows
from workbench.notebook.panel.snapshot import RowState, Snapshot, plain
from workbench.notebook.panel.state import PanelState, StageState, problems
from workbench.notebook.panel.status import Status, budget_status, equivalence_status
from workbench.notebook.panel.tabs import ResultTabs
from workbench.notebook.panel.tasks import Runner

if TYPE_CHECKING:
    from workbench.app.workspace import PipelineArg
    from workbench.budget.standing import Budgets
    from workbench.measure.comparison import Comparison
    from workbench.notebook.session import Session
    from workbench.workloads import Workload

widgets: Any = require("ipywidgets", feature="the notebook panel", extra="notebook")

__all__ = ["DEFAULT_SAMPLES", "DEFAULT_WORKERS", "WIDGET_VIEW", "Panel", "build_panel"]

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def _workload_name(w: Workload | str) -> str:
    return w if isinstance(w, str) else w.name


def _text_of(html: str) -> str:
    return unescape(re.sub(r"<[^>]+>", "", html)).strip()


class Panel:
    """The panel's areas (``widget`` holds them all) and the state behind them. The
    widgets the user works with are also attributes of the panel (``rows``,
    ``measure_button``, ``status``, ...), as are the results it holds (``comparisons``,
    ``verdicts``, ``suggestions``, ``profiles``: :class:`~.state.PanelState`'s)."""

    def __init__(self, session: Session, *, workers: int = DEFAULT_WORKERS,
                 samples: int = DEFAULT_SAMPLES) -> None:
        self.session = session
        # resolving the pipeline registers its workloads (for the workload picker)
        self.pipeline, self.ref = workspace.resolve_pipeline(session.pipeline)
        self.state = PanelState()
        self.lock = self.state.lock
        self.comparisons, self.verdicts = self.state.comparisons, self.state.verdicts
        self.suggestions, self.profiles = self.state.suggestions, self.state.profiles
        self.display_id: str | None = None
        self.focus = self.pipeline.stage_names[0]
        self.stage_rows = StageRows(self.pipeline.stages, session.variant_of,
                                    on_select=self.select, on_focus=self.set_focus)
        self.rows = self.stage_rows.rows
        self.controls = Controls(session.workload, workers, samples, on_measure=self.measure,
                                 on_cancel=self.cancel, on_workload=self._workload_changed)
        self._expose(self.controls)
        self.tabs = ResultTabs(self.profile)
        self.decision = DecisionArea(self.record)
        self.runner = Runner(self._busy)
        self.measuring = Measuring(session, self.state, self.controls, self.runner,
                                   load_budgets=self._load_budgets, adopt=self.adopt,
                                   publish=self.publish)
        self.profiling = Profiling(session, self.state, self.controls, self.tabs,
                                   self.runner, publish=self.publish, arrived=self.arrived)
        c = self.controls
        self.widget = widgets.VBox([widgets.HTML(panel_html.head(self.title)), c.settings,
                                    c.warning, *self.stage_rows.boxes, c.run_bar, c.status,
                                    c.errors, self.tabs.tab, self.decision.box])
        self.widget.add_class("wb-panel")
        self._load_budgets()
        self.seen = 0  # how many of the session's results the panel has looked at
        self.watching = False  # syncing after every cell (once displayed in IPython)
        self.sync()
        self.set_focus(self.focus)

    def _expose(self, c: Controls) -> None:
        """The controls' widgets as the panel's own attributes (for scripts and tests)."""
        self.workload_picker, self.workers, self.samples = \
            c.workload_picker, c.workers, c.samples
        self.count_instructions = c.count_instructions
        self.measure_button, self.cancel_button, self.progress = \
            c.measure_button, c.cancel_button, c.progress
        self.status, self.errors = c.status, c.errors

    @property
    def title(self) -> str:
        return self.ref or f"<object>:{self.pipeline.name}"

    @property
    def workload(self) -> Workload | str:
        return self.controls.workload

    @property
    def budgets(self) -> Budgets | None:
        return self.state.budgets

    # -- what the rows and controls report ---------------------------------------------
    def select(self, stage: str, variant: str) -> None:
        """A toggle: the session's selection; the stage becomes the one to measure."""
        try:
            self.session.select({stage: variant})
        except WorkbenchError as exc:
            self.show_error(panel_html.error(f"cannot select {stage}={variant}", exc))
            self.rows[stage].set_variant(self.session.variant_of(stage))
            return
        self.rows[stage].measure.value = True
        self.set_focus(stage)

    def set_focus(self, stage: str) -> None:
        """The stage that profiles and decisions are about."""
        self.focus = stage
        self.stage_rows.set_focus(stage)
        self.refresh()

    def _workload_changed(self, change: dict[str, Any]) -> None:
        """The session's workload; its stored baseline, if any, for relative limits."""
        try:
            self.session.use(workload=change["new"])
        except WorkbenchError as exc:
            self.show_error(panel_html.error("cannot use that workload", exc))
        self._load_budgets()
        self.refresh()

    def _load_budgets(self) -> None:
        """The project's budgets file and the workload's stored baseline (if any)."""
        project, workload = self.session.project, _workload_name(self.workload)
        try:
            self.state.budgets = suggesting.standing_budgets(
                project.budgets_path, workload, pipeline=self.session.pipeline,
                baseline=suggesting.baseline_path(project.root, workload))
        except WorkbenchError as exc:
            self.state.budgets = None
            self.show_error(panel_html.error("budgets file not used", exc))

    def _busy(self, busy: bool, kind: str) -> None:
        self.controls.busy(busy, cancellable=kind == "measure")
        self.tabs.enable(not busy)

    # -- what the buttons do -------------------------------------------------------------
    def measure(self) -> bool:
        """Compare every variant of the ticked stages (the focused one if none is ticked)
        in the background; False if a job is already running or the settings are bad."""
        self.sync()
        return self.measuring.start(self.stage_rows.ticked() or [self.focus], self.workload)

    def cancel(self) -> None:
        self.measuring.cancel()

    def profile(self, kind: str) -> bool:
        """Profile the focused stage's selected variant in the background."""
        self.sync()
        return self.profiling.start(kind, self.focus, self.session.variant_of(self.focus),
                                    self.workload)

    def record(self) -> None:
        """Record the focused stage's selected variant in the project's decision log
        (:meth:`~.decide.DecisionArea.record`)."""
        self.sync()
        stage = self.focus
        if self.decision.record(self.session, stage, self.session.variant_of(stage),
                                self.known(stage)):
            self.publish()

    def known(self, stage: str) -> StageState:
        """What the panel knows of ``stage``, with the session's profiles of it that the
        hint reads and a decision keeps (per kind pure's newest, else the newest)."""
        return self.state.stage(stage, stage_profiles(
            (r for _, r in self.session.kept()), stage))

    def arrived(self, stage: str) -> None:
        """A profile of ``stage`` is in the session: the hint reads it if it is the
        focused stage's."""
        if stage == self.focus:
            self.refresh()

    # -- what the panel shows ------------------------------------------------------------
    def show_error(self, html: str) -> None:
        """Add an error (escaped HTML) to the error area; Measure clears it."""
        self.controls.show_error(html)

    def sync(self) -> None:
        """Take what happened elsewhere in the session: selections (``%wb select``) on
        the toggles, comparisons (``%wb compare``) as the last comparison of their stage,
        profiles (``%wb flame``) of the focused stage into its hint."""
        self.stage_rows.show_selection(self.session.variant_of)
        results = self.session.kept()
        new, self.seen = results[self.seen:], len(results)
        outside = [r for label, r in new if not label.startswith(PANEL_LABEL)]
        found = [r for r in outside if r.kind == "comparison"]
        if found:
            self.adopt(found)  # type: ignore[arg-type]
        elif stage_profiles(outside, self.focus):
            self.refresh()

    def adopt(self, comparisons: Iterable[Comparison]) -> None:
        """Take comparisons (measured here, or kept in the session by ``%wb compare``):
        their budget verdicts and suggestion, the rows, Timing tab and errors."""
        said: list[str] = []
        for comparison in comparisons:
            if comparison.stage not in self.rows:
                continue
            judged = suggesting.suggest_variant(
                comparison, self.state.budgets,
                order=self.pipeline.stage(comparison.stage).variant_names)
            self.state.take(comparison, judged.verdicts, judged.suggestion)
            said += problems(comparison, judged.verdicts)
        shown = self.state.shown()
        if shown:
            self.tabs.timing.value = panel_html.timing(shown)
        if said:
            self.show_error(panel_html.problems(said))
        self.refresh()

    def statuses(self, stage: str) -> tuple[Status, Status]:
        variant = self.session.variant_of(stage)
        known = self.state.stage(stage)
        return (equivalence_status(known.comparison, variant),
                budget_status(self.state.budgets, stage, variant, known.verdicts))

    def refresh(self) -> None:
        """Rows, fusion report, profile targets and the suggestion, from the state."""
        self.stage_rows.show(self.statuses)
        variant = self.session.variant_of(self.focus)
        self.tabs.set_target(self.focus, variant, _workload_name(self.workload))
        try:
            self.tabs.fusion.value = self.session.pipeline_object().fusion_report().to_html()
        except WorkbenchError as exc:
            self.tabs.fusion.value = panel_html.error("no fusion report", exc)
        known = self.known(self.focus)
        hint = None if known.comparison is None and not known.profiles else \
            hotspot_hint(known.comparison, known.verdicts or {}, known.profiles,
                         workload=self.workload, pipeline=self.session.pipeline_object())
        self.decision.show_suggestion(self.focus, variant, known.suggestion, hint)

    def snapshot(self) -> Snapshot:
        """What the panel shows now, for its static rendering."""
        rows = tuple(RowState(name, tuple(row.toggle.options), self.session.variant_of(name),
                              *self.statuses(name), focused=name == self.focus)
                     for name, row in self.rows.items())
        return Snapshot(f"workbench panel: {self.title} on {_workload_name(self.workload)}",
                        rows, _text_of(self.status.value), self.errors.value,
                        tuple(self.state.shown()), self.tabs.fusion.value,
                        self.state.all_profiles(), tuple(self.session.decisions))

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
        self.watch_cells()

    def watch_cells(self) -> bool:
        """Sync with the session after every cell of the running IPython (so a ``%wb``
        result shows without a click); True if watching. The hook holds the panel weakly
        and removes itself once the panel is gone."""
        from IPython import get_ipython

        shell: Any = get_ipython()
        if shell is None or self.watching:
            return self.watching
        ref = weakref.ref(self)

        def after_cell(*_: Any) -> None:
            panel = ref()
            if panel is None:
                shell.events.unregister("post_run_cell", after_cell)
                return
            try:
                panel.sync()
            except WorkbenchError as exc:
                panel.show_error(panel_html.error("cannot take the session's results", exc))

        shell.events.register("post_run_cell", after_cell)
        self.watching = True
        return True

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


def build_panel(pipeline: PipelineArg = None, workload: Workload | str | None = None, *,
                workers: int = DEFAULT_WORKERS, samples: int = DEFAULT_SAMPLES) -> Panel:
    """The panel on the session's pipeline and workload; ``pipeline`` and ``workload``,
    when given, become the session's (``session.use``), as the panel's toggles and
    workload picker change the session's selection and workload."""
    from workbench.notebook.session import current

    settings.MeasureConfig(workers=workers, samples=samples)  # refuses bad values, naming them
    session = current()
    if pipeline is not None or workload is not None:
        session.use(pipeline=pipeline, workload=workload)
    return Panel(session, workers=workers, samples=samples)
