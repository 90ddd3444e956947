"""What the panel knows, shared by its areas and its background jobs: the standing budgets,
and per stage its last comparison with each variant's verdicts and the suggestion, and
the profiles its buttons took (shown in its tabs and its snapshot); which stages the last
Measure (or ``%wb compare``) showed.

The profiles a hint reads and a decision keeps are not the panel's own: they are the
session's (the panel's buttons and ``%wb flame``/``%wb memory`` keep theirs there), picked
by ``app.hinting.stage_profiles`` and passed to :meth:`PanelState.stage`.

Jobs write from the runner's thread while the widgets read, so every access goes through
one lock (``lock``, re-entrant).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from workbench.budget.check_result import Verdict
    from workbench.budget.standing import Budgets
    from workbench.decisions.rule import Suggestion
    from workbench.measure.comparison import Comparison
    from workbench.results import Result

__all__ = ["PanelState", "StageState", "problems"]

Verdicts = dict[str, tuple["Verdict", ...]]


@dataclass(frozen=True)
class StageState:
    """One stage as the panel knows it (None / empty before it is measured); ``profiles``
    are the session's profiles of the stage the hint reads and a decision keeps."""

    comparison: Comparison | None
    verdicts: Verdicts | None
    suggestion: Suggestion | None
    profiles: tuple[Result, ...]


class PanelState:
    """The panel's results (see the module docstring); the dictionaries are the panel's
    own (``panel.comparisons`` is ``state.comparisons``), read and written under ``lock``."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.budgets: Budgets | None = None
        self.comparisons: dict[str, Comparison] = {}
        self.verdicts: dict[str, Verdicts] = {}
        self.suggestions: dict[str, Suggestion] = {}
        self.profiles: dict[tuple[str, str], Result] = {}
        self.last_run: list[str] = []

    def new_run(self) -> None:
        """A Measure starts: the stages it measures replace those shown."""
        with self.lock:
            self.last_run.clear()

    def take(self, comparison: Comparison, verdicts: Verdicts,
             suggestion: Suggestion) -> None:
        """The stage's newest comparison, judged; the stage is shown."""
        stage = comparison.stage
        with self.lock:
            if stage not in self.last_run:
                self.last_run.append(stage)
            self.comparisons[stage] = comparison
            self.verdicts[stage] = verdicts
            self.suggestions[stage] = suggestion

    def shown(self) -> list[Comparison]:
        """The comparisons of the stages shown, in the order they were measured."""
        with self.lock:
            return [self.comparisons[s] for s in self.last_run if s in self.comparisons]

    def keep_profile(self, stage: str, kind: str, result: Result) -> None:
        """A profile the panel took: its tab and snapshot show it."""
        with self.lock:
            self.profiles[(stage, kind)] = result

    def stage(self, stage: str, profiles: tuple[Result, ...] = ()) -> StageState:
        """``stage``'s comparison, verdicts and suggestion, with ``profiles`` (the
        session's: see the module docstring)."""
        with self.lock:
            return StageState(self.comparisons.get(stage), self.verdicts.get(stage),
                              self.suggestions.get(stage), profiles)

    def all_profiles(self) -> tuple[Result, ...]:
        with self.lock:
            return tuple(self.profiles.values())


def problems(comparison: Comparison, verdicts: Verdicts) -> list[str]:
    """Failed variants, non-equivalent outputs and budget breaches of a comparison."""
    out = []
    for r in comparison.results:
        label = f"{comparison.stage}/{r.variant}"
        if r.measurement.failures:
            out.append(f"{label} failed: {r.measurement.error_text()}")
        if r.equivalence is not None and not r.equivalence.equivalent:
            out.append(f"{label} is NOT equivalent to pure: {r.equivalence.detail}")
        for v in verdicts.get(r.variant, ()):
            if v.status == "breach":
                out.append(f"budget breach ({v.rule.level}) {label} {v.rule.metric} "
                           f"{v.rule.limit_text()}: {v.message}")
    return out
