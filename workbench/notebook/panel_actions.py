"""What the panel's buttons do: measure (compare) the chosen stages, profile the focused
stage, record a decision. Measuring and profiling run in the panel's background
:class:`~.panel_tasks.Runner`; their results are judged against the budgets, kept in the
session and published to the panel's display.

A mixin of :class:`~workbench.notebook.panel_app.Panel`, which holds the widgets and state
declared below.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from html import escape
from typing import TYPE_CHECKING, Any

from workbench.decisions.rule import suggest
from workbench.errors import WorkbenchError
from workbench.notebook.panel_status import verdicts_by_variant
from workbench.notebook.panel_tabs import PROFILES, timing_html
from workbench.notebook.panel_tasks import Runner, error_html

if TYPE_CHECKING:
    from workbench.budget.result import Verdict
    from workbench.decisions.rule import Suggestion
    from workbench.measure.comparison import Comparison
    from workbench.measure.config import MeasureConfig
    from workbench.notebook.panel_controls import Controls
    from workbench.notebook.panel_decide import DecisionArea
    from workbench.notebook.panel_rows import StageRow
    from workbench.notebook.panel_status import Budgets
    from workbench.notebook.panel_tabs import ResultTabs
    from workbench.notebook.session import Session
    from workbench.pipeline import Pipeline
    from workbench.results import Result
    from workbench.workloads import Workload

__all__ = ["PANEL_LABEL", "Actions"]

#: How the panel labels the results it keeps in the session.
PANEL_LABEL = "panel: "


class Actions:
    session: Session
    pipeline: Pipeline
    lock: threading.RLock
    budgets: Budgets | None
    comparisons: dict[str, Comparison]
    verdicts: dict[str, dict[str, tuple[Verdict, ...]]]
    suggestions: dict[str, Suggestion]
    profiles: dict[tuple[str, str], Result]
    last_run: list[str]
    focus: str
    rows: dict[str, StageRow]
    tabs: ResultTabs
    decision: DecisionArea
    runner: Runner
    workers: Any
    samples: Any
    controls: Controls
    count_instructions: Any
    progress: Any
    status: Any
    errors: Any

    # provided by the panel
    @property
    def workload(self) -> Workload | str:
        raise NotImplementedError

    def show_error(self, html: str) -> None:
        raise NotImplementedError

    def refresh(self) -> None:
        raise NotImplementedError

    def publish(self) -> None:
        raise NotImplementedError

    def sync(self) -> None:
        raise NotImplementedError

    def _load_budgets(self) -> None:
        raise NotImplementedError

    # -- Measure -------------------------------------------------------------------------
    def measure(self) -> bool:
        """Compare every variant of the ticked stages (the focused one if none is ticked)
        in the background; False if a job is already running or the settings are bad."""
        from workbench.measure.config import MeasureConfig

        self.sync()
        stages = [name for name, row in self.rows.items() if row.measure.value] or [self.focus]
        try:
            config = MeasureConfig(workers=int(self.workers.value),
                                   samples=int(self.samples.value))
        except WorkbenchError as exc:
            self.show_error(error_html("cannot measure", exc))
            return False
        self.errors.value = ""
        self.progress.bar_style = "info"
        self.progress.max, self.progress.value = 1, 0
        self.status.value = f"measuring {escape(', '.join(stages))} ..."
        workload = self.workload
        metric = "instructions" if self.count_instructions.value else "time"
        return self.runner.start("measure",
                                 lambda: self._measure(stages, workload, config, metric),
                                 on_cancelled=self._cancelled,
                                 on_error=lambda exc: self._failed("Measure", exc))

    def _measure(self, stages: list[str], workload: Workload | str,
                 config: MeasureConfig, metric: str = "time") -> None:
        from workbench import app

        started = time.perf_counter()
        name = workload if isinstance(workload, str) else workload.name
        self._load_budgets()  # the file may have changed since
        with self.lock:
            self.last_run = []
        count = len(stages)
        for i, stage in enumerate(stages):
            def report(done: int, total: int, label: str, i: int = i) -> None:
                self.progress.max = max(1, total * count)
                self.progress.value = i * total + done
                self.status.value = (f"measuring {escape(label)}: {self.progress.value}/"
                                     f"{self.progress.max} worker runs")

            comparison = app.compare(stage, workload, pipeline=self.session.pipeline,
                                     config=config, progress=self.runner.progress(report),
                                     metric=metric)
            self.session.keep(f"{PANEL_LABEL}compare {stage} on {comparison.workload}",
                              comparison)
            self.adopt([comparison])
        self.progress.value = self.progress.max
        self.progress.bar_style = "success"
        self.publish()
        with self.lock:
            shown = [self.comparisons[s] for s in self.last_run if s in self.comparisons]
        warnings = tuple(dict.fromkeys(w for c in shown for w in c.warnings))
        self.controls.warn(warnings)
        caveat = " (see the warning: too few workers to decide without a model)" \
            if warnings else ""
        self.status.value = (f"measured {escape(', '.join(stages))} on {escape(name)}: "
                             f"{self.progress.max} worker runs, done in "
                             f"{time.perf_counter() - started:.1f} s{caveat}")

    def adopt(self, comparisons: Iterable[Comparison]) -> None:
        """Take comparisons (measured here, or kept in the session by ``%wb compare``):
        their budget verdicts and suggestion, the rows, Timing tab and errors."""
        problems: list[str] = []
        for comparison in comparisons:
            if comparison.stage not in self.rows:
                continue
            with self.lock:
                if comparison.stage not in self.last_run:
                    self.last_run.append(comparison.stage)
            verdicts = verdicts_by_variant(self.budgets, comparison) if self.budgets else {}
            order = self.pipeline.stage(comparison.stage).variant_names
            with self.lock:
                self.comparisons[comparison.stage] = comparison
                self.verdicts[comparison.stage] = verdicts
                self.suggestions[comparison.stage] = suggest(comparison, verdicts, order)
            problems += _problems(comparison, verdicts)
        with self.lock:
            shown = [self.comparisons[s] for s in self.last_run if s in self.comparisons]
        if shown:
            self.tabs.timing.value = timing_html(shown)
        if problems:
            self.show_error("".join(f"<div>{escape(p)}</div>" for p in problems))
        self.refresh()

    def cancel(self) -> None:
        if self.runner.busy:
            self.runner.cancel()
            self.status.value = "cancelling: stopping before the next worker process ..."

    def _cancelled(self) -> None:
        self.progress.bar_style = "warning"
        self.status.value = (f"cancelled after {self.progress.value}/{self.progress.max} "
                             "worker runs; the interrupted comparison was not kept")

    def _failed(self, what: str, exc: BaseException) -> None:
        self.progress.bar_style = "danger"
        self.status.value = f"{escape(what)} failed (see the error below)"
        self.show_error(error_html(f"{what} failed", exc))

    # -- profiles ------------------------------------------------------------------------
    def profile(self, kind: str) -> bool:
        """Profile the focused stage's selected variant in the background."""
        self.sync()
        stage, variant, workload = self.focus, self.session.variant_of(self.focus), \
            self.workload
        title, _, _, options = PROFILES[kind]
        self.tabs.running(kind)
        self.status.value = f"{escape(title)} of {escape(stage)}/{escape(variant)} ..."

        def job() -> None:
            from workbench import app

            result = app.profile(kind, stage, workload, variant,  # type: ignore[arg-type]
                                 pipeline=self.session.pipeline, **options)
            with self.lock:
                self.profiles[(stage, kind)] = result
            self.session.keep(f"{PANEL_LABEL}{kind} {stage}/{variant}", result)
            self.tabs.outputs[kind].value = result.to_html()
            self.publish()
            self.status.value = escape(result.summary_line())

        def failed(exc: BaseException) -> None:
            html = error_html(f"{title} of {stage}/{variant} failed", exc)
            self.tabs.outputs[kind].value = html
            self.status.value = f"{escape(title)} failed (see the error below)"
            self.show_error(html)

        return self.runner.start(kind, job, on_cancelled=lambda: None, on_error=failed)

    # -- decisions -----------------------------------------------------------------------
    def record(self) -> None:
        """Record the focused stage's selected variant in the project's decision log with
        the rationale (refused when empty) and the evidence: its comparison (refused
        before one: nothing is measured from here) and its profiles."""
        self.sync()
        stage, variant = self.focus, self.session.variant_of(self.focus)
        rationale = str(self.decision.rationale.value).strip()
        if not rationale:
            self.decision.refuse("not recorded: write a rationale first (why this variant, "
                                 "on what evidence); a decision without one is refused")
            return
        with self.lock:
            comparison = self.comparisons.get(stage)
            profiles = tuple(r for (s, _), r in self.profiles.items() if s == stage)
        if comparison is None:
            self.decision.refuse(f"not recorded: measure {stage} first (tick it and press "
                                 "Measure); a decision rests on a comparison of its variants")
            return
        try:
            done = self.session.decide(stage, variant, rationale,
                                       evidence=(comparison, *profiles))
        except WorkbenchError as exc:
            self.decision.refuse(f"not recorded: {exc}")
            return
        self.decision.confirm(done.record, tuple(self.session.decisions), str(done.log))
        self.publish()


def _problems(comparison: Comparison, verdicts: dict[str, tuple[Verdict, ...]]) -> list[str]:
    """Failed variants, non-equivalent outputs and budget breaches of a comparison."""
    out = []
    for r in comparison.results:
        label = f"{comparison.stage}/{r.variant}"
        if r.measurement.failures:
            out.append(f"{label} failed: {r.measurement.error_text()}")
        if r.equivalence is not None and not r.equivalence.equivalent:
            out.append(f"{label} is NOT equivalent to pure: {r.equivalence.detail}")
        for v in verdicts.get(r.variant, ()):
            if v.status == "breach":
                out.append(f"budget breach ({v.rule.level}) {label} {v.rule.metric} "
                           f"{v.rule.limit_text()}: {v.message}")
    return out
