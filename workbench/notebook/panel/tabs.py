"""The panel's result tabs: Timing, Fusion, and one tab per profiler with its button.

- **Timing**: each measured stage's comparison (its table with intervals and its speed-up
  chart) and the latency ECDF (:func:`workbench.render.panel.timing`);
- **Fusion**: the fusion report of the session's current selection;
- **Flame graph**, **Memory**, **Lines**: a button that profiles the focused stage's
  selected variant (py-spy, memray, line_profiler; seconds each) and the result.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ipywidgets as widgets

from workbench.app.profiling import profilers
from workbench.app.views import panel_html

__all__ = ["ResultTabs", "profiles"]


def profiles() -> dict[str, tuple[str, str, str, dict[str, Any]]]:
    """Profiler name -> (tab title, button text, what it does, options for
    ``app.profile``), for every registered profiler."""
    return {p.name: (p.tab, p.button, p.what, dict(p.panel)) for p in profilers()}


class ResultTabs:
    """The ``tab`` widget and its pages (``timing``, ``fusion``, and per profiler kind a
    ``buttons[kind]``, ``targets[kind]`` label and ``outputs[kind]``)."""

    def __init__(self, on_profile: Callable[[str], object]) -> None:
        self.timing = widgets.HTML(panel_html.nothing_measured())
        self.timing.add_class("wb-panel-timing")
        self.fusion = widgets.HTML()
        self.fusion.add_class("wb-panel-fusion")
        self.buttons: dict[str, Any] = {}
        self.targets: dict[str, widgets.HTML] = {}
        self.outputs: dict[str, widgets.HTML] = {}
        pages: list[Any] = [self.timing, self.fusion]
        self.profiles = profiles()
        icons = {p.name: p.icon for p in profilers()}
        for kind, (_, text, _, _) in self.profiles.items():
            button = widgets.Button(description=text, icon=icons[kind],
                                    layout=widgets.Layout(width="auto"))
            button.add_class(f"wb-panel-profile-{kind}")
            button.on_click(lambda _b, k=kind: on_profile(k))
            self.buttons[kind] = button
            self.targets[kind] = widgets.HTML()
            self.targets[kind].add_class(f"wb-panel-{kind}-target")
            self.outputs[kind] = widgets.HTML(panel_html.note("Not run yet."))
            self.outputs[kind].add_class(f"wb-panel-{kind}-result")
            pages.append(widgets.VBox([widgets.HBox([button, self.targets[kind]]),
                                       self.outputs[kind]]))
        titles = ["Timing", "Fusion", *(p[0] for p in self.profiles.values())]
        self.tab: Any = widgets.Tab(children=pages, titles=titles)
        self.tab.add_class("wb-panel-tabs")

    def set_target(self, stage: str, variant: str, workload: str) -> None:
        """Say what the profile buttons will profile."""
        for kind, (_, _, what, _) in self.profiles.items():
            self.targets[kind].value = panel_html.profile_target(stage, variant, workload, what)

    def running(self, kind: str) -> None:
        self.outputs[kind].value = panel_html.note("running ...")
        self.tab.selected_index = 2 + list(self.profiles).index(kind)

    def enable(self, enabled: bool) -> None:
        for button in self.buttons.values():
            button.disabled = not enabled
