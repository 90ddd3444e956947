"""The panel's "Record decision" area: the suggested variant and the hotspot hint, a
rationale, a button, and the session's decisions once one is recorded in the project's
decision log (an empty rationale, or a stage not measured yet, is refused, visibly)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from html import escape
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets

if TYPE_CHECKING:
    from workbench.decisions.hotspots import Hint
    from workbench.decisions.record import DecisionRecord
    from workbench.decisions.rule import Suggestion

__all__ = ["DecisionArea", "decisions_html"]

EMPTY_RATIONALE = ("not recorded: write a rationale first (why this variant, on what "
                   "evidence); a decision without one is refused")


def decisions_html(decisions: Sequence[DecisionRecord]) -> str:
    """The session's decisions as a small table (newest last)."""
    if not decisions:
        return ""
    cell = "<td style='padding:2px 10px 2px 0;vertical-align:top'>"
    rows = "".join(
        f"<tr>{cell}{escape(d.stage)}</td>{cell}<b>{escape(d.variant)}</b></td>"
        f"{cell}{escape(d.suggestion.variant or 'none')}"
        f"{'' if d.followed_suggestion else ' (not followed)'}</td>"
        f"{cell}{escape(d.rationale)}</td>"
        f"{cell}{escape(', '.join(e.kind for e in d.evidence) or 'none')}</td>"
        f"{cell}{escape(d.created_at)} <code>{escape(d.id)}</code></td></tr>"
        for d in decisions)
    head = "".join(f"<th style='text-align:left;padding:2px 10px 2px 0'>{h}</th>" for h in
                   ("stage", "variant", "suggested", "rationale", "evidence", "recorded"))
    return ("<table class='wb-panel-decisions' style='border-collapse:collapse;font-size:12px'>"
            f"<thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>")


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
        self.box = widgets.VBox([widgets.HTML("<b>Record decision</b>"), self.suggestion,
                                 self.rationale, widgets.HBox([self.button]), self.feedback])

    def show_suggestion(self, stage: str, variant: str, suggestion: Suggestion | None,
                        hint: Hint | None = None) -> None:
        if suggestion is None:
            said = "measure this stage to get a suggestion"
        elif suggestion.variant is None:
            said = f"<b>none</b>: {escape(suggestion.reason)}"
        else:
            said = f"<b>{escape(suggestion.variant)}</b>: {escape(suggestion.reason)}"
        read = ""
        if hint is not None:
            kind = (f"<b>{escape(hint.type)}</b>: the decision table says "
                    f"{escape(hint.recommendation)}" if hint.type else escape(hint.recommendation))
            facts = "; ".join(hint.facts)
            read = (f"<div class='wb-panel-hint' title='{escape(facts)}'>Hotspot (a hint you "
                    f"may disagree with): {kind}</div>")
        self.suggestion.value = (f"<div>Stage <b>{escape(stage)}</b>, selected variant "
                                 f"<b>{escape(variant)}</b>. Suggested: {said}</div>{read}")

    def refuse(self, message: str) -> None:
        self.feedback.value = (f"<div class='wb-panel-refused' style='color:#9b1c1c'>"
                               f"{escape(message)}</div>")

    def confirm(self, decision: DecisionRecord, decisions: Sequence[DecisionRecord],
                where: str) -> None:
        followed = "following" if decision.followed_suggestion else "not following"
        self.feedback.value = (
            f"<div class='wb-panel-recorded' style='color:#1d6b2a'>Recorded: "
            f"{escape(decision.stage)} = {escape(decision.variant)} ({followed} the "
            f"suggestion {escape(decision.suggestion.variant or 'none')}), with "
            f"{len(decision.evidence)} result(s) as evidence, as {escape(decision.id)} in "
            f"{escape(where)}. Decisions in this session:</div>{decisions_html(decisions)}")
        self.rationale.value = ""
