"""A report run's ``summary.json``: what ran, how it ended, and per stage and variant the
figures, verdicts and decisions, read from the result records the notebooks displayed.

Every workbench result a notebook shows carries its JSON record
(``application/vnd.workbench.KIND+json``), so the summary is read from the executed
notebooks themselves: nothing is measured twice and nothing passes between notebooks.
A record that cannot be read is named in ``notes``, never fatal.

:func:`read_summary` reads a stored ``summary.json`` back for the reports index and
refuses (naming the file) anything that is not one.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from workbench.errors import InvalidInputError
from workbench.results import Result, result_from_json

__all__ = ["SCHEMA_VERSION", "STATUSES", "notebook_records", "read_summary", "stage_summary"]

SCHEMA_VERSION = 1
#: A run's (and a notebook's) status: still running, all passed, an error-level budget
#: breach, a notebook that failed to execute.
STATUSES = ("running", "pass", "breach", "failed")
_MIME = re.compile(r"^application/vnd\.workbench\.([\w-]+)\+json$")


def notebook_records(nb: Any, notes: list[str], where: str) -> Iterator[Result]:
    """Every workbench result record displayed in the executed notebook ``nb``."""
    for cell in nb.get("cells", []):
        for output in cell.get("outputs", []):
            for mime, data in output.get("data", {}).items():
                if not _MIME.match(mime):
                    continue
                try:
                    yield result_from_json(data)
                except InvalidInputError as exc:
                    notes.append(f"{where}: a {mime} output was not read: {exc}")


def _verdict(v: Any) -> dict[str, Any]:
    return {"metric": v.rule.metric, "limit": v.rule.limit_text(), "level": v.rule.level,
            "status": v.status, "observed": v.observed, "ratio": v.ratio,
            "workload": v.workload, "message": v.message}


def _entry(stages: dict[str, Any], stage: str, variant: str | None = None) -> dict[str, Any]:
    entry: dict[str, Any] = stages.setdefault(stage, {
        "variants": {}, "suggested": None, "decided": None, "share": None, "profiles": []})
    if variant is not None:
        entry["variants"].setdefault(variant, {"figures": None, "verdicts": []})
    return entry


def stage_summary(records: Sequence[Result], decided: Mapping[str, Any]) -> dict[str, Any]:
    """Per stage: its variants' figures (from comparisons) and verdicts (from budget
    checks), the suggested variant, its share of the time, its profiles and its current
    decision (``decided``: stage -> DecisionRecord)."""
    from workbench.budget.check_result import CheckResult
    from workbench.measure.comparison import Comparison
    from workbench.profile import Flamegraph, LineProfile, MemoryTrack
    from workbench.reporting.choices import StageChoices
    from workbench.reporting.shares import StageShares

    stages: dict[str, Any] = {}
    for r in records:
        if isinstance(r, Comparison):
            for variant, figures in (r.summary_json() or {}).get("variants", {}).items():
                _entry(stages, r.stage, variant)["variants"][variant]["figures"] = figures
        elif isinstance(r, CheckResult):
            for v in r.verdicts:
                if "*" not in (v.rule.stage, v.rule.variant):
                    slot = _entry(stages, v.rule.stage, v.rule.variant)["variants"]
                    slot[v.rule.variant]["verdicts"].append(_verdict(v))
                    if v.rule.metric == "latency_p50" and v.observed is not None \
                            and slot[v.rule.variant]["figures"] is None:
                        # no comparison of the stage in the run: the check's own median
                        # (its interval is at the check's corrected confidence, not 95 %)
                        slot[v.rule.variant]["figures"] = {"p50_ns": {"value": v.observed,
                                                                      "interval": None}}
        elif isinstance(r, StageChoices):
            for c in r.choices:
                _entry(stages, c.stage)["suggested"] = {"variant": c.suggested,
                                                        "reason": c.reason}
        elif isinstance(r, StageShares):
            for s in r.stages:
                _entry(stages, s.stage)["share"] = {"variant": s.variant, "share": s.share,
                                                    "seconds": s.seconds}
        elif isinstance(r, Flamegraph | MemoryTrack | LineProfile):
            _entry(stages, r.target.name)["profiles"].append(
                {"kind": r.kind, "variant": r.target.variant, "headline": r.summary_line()})
    for stage, record in decided.items():
        _entry(stages, stage)["decided"] = {
            "variant": record.variant, "id": record.id, "created_at": record.created_at,
            "author": record.author, "followed_suggestion": record.followed_suggestion}
    return stages


def _check(data: object, path: Path) -> dict[str, Any]:
    def bad(why: str) -> InvalidInputError:
        return InvalidInputError(f"{path}: not a workbench report summary ({why})")

    if not isinstance(data, dict):
        raise bad(f"a JSON object is expected, got {type(data).__name__}")
    if data.get("kind") != "report":
        raise bad(f"kind {data.get('kind')!r}, expected 'report'")
    version = data.get("schema_version")
    if version != SCHEMA_VERSION:
        raise bad(f"schema_version {version!r}; this workbench reads {SCHEMA_VERSION}")
    if data.get("status") not in STATUSES:
        raise bad(f"status {data.get('status')!r}; expected one of {', '.join(STATUSES)}")
    for key, kind in (("id", str), ("created_at", str), ("notebooks", list),
                      ("breaches", list)):
        if not isinstance(data.get(key), kind):
            raise bad(f"{key!r} must be a {kind.__name__}")
    for nb in data["notebooks"]:
        if not (isinstance(nb, dict) and isinstance(nb.get("name"), str)
                and nb.get("status") in (*STATUSES, "pending")):
            raise bad(f"a notebook entry is malformed: {str(nb)[:80]}")
    return data


def read_summary(path: Path) -> dict[str, Any]:
    """The summary at ``path``, checked (see the module docstring)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInputError(f"{path}: cannot read it: {exc}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInputError(f"{path}: not a workbench report summary (invalid JSON: "
                                f"{exc.msg} at line {exc.lineno})") from None
    return _check(data, path)
