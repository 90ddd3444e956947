"""The panel's "Record decision" area: the suggested variant and the hotspot hint, a
rationale, a button, and the session's decisions once one is recorded in the project's
decision log (an empty rationale, or a stage not measured yet, is refused, visibly)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets

from workbench.app.views import panel_html
from workbench.errors import WorkbenchError

if TYPE_CHECKING:
    from workbench.decisions.hotspots import Hint
    from workbench.decisions.record import DecisionRecord
    from workbench.decisions.rule import Suggestion
    from workbench.notebook.panel.state import StageState
    from workbench.notebook.session import Session

__all__ = ["EMPTY_RATIONALE", "DecisionArea"]

EMPTY_RATIONALE = ("not recorded: write a rationale first (why this variant, on what "
                   "evidence); a decision without one is refused")


class DecisionArea:
    """``box`` holds the suggestion, the ``rationale`` Textarea, the ``button`` and the
    ``feedback`` (refusals, the confirmation with the session's decisions)."""

    def __init__(self, on_record: Callable[[], None]) -> None:
        self.suggestion = widgets.HTML()
        self.suggestion.add_class("wb-panel-suggestion")
        self.rationale: Any = widgets.Textarea(
            placeholder="Why this variant? (required: what the evidence shows)",
            layout=widgets.Layout(width="600px", height="64px"))
        self.rationale.add_class("wb-panel-rationale")
        self.button: Any = widgets.Button(description="Record decision",
                                          button_style="primary",
                                          layout=widgets.Layout(width="auto"))
        self.button.add_class("wb-panel-record")
        self.button.on_click(lambda _b: on_record())
        self.feedback = widgets.HTML()
        self.feedback.add_class("wb-panel-feedback")
        self.box = widgets.VBox([widgets.HTML(panel_html.decide_title()), self.suggestion,
                                 self.rationale, widgets.HBox([self.button]), self.feedback])

    def show_suggestion(self, stage: str, variant: str, suggestion: Suggestion | None,
                        hint: Hint | None = None) -> None:
        self.suggestion.value = panel_html.suggestion(stage, variant, suggestion, hint)

    def refuse(self, message: str) -> None:
        self.feedback.value = panel_html.refused(message)

    def confirm(self, decision: DecisionRecord, decisions: Sequence[DecisionRecord],
                where: str) -> None:
        self.feedback.value = panel_html.recorded(decision, decisions, where)
        self.rationale.value = ""

    def record(self, session: Session, stage: str, variant: str, known: StageState) -> bool:
        """Record ``stage``'s ``variant`` in the project's decision log with the rationale
        (refused when empty) and the evidence: the stage's comparison (refused before
        one: nothing is measured from here) and its profiles. True once recorded."""
        rationale = str(self.rationale.value).strip()
        if not rationale:
            self.refuse(EMPTY_RATIONALE)
            return False
        if known.comparison is None:
            self.refuse(f"not recorded: measure {stage} first (tick it and press Measure); "
                        "a decision rests on a comparison of its variants")
            return False
        try:
            done = session.decide(stage, variant, rationale,
                                  evidence=(known.comparison, *known.profiles))
        except WorkbenchError as exc:
            self.refuse(f"not recorded: {exc}")
            return False
        self.confirm(done.record, tuple(session.decisions), str(done.log))
        return True
