"""One row of the panel per stage: its variants as toggle buttons, a "measure" checkbox,
the equivalence status and the budget status of the selected variant.

A row only holds widgets and reports what the user did (``on_select(stage, variant)``,
``on_focus(stage)``); the panel decides what that means for the session.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from html import escape
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets

from workbench.notebook.panel_status import NOT_MEASURED, Status

if TYPE_CHECKING:
    from workbench.stages import Stage

__all__ = ["StageRow", "header", "toggle_width"]

BUTTON = 97  # px per toggle button, with its margin


def toggle_width(stages: Sequence[Stage]) -> int:
    """Pixels for the widest stage's toggle buttons, so that the columns line up."""
    return BUTTON * max((len(s.variant_names) for s in stages), default=1)


def header(width: int) -> widgets.HTML:
    """Column titles above the rows (widths as in :class:`StageRow`)."""
    cells = (("stage", 110), ("variant (selected: the session's)", width), ("", 90),
             ("equivalence to pure", 150), ("budget (worst verdict)", 150))
    return widgets.HTML("<div style='display:flex;color:#555;font-size:12px'>" + "".join(
        f"<span style='width:{w}px;min-width:{w}px;margin-right:4px'>{t}</span>"
        for t, w in cells) + "</div>")


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
        marker = "&#9656; " if focused else ""
        weight = "700" if focused else "400"
        title = "the focused stage: profiles and decisions are about it" if focused else \
            "tick measure or toggle a variant to focus this stage"
        self.label.value = (f"<span style='font-weight:{weight}' title='{title}'>"
                            f"{marker}{escape(self.name)}</span>")

    def show(self, equivalence: Status, budget: Status) -> None:
        self.equivalence.value = equivalence.badge()
        self.budget.value = budget.badge()
