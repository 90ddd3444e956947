"""The history service: a stage's recorded values across checks, one trend per variant and
workload, with its level changes (steps)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from workbench.errors import InvalidInputError

if TYPE_CHECKING:
    from workbench.budget.history import Series
    from workbench.budget.steps import Step

__all__ = ["Trends", "trends"]


@dataclass(frozen=True)
class Trends:
    """One metric of one stage across checks: the whole ``series`` and its ``parts``
    (one per variant and workload, each with the steps found in it)."""

    stage: str
    metric: str
    series: Series
    parts: tuple[tuple[Series, Sequence[Step]], ...]

    def to_text(self) -> str:
        from workbench.budget.steps import trend_text

        if not self.parts:
            return trend_text(self.series, ())  # "no history"
        return "\n".join(trend_text(part, steps) for part, steps in self.parts)

    def to_json(self) -> str:
        from workbench.listings import history_json

        return history_json(self.parts, self.stage, self.metric)


def trends(db: Path, stage: str, metric: str, variant: str | None = None,
           workload: str | None = None) -> Trends:
    """``metric`` of ``stage`` (optionally one variant, one workload) as recorded in the
    history database ``db``; steps are looked for in parts of at least 4 points."""
    from workbench.budget.history import load_series
    from workbench.budget.steps import detect_steps

    if not db.is_file():
        raise InvalidInputError(f"history database {str(db)!r} does not exist; "
                                "`workbench check` creates it")
    series = load_series(db, stage, metric, variant, workload)
    parts = tuple((s, detect_steps(s.values) if len(s) >= 4 else ()) for s in series.split())
    return Trends(stage, metric, series, parts)
