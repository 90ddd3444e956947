"""The decision log as its export shows it (``workbench decisions export``): the decisions
selected by stage and time, grouped per stage, each stage's on a time axis (oldest first)
and listed newest first, with which decision replaced which.

Data only: :mod:`workbench.render.timeline` draws the timeline (inline SVG) and the
self-contained page.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from workbench.decisions.record import DecisionRecord
from workbench.decisions.store import LogRead, parse_since

__all__ = ["LogView", "StageDecisions", "log_view", "on_time_axis"]


@dataclass(frozen=True)
class StageDecisions:
    """One stage's decisions: on the time axis (oldest first, each with its time as a
    POSIX timestamp) and as listed (newest first)."""

    stage: str
    timeline: tuple[tuple[DecisionRecord, float], ...]
    newest_first: tuple[DecisionRecord, ...]


@dataclass(frozen=True)
class LogView:
    """What the export of the log shows: the decisions ``shown`` of the ``total`` in the
    log (at ``source``, "" for records given directly), per stage, and which replaced
    which (``superseded``: id -> the id that replaced it)."""

    source: str
    shown: tuple[DecisionRecord, ...]
    total: int
    torn: tuple[int, ...]
    superseded: dict[str, str]
    stages: tuple[StageDecisions, ...]
    filters: str


def on_time_axis(records: Sequence[DecisionRecord]) -> tuple[tuple[DecisionRecord, float], ...]:
    """The records oldest first, each with its time as a POSIX timestamp."""
    ordered = sorted(records, key=lambda r: parse_since(r.created_at))
    return tuple((r, parse_since(r.created_at).timestamp()) for r in ordered)


def log_view(read: LogRead | Sequence[DecisionRecord], *, stage: str | None = None,
             since: datetime | None = None) -> LogView:
    """The decisions of ``stage`` made at or after ``since`` (both optional); ``read`` is
    a read of the log or the records themselves."""
    source = str(read.path) if isinstance(read, LogRead) else ""
    if not isinstance(read, LogRead):
        read = LogRead(Path(), tuple(read))
    shown = read.select(stage=stage, since=since)
    stages: dict[str, list[DecisionRecord]] = {}
    for r in shown:
        stages.setdefault(r.stage, []).append(r)
    filters = [f"stage {stage}" if stage is not None else "",
               f"since {since.isoformat()}" if since is not None else ""]
    return LogView(source, shown, len(read.records), read.torn, read.superseded_by(), tuple(
        StageDecisions(name, on_time_axis(records), tuple(sorted(
            records, key=lambda r: parse_since(r.created_at), reverse=True)))
        for name, records in stages.items()), ", ".join(f for f in filters if f))
