"""What the panel's Measure, Cancel and profile buttons do, in its background
:class:`~.tasks.Runner`: compare every variant of the chosen stages (``app.compare``), or
profile the focused stage's selected variant (``app.profile``). Every result is kept in
the session; a comparison goes to the panel to be judged and shown (``adopt``), a profile
to the panel's tab and then to the panel (``arrived``: the decision area reads it for its
hint), and the panel's display is updated (``publish``). A profile runs with the options
its profiler declares for the panel (the flame graph: about 1 s with py-spy's ``--native``,
so its hint can split Python from C time; where py-spy cannot, it samples without and
says so).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from html import escape
from typing import TYPE_CHECKING

from workbench import app
from workbench.app import settings
from workbench.app.views import panel_html
from workbench.errors import WorkbenchError
from workbench.notebook.panel.tabs import profiles

if TYPE_CHECKING:
    from workbench.measure.comparison import Comparison
    from workbench.measure.config import MeasureConfig
    from workbench.notebook.panel.controls import Controls
    from workbench.notebook.panel.state import PanelState
    from workbench.notebook.panel.tabs import ResultTabs
    from workbench.notebook.panel.tasks import Runner
    from workbench.notebook.session import Session
    from workbench.workloads import Workload

__all__ = ["PANEL_LABEL", "Measuring", "Profiling"]

#: How the panel labels the results it keeps in the session.
PANEL_LABEL = "panel: "


def _name(workload: Workload | str) -> str:
    return workload if isinstance(workload, str) else workload.name


class Measuring:
    """Measure and Cancel: the comparisons of the chosen stages, one after the other, with
    the progress bar, the status line and the warning area of ``controls``."""

    def __init__(self, session: Session, state: PanelState, controls: Controls,
                 runner: Runner, *, load_budgets: Callable[[], None],
                 adopt: Callable[[Sequence[Comparison]], None],
                 publish: Callable[[], None]) -> None:
        self.session, self.state, self.controls, self.runner = session, state, controls, runner
        self._load_budgets, self._adopt, self._publish = load_budgets, adopt, publish

    def start(self, stages: list[str], workload: Workload | str) -> bool:
        """Compare every variant of ``stages`` in the background; False if a job is
        already running or the settings are bad."""
        c = self.controls
        try:
            config = settings.MeasureConfig(workers=int(c.workers.value),
                                            samples=int(c.samples.value))
        except WorkbenchError as exc:
            c.show_error(panel_html.error("cannot measure", exc))
            return False
        c.clear_errors()
        c.progress.bar_style = "info"
        c.progress.max, c.progress.value = 1, 0
        c.status.value = f"measuring {escape(', '.join(stages))} ..."
        metric = "instructions" if c.count_instructions.value else "time"
        return self.runner.start("measure",
                                 lambda: self._run(stages, workload, config, metric),
                                 on_cancelled=self._cancelled, on_error=self._failed)

    def _run(self, stages: list[str], workload: Workload | str, config: MeasureConfig,
             metric: str) -> None:
        started = time.perf_counter()
        progress, status = self.controls.progress, self.controls.status
        self._load_budgets()  # the file may have changed since
        self.state.new_run()
        count = len(stages)
        for i, stage in enumerate(stages):
            def report(done: int, total: int, label: str, i: int = i) -> None:
                progress.max = max(1, total * count)
                progress.value = i * total + done
                status.value = (f"measuring {escape(label)}: {progress.value}/"
                                f"{progress.max} worker runs")

            comparison = app.compare(stage, workload, pipeline=self.session.pipeline,
                                     config=config, progress=self.runner.progress(report),
                                     metric=metric)
            self.session.keep(f"{PANEL_LABEL}compare {stage} on {comparison.workload}",
                              comparison)
            self._adopt([comparison])
        progress.value = progress.max
        progress.bar_style = "success"
        self._publish()
        warnings = tuple(dict.fromkeys(w for c in self.state.shown() for w in c.warnings))
        self.controls.warn(warnings)
        caveat = " (see the warning: too few workers to decide without a model)" \
            if warnings else ""
        status.value = (f"measured {escape(', '.join(stages))} on {escape(_name(workload))}: "
                        f"{progress.max} worker runs, done in "
                        f"{time.perf_counter() - started:.1f} s{caveat}")

    def cancel(self) -> None:
        if self.runner.busy:
            self.runner.cancel()
            self.controls.status.value = ("cancelling: stopping before the next worker "
                                          "process ...")

    def _cancelled(self) -> None:
        progress = self.controls.progress
        progress.bar_style = "warning"
        self.controls.status.value = (f"cancelled after {progress.value}/{progress.max} "
                                      "worker runs; the interrupted comparison was not kept")

    def _failed(self, exc: BaseException) -> None:
        self.controls.progress.bar_style = "danger"
        self.controls.status.value = "Measure failed (see the error below)"
        self.controls.show_error(panel_html.error("Measure failed", exc))


class Profiling:
    """A profile button: a flame graph, memory track or line profile of one variant,
    shown in its tab (a failure there and in the error area)."""

    def __init__(self, session: Session, state: PanelState, controls: Controls,
                 tabs: ResultTabs, runner: Runner, *, publish: Callable[[], None],
                 arrived: Callable[[str], None] = lambda stage: None) -> None:
        self.session, self.state, self.controls = session, state, controls
        self.tabs, self.runner, self._publish = tabs, runner, publish
        self._arrived = arrived

    def start(self, kind: str, stage: str, variant: str, workload: Workload | str) -> bool:
        """Profile ``stage``'s ``variant`` in the background; False if a job is running."""
        title, _, _, options = profiles()[kind]
        output, status = self.tabs.outputs[kind], self.controls.status
        self.tabs.running(kind)
        status.value = f"{escape(title)} of {escape(stage)}/{escape(variant)} ..."

        def job() -> None:
            result = app.profile(kind, stage, workload, variant,
                                 pipeline=self.session.pipeline, **options)
            self.state.keep_profile(stage, kind, result)
            self.session.keep(f"{PANEL_LABEL}{kind} {stage}/{variant}", result)
            output.value = result.to_html()
            self._arrived(stage)
            self._publish()
            status.value = escape(result.summary_line())

        def failed(exc: BaseException) -> None:
            html = panel_html.error(f"{title} of {stage}/{variant} failed", exc)
            output.value = html
            status.value = f"{escape(title)} failed (see the error below)"
            self.controls.show_error(html)

        return self.runner.start(kind, job, on_cancelled=lambda: None, on_error=failed)
