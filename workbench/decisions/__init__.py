"""Budget decisions: the record of which variant a stage uses, why, and on what evidence.

- :mod:`.record`: :class:`DecisionRecord` (a result, kind ``decision``) and its
  :class:`Alternative` per variant;
- :mod:`.rule`: the selection rule, :func:`suggest`;
- :mod:`.judging`: a comparison judged against the standing budgets, and the suggestion;
- :mod:`.hotspots`: the hotspot type read from the evidence and the decision table;
- :mod:`.evidence`: :func:`build_decision`, from evidence to a record;
- :mod:`.compaction`: the evidence made small enough to commit, and what was cut
  (:mod:`.folding`: the lossy steps; :mod:`.packing`: the lossless stored form);
- :mod:`.store`: :class:`DecisionLog`, the append-only JSON Lines log;
- :mod:`.budget_follow`: the budgets file updated to hold a decided variant;
- :mod:`.timeline`: what the export of the log shows (``workbench.render.timeline`` draws
  the page).

Submodules are not named like the functions exported here.
"""

from __future__ import annotations

from workbench.decisions.evidence import alternatives, author, build_decision, new_id
from workbench.decisions.hotspots import DECISION_TABLE, Hint, read_hotspot
from workbench.decisions.record import Alternative, DecisionRecord
from workbench.decisions.rule import NO_VARIANT, Suggestion, eligible, suggest
from workbench.decisions.store import DecisionLog, LogRead, parse_since

__all__ = [
    "DECISION_TABLE",
    "NO_VARIANT",
    "Alternative",
    "DecisionLog",
    "DecisionRecord",
    "Hint",
    "LogRead",
    "Suggestion",
    "alternatives",
    "author",
    "build_decision",
    "eligible",
    "new_id",
    "parse_since",
    "read_hotspot",
    "suggest",
]
