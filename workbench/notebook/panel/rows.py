"""The panel's stage rows: per stage its variants as toggle buttons, a "measure" checkbox,
the equivalence status and the budget status of the selected variant, under a line of
column titles.

A row only holds widgets and reports what the user did (``on_select(stage, variant)``,
``on_focus(stage)``); the panel decides what that means for the session.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets

from workbench.app.views import panel_html
from workbench.notebook.panel.status import NOT_MEASURED, Status

if TYPE_CHECKING:
    from workbench.stages import Stage

__all__ = ["StageRow", "StageRows", "header", "toggle_width"]

BUTTON = 97  # px per toggle button, with its margin


def toggle_width(stages: Sequence[Stage]) -> int:
    """Pixels for the widest stage's toggle buttons, so that the columns line up."""
    return BUTTON * max((len(s.variant_names) for s in stages), default=1)


def header(width: int) -> widgets.HTML:
    """Column titles above the rows (widths as in :class:`StageRow`)."""
    cells = (("stage", 110), ("variant (selected: the session's)", width), ("", 90),
             ("equivalence to pure", 150), ("budget (worst verdict)", 150))
    return widgets.HTML(panel_html.header(cells))


class StageRow:
    """The widgets of one stage (``box`` holds them; classes ``wb-panel-row`` and
    ``wb-stage-<name>`` find it in a page)."""

    def __init__(self, stage: Stage, selected: str, *, width: int,
                 on_select: Callable[[str, str], None],
                 on_focus: Callable[[str], None]) -> None:
        self.name = stage.name
        self._on_select = on_select
        self._on_focus = on_focus
        self._quiet = False
        self.label = widgets.HTML(layout=widgets.Layout(width="110px"))
        self.toggle: Any = widgets.ToggleButtons(
            options=stage.variant_names, value=selected,
            tooltips=[stage.get(v).description or v for v in stage.variant_names],
            style={"button_width": f"{BUTTON - 5}px"}, layout=widgets.Layout(width=f"{width}px"))
        self.measure: Any = widgets.Checkbox(value=False, description="measure", indent=False,
                                             layout=widgets.Layout(width="90px"))
        self.equivalence = widgets.HTML(NOT_MEASURED.badge(),
                                        layout=widgets.Layout(min_width="150px"))
        self.budget = widgets.HTML(NOT_MEASURED.badge(),
                                   layout=widgets.Layout(min_width="150px"))
        self.box = widgets.HBox([self.label, self.toggle, self.measure, self.equivalence,
                                 self.budget], layout=widgets.Layout(align_items="center"))
        self.box.add_class("wb-panel-row")
        self.box.add_class(f"wb-stage-{stage.name}")
        self.set_focus(False)
        self.toggle.observe(self._toggled, names="value")
        self.measure.observe(self._checked, names="value")

    @property
    def variant(self) -> str:
        return str(self.toggle.value)

    def _toggled(self, change: dict[str, Any]) -> None:
        if not self._quiet:
            self._on_select(self.name, str(change["new"]))

    def _checked(self, change: dict[str, Any]) -> None:
        if change["new"] and not self._quiet:
            self._on_focus(self.name)

    def set_variant(self, variant: str) -> None:
        """Show ``variant`` as selected without reporting it as the user's choice."""
        if variant != self.toggle.value and variant in self.toggle.options:
            self._quiet = True
            try:
                self.toggle.value = variant
            finally:
                self._quiet = False

    def set_focus(self, focused: bool) -> None:
        self.label.value = panel_html.stage_label(self.name, focused)

    def show(self, equivalence: Status, budget: Status) -> None:
        self.equivalence.value = equivalence.badge()
        self.budget.value = budget.badge()


class StageRows:
    """Every stage's row (``rows``, by stage name) under the column titles (``header``)."""

    def __init__(self, stages: Sequence[Stage], selected: Callable[[str], str], *,
                 on_select: Callable[[str, str], None],
                 on_focus: Callable[[str], None]) -> None:
        width = toggle_width(stages)
        self.header = header(width)
        self.rows = {s.name: StageRow(s, selected(s.name), width=width, on_select=on_select,
                                      on_focus=on_focus) for s in stages}

    @property
    def boxes(self) -> list[Any]:
        return [self.header, *(r.box for r in self.rows.values())]

    def ticked(self) -> list[str]:
        """The stages whose "measure" box is ticked."""
        return [name for name, row in self.rows.items() if row.measure.value]

    def show_selection(self, selected: Callable[[str], str]) -> None:
        """Each row's selected variant (the session's), not reported as the user's."""
        for name, row in self.rows.items():
            row.set_variant(selected(name))

    def set_focus(self, stage: str) -> None:
        for name, row in self.rows.items():
            row.set_focus(name == stage)

    def show(self, statuses: Callable[[str], tuple[Status, Status]]) -> None:
        """Each row's equivalence and budget status."""
        for name, row in self.rows.items():
            row.show(*statuses(name))
