"""The panel's controls: workload picker, workers and samples (with their defaults
stated, and a warning while the workers are too few to decide), "count instructions",
the Measure and Cancel buttons, the progress bar, the status line and the error area."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets

from workbench.app import settings, workloads
from workbench.app.views import panel_html
from workbench.errors import WorkbenchError
from workbench.notebook.namespace import user_namespace

if TYPE_CHECKING:
    from workbench.workloads import Workload

__all__ = ["DEFAULT_SAMPLES", "DEFAULT_WORKERS", "Controls", "workload_options"]

#: The fewest workers whose speed-ups can be decided without a model (5: the rank test on
#: worker medians at 1 %); fewer samples than the CLI's 15, to stay interactive.
DEFAULT_WORKERS = 5
DEFAULT_SAMPLES = 10


@dataclass(frozen=True)
class Variable:
    """A picker option: the notebook variable ``name``, made a workload when chosen."""

    name: str


def workload_options(current: Workload | str,
                     namespace: Mapping[str, Any] | None = None) -> list[tuple[str, Any]]:
    """(label with size, value) for every registered workload, ``current`` if it is not
    one of them (a ``NAME@N`` size or a Workload object), then the notebook's
    workload-shaped variables (lists, tuples, arrays, frames), each as what it holds."""
    from workbench.workloads import registered_workloads

    options: list[tuple[str, Any]] = [(f"{w.name} (size {w.size:,})", w.name)
                                      for w in registered_workloads()]
    name = current if isinstance(current, str) else current.name
    if all(value != current for _, value in options):
        size = "" if isinstance(current, str) else f" (size {current.size:,})"
        options.append((f"{name}{size}", current))
    options += [(f"{var} (notebook: {held})", Variable(var))
                for var, held in workloads.variables(namespace or {}) if var != name]
    return options


class Controls:
    """The widgets above the stage rows (``settings``, ``warning``) and below them
    (``run_bar``, ``status``, ``errors``)."""

    def __init__(self, workload: Workload | str, workers: int, samples: int, *,
                 on_measure: Callable[[], object], on_cancel: Callable[[], object],
                 on_workload: Callable[[dict[str, Any]], None]) -> None:
        self._errors_lock = threading.Lock()
        self._chosen: dict[str, tuple[int, Workload]] = {}  # variable -> (id, workload)
        self.workload_picker: Any = widgets.Dropdown(
            options=workload_options(workload, user_namespace()), value=workload,
            description="workload")
        self.workload_picker.observe(lambda change: self._picked(change, on_workload),
                                     names="value")
        self.workers: Any = widgets.BoundedIntText(value=workers, min=1, max=64,
                                                   description="workers",
                                                   layout=widgets.Layout(width="150px"))
        self.samples: Any = widgets.BoundedIntText(value=samples, min=1, max=10_000,
                                                   description="samples",
                                                   layout=widgets.Layout(width="150px"))
        note = widgets.HTML(panel_html.settings_note(DEFAULT_WORKERS, DEFAULT_SAMPLES))
        self.count_instructions: Any = widgets.Checkbox(
            value=False, description="count instructions", indent=False,
            tooltip="also count each variant's instructions per call under Valgrind's "
                    "Cachegrind (deterministic, on a simulated CPU; needs valgrind; slower)",
            layout=widgets.Layout(width="170px"))
        self.count_instructions.add_class("wb-panel-instructions")
        self.settings = widgets.HBox([self.workload_picker, self.workers, self.samples, note,
                                      self.count_instructions])
        self.warning: Any = widgets.HTML()
        self.warning.add_class("wb-panel-warning")
        self.workers.observe(lambda change: self.warn_workers(int(change["new"])),
                             names="value")
        self.warn_workers(workers)
        self._run_bar(on_measure, on_cancel)
        self.status: Any = widgets.HTML()
        self.status.add_class("wb-panel-state")
        self.errors: Any = widgets.HTML()
        self.errors.add_class("wb-panel-errors")

    def _run_bar(self, on_measure: Callable[[], object],
                 on_cancel: Callable[[], object]) -> None:
        self.measure_button: Any = widgets.Button(
            description="Measure", button_style="success", icon="play",
            tooltip="compare every variant of the ticked stages (or the focused one)")
        self.measure_button.add_class("wb-panel-measure")
        self.measure_button.on_click(lambda _b: on_measure())
        self.cancel_button: Any = widgets.Button(description="Cancel", disabled=True,
                                                 icon="stop")
        self.cancel_button.add_class("wb-panel-cancel")
        self.cancel_button.on_click(lambda _b: on_cancel())
        self.progress: Any = widgets.IntProgress(value=0, min=0, max=1, description="progress")
        self.progress.add_class("wb-panel-progress")
        self.run_bar = widgets.HBox([self.measure_button, self.cancel_button, self.progress])

    @property
    def workload(self) -> Workload | str:
        """The picked workload; a notebook variable becomes a value workload (once per
        value the variable holds)."""
        value: Workload | str | Variable = self.workload_picker.value
        if not isinstance(value, Variable):
            return value
        namespace = user_namespace()
        if value.name not in namespace:
            raise WorkbenchError(f"the notebook has no variable {value.name!r} any more")
        held = namespace[value.name]
        known = self._chosen.get(value.name)  # its Workload holds the value: ids stay apart
        if known is not None and known[0] == id(held):
            return known[1]
        chosen = workloads.from_namespace(value.name, {value.name: held}, value.name)
        if not isinstance(chosen, str):  # (a registered name needs no memo)
            self._chosen[value.name] = (id(held), chosen)
        return chosen

    def _picked(self, change: dict[str, Any],
                on_workload: Callable[[dict[str, Any]], None]) -> None:
        try:
            chosen = self.workload
        except WorkbenchError as exc:
            self.show_error(panel_html.error("cannot use that workload", exc))
            return
        on_workload({**change, "new": chosen})

    def warn(self, warnings: Sequence[str]) -> None:
        """Show ``warnings`` in the warning area; none clears it."""
        self.warning.value = panel_html.warnings(warnings)

    def warn_workers(self, workers: int) -> None:
        """Warn while the workers per variant are too few to decide without a model."""
        said = settings.workers_warning(workers, f"the panel's {workers} worker"
                                                 f"{'' if workers == 1 else 's'} per variant")
        self.warn(() if said is None else (said,))

    def show_error(self, html: str) -> None:
        """Add an error (escaped HTML) to the error area; Measure clears it."""
        with self._errors_lock:
            self.errors.value += panel_html.error_box(html)

    def clear_errors(self) -> None:
        with self._errors_lock:
            self.errors.value = ""

    def busy(self, busy: bool, cancellable: bool) -> None:
        self.measure_button.disabled = busy
        self.cancel_button.disabled = not (busy and cancellable)
        self.workload_picker.disabled = busy
        self.count_instructions.disabled = busy
