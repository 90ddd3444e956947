"""Renderings of a ``%%budget`` block: its status, its figures and its verdict table."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from markupsafe import Markup

from workbench import formatting as fmt
from workbench.render import Renderer
from workbench.render.budget import check_body, check_text
from workbench.render.fragments import render
from workbench.render.measure import how, measurement_body, measurement_headline, measurement_text

if TYPE_CHECKING:
    from workbench.budget.budgeted_block import BudgetedBlock

__all__ = ["RENDERERS"]

_WORDS = {"failed": "FAILED", "breach": "BREACH", "undecided": "UNDECIDED", "pass": "PASS",
          "measured": "MEASURED (no limits given)"}


def _status(b: BudgetedBlock) -> str:
    if b.status == "breach" and b.warn_only:
        return "BREACH (--warn: not raised)"
    return _WORDS[b.status]


def _against(b: BudgetedBlock) -> str:
    if b.against is None:
        return ""
    return f" against {b.against}"


def block_headline(b: BudgetedBlock) -> str:
    m = b.current
    figures = (f"p50 {fmt.estimate(m.summary().median)}, {how(m)}" if m.ok
               else f"FAILED: {m.error_text()}")
    return f"%%budget {b.name}: {_status(b)}{_against(b)}; {figures}"


def block_text(b: BudgetedBlock, **options: Any) -> str:
    parts = [block_headline(b)]
    if b.warning:
        parts.append(f"WARNING: {b.warning}")
    parts.append(measurement_text(b.current))
    if b.baseline is not None:
        parts.append(f"baseline ({b.against}): {measurement_headline(b.baseline)}")
    if b.check.verdicts:
        parts.append(check_text(b.check, **options))
    return "\n".join(parts)


def block_body(b: BudgetedBlock, **_: Any) -> str:
    return render("budget_block.html.j2", b=b, status=_status(b), css=f"wb-{b.status}",
                  against=_against(b),
                  current=Markup(measurement_body(b.current)),
                  baseline=None if b.baseline is None else measurement_headline(b.baseline),
                  check=Markup(check_body(b.check)) if b.check.verdicts else None)


RENDERERS = {"budget-block": Renderer(block_headline, block_text, block_body)}
