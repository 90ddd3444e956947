"""The hotspot hint: what a comparison (with its budget verdicts) and the stage's profiles
say about where the time goes, as the decision table reads it. A hint the user may
disagree with, shown beside the suggestion (:mod:`workbench.app.suggesting`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from workbench.budget.check_result import Verdict
    from workbench.decisions.hotspots import Hint
    from workbench.measure.comparison import Comparison
    from workbench.results import Result

__all__ = ["hotspot_hint", "stage_profiles"]


def hotspot_hint(comparison: Comparison | None, verdicts: Mapping[str, Sequence[Verdict]],
                 profiles: Sequence[Result] = ()) -> Hint:
    """The hint for a stage, read from pure's verdicts and figures in ``comparison``
    (None before the stage is measured: the profiles alone) and the stage's profiles
    (oldest first; per kind pure's newest, else the newest of any variant)."""
    from workbench.decisions.evidence import hotspot_hint as hint

    return hint(comparison, verdicts, profiles)


def stage_profiles(results: Iterable[Result], stage: str) -> tuple[Result, ...]:
    """Of ``results`` (a session's, oldest first: the panel's and the magics' alike), the
    profiles of ``stage`` a hint reads and a decision keeps: per kind, pure's newest, else
    the newest of any variant."""
    from workbench.app.profiling import profilers
    from workbench.decisions.evidence import pick_profiles

    return pick_profiles(tuple(results), stage, {p.kind for p in profilers()})
