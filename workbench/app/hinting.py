"""The hotspot hint: what a comparison (with its budget verdicts) and the stage's profiles
say about where the time goes, as the decision table reads it. A hint the user may
disagree with, shown beside the suggestion (:mod:`workbench.app.suggesting`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from workbench.budget.check_result import Verdict
    from workbench.decisions.hotspots import Hint
    from workbench.measure.comparison import Comparison
    from workbench.results import Result

__all__ = ["hotspot_hint"]


def hotspot_hint(comparison: Comparison, verdicts: Mapping[str, Sequence[Verdict]],
                 profiles: Sequence[Result] = ()) -> Hint:
    """The hint for ``comparison``'s stage, read from pure's verdicts and figures and the
    stage's profiles (pure's preferred when there are several of a kind)."""
    from workbench.decisions.evidence import hotspot_hint as hint

    return hint(comparison, verdicts, profiles)
