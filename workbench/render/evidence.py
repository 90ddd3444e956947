"""A decision's evidence drawn inside the decision: each piece (the comparison, a flame
graph, a memory track, ...) as its own rendering -- tables, the icicle, the RSS/heap chart
with the phases -- in a collapsed ``<details>`` under its headline, with what compaction
cut from it (:mod:`workbench.decisions.compaction`) said beside it. Inline HTML and SVG,
nothing fetched: the pieces' own renderers (:func:`workbench.render.body`) draw them."""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from markupsafe import Markup

if TYPE_CHECKING:
    from workbench.decisions.record import DecisionRecord

__all__ = ["EvidenceItem", "evidence_items", "evidence_lines"]

#: What a piece stored whole-but-packed says (compacted, and nothing needed cutting).
WHOLE = "stored in full: nothing needed cutting"


class EvidenceItem(NamedTuple):
    """One piece of a decision's evidence as drawn: its kind, headline, what was cut
    (sentences; empty when nothing was, or the record does not say) and its HTML."""

    kind: str
    headline: str
    cuts: tuple[str, ...]
    body: Markup


def _said(d: DecisionRecord, index: int) -> tuple[str, ...]:
    cuts = d.cuts(index)
    if cuts is None:
        return ()
    return tuple(c.text for c in cuts) or (WHOLE,)


def evidence_items(d: DecisionRecord) -> list[EvidenceItem]:
    """Every piece of ``d``'s evidence, drawn."""
    from workbench.render import body, headline

    return [EvidenceItem(e.kind, headline(e), _said(d, i), Markup(body(e)))
            for i, e in enumerate(d.evidence)]


def evidence_lines(d: DecisionRecord) -> list[str]:
    """The evidence in text: its kinds, then what was cut from each piece."""
    from workbench.render import headline

    lines = [f"evidence: {', '.join(e.kind for e in d.evidence) or 'none'}"]
    for i, e in enumerate(d.evidence):
        said = _said(d, i)
        if said and said != (WHOLE,):
            lines.append(f"  {headline(e)}")
            lines += [f"    compacted: {text}" for text in said]
    return lines
