"""The panel's result tabs: Timing, Fusion, and one tab per profiler with its button.

- **Timing**: each measured stage's comparison (its table with intervals and its speed-up
  chart) and the latency ECDF (:func:`workbench.render.ecdf.latency_ecdf_svg`);
- **Fusion**: the fusion report of the session's current selection;
- **Flame graph**, **Memory**, **Lines**: a button that profiles the focused stage's
  selected variant (py-spy, memray, line_profiler; seconds each) and the result.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from html import escape
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets

from workbench.render.ecdf import latency_ecdf_svg

if TYPE_CHECKING:
    from workbench.measure.comparison import Comparison

__all__ = ["PROFILES", "ResultTabs", "timing_html"]

#: kind -> (tab title, button text, what it does, options for ``app.profile``)
PROFILES: dict[str, tuple[str, str, str, dict[str, Any]]] = {
    "flame": ("Flame graph", "Run flame graph", "py-spy samples about 1 s of calls",
              {"duration": 1.0}),
    "memory": ("Memory", "Run memory track", "memray tracks a warm-up call and 2 calls",
               {"calls": 2}),
    "lines": ("Lines", "Run line profile", "line_profiler times about 1 s of calls, line by "
              "line", {"duration": 1.0}),
}
NOT_YET = ("<p style='color:#555'>Nothing measured yet: choose the variants, tick "
           "<b>measure</b> on a stage (toggling a variant ticks it) and press <b>Measure</b>."
           "</p>")


def timing_html(comparisons: Sequence[Comparison]) -> str:
    """Each comparison's HTML fragment followed by its latency ECDF."""
    parts = []
    for c in comparisons:
        # the table is wider than a narrow notebook: it scrolls, the page does not
        parts.append(f"<div class='wb-panel-table' style='overflow-x:auto'>{c.to_html()}"
                     "</div>")
        parts.append(f"<div class='wb-panel-ecdf' style='overflow-x:auto'>"
                     f"{latency_ecdf_svg(c)}</div>")
    return "".join(parts) or NOT_YET


class ResultTabs:
    """The ``tab`` widget and its pages (``timing``, ``fusion``, and per profiler kind a
    ``buttons[kind]``, ``targets[kind]`` label and ``outputs[kind]``)."""

    def __init__(self, on_profile: Callable[[str], object]) -> None:
        self.timing = widgets.HTML(NOT_YET)
        self.timing.add_class("wb-panel-timing")
        self.fusion = widgets.HTML()
        self.fusion.add_class("wb-panel-fusion")
        self.buttons: dict[str, Any] = {}
        self.targets: dict[str, widgets.HTML] = {}
        self.outputs: dict[str, widgets.HTML] = {}
        pages: list[Any] = [self.timing, self.fusion]
        for kind, (_, text, _, _) in PROFILES.items():
            button = widgets.Button(description=text, icon="fire" if kind == "flame" else "",
                                    layout=widgets.Layout(width="auto"))
            button.add_class(f"wb-panel-profile-{kind}")
            button.on_click(lambda _b, k=kind: on_profile(k))
            self.buttons[kind] = button
            self.targets[kind] = widgets.HTML()
            self.targets[kind].add_class(f"wb-panel-{kind}-target")
            self.outputs[kind] = widgets.HTML("<p style='color:#555'>Not run yet.</p>")
            self.outputs[kind].add_class(f"wb-panel-{kind}-result")
            pages.append(widgets.VBox([widgets.HBox([button, self.targets[kind]]),
                                       self.outputs[kind]]))
        titles = ["Timing", "Fusion", *(p[0] for p in PROFILES.values())]
        self.tab: Any = widgets.Tab(children=pages, titles=titles)
        self.tab.add_class("wb-panel-tabs")

    def set_target(self, stage: str, variant: str, workload: str) -> None:
        """Say what the profile buttons will profile."""
        for kind, (_, _, what, _) in PROFILES.items():
            self.targets[kind].value = (
                f"<span style='margin-left:8px'><b>{escape(stage)}/{escape(variant)}</b> on "
                f"{escape(workload)}: {escape(what)}</span>")

    def running(self, kind: str) -> None:
        self.outputs[kind].value = "<p style='color:#555'>running ...</p>"
        self.tab.selected_index = 2 + list(PROFILES).index(kind)

    def enable(self, enabled: bool) -> None:
        for button in self.buttons.values():
            button.disabled = not enabled
