"""From evidence to a decision record: the alternatives, the suggestion, the hotspot hint.

:func:`build_decision` is a pure function of the evidence it is given (the stage's
comparison, each variant's budget verdicts, any profiles) plus who decided and why; the
clock, the id and the author can be passed in, so tests are exact. The alternatives and
the hint are read from the evidence whole; the record embeds it compacted
(:mod:`.compaction`), with what was cut.

When a variant of the comparison recorded memo-table figures (the cached tier), the record
keeps its four cache conditions, each with its figure, held or not, whichever variant was
chosen or suggested: in the suggestion (``Suggestion.cache``, computed by the rule from
the comparison whole, before compaction), and in that variant's alternative (eligible
only when they hold; ``why`` names the ones that failed).
"""

from __future__ import annotations

import getpass
import uuid
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from workbench.decisions.compaction import RECORD_BUDGET, RECORD_MARGIN, compact_evidence
from workbench.decisions.hotspots import Hint, read_hotspot
from workbench.decisions.packing import packed_size
from workbench.decisions.record import (
    MAX_RATIONALE,
    Alternative,
    DecisionRecord,
    check_text,
)
from workbench.decisions.rule import REFERENCE, eligible, suggest
from workbench.errors import InvalidInputError
from workbench.subproc import git_output

if TYPE_CHECKING:
    from workbench.budget.check_result import Verdict
    from workbench.budget.rules import Rule
    from workbench.measure.comparison import Comparison
    from workbench.results import Result

__all__ = ["alternatives", "author", "build_decision", "hotspot_hint", "new_id",
           "pick_profiles"]


def new_id() -> str:
    """A fresh decision id: ``d-`` and 12 hex digits."""
    return "d-" + uuid.uuid4().hex[:12]


def author(directory: Path | None = None) -> str:
    """git's ``user.name`` (in ``directory``'s repository), else the OS user."""
    name = git_output("config", "user.name", cwd=directory, timeout=5)
    if name:
        return name
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "unknown"


def _figures(comparison: Comparison, variant: str) -> tuple[tuple[str, float | None], ...]:
    row = comparison.summary_json()["variants"].get(variant, {})

    def point(value: object) -> float | None:
        if isinstance(value, dict):
            value = value.get("value")
        return float(value) if isinstance(value, int | float) else None

    return (("p50_ns", point(row.get("p50_ns"))), ("p95_ns", point(row.get("p95_ns"))),
            ("p99_ns", point(row.get("p99_ns"))),
            ("throughput_items_per_s", point(row.get("throughput_items_per_s"))),
            ("peak_rss_bytes", point(row.get("peak_rss_bytes"))),
            ("speedup", point(row.get("speedup"))))


def alternatives(comparison: Comparison, verdicts: Mapping[str, Sequence[Verdict]],
                 ) -> tuple[Alternative, ...]:
    """Every variant of the comparison with its equivalence, eligibility, verdicts and
    figures."""
    out = []
    for r in comparison.results:
        eq = r.equivalence
        if r.variant == REFERENCE:
            same, detail = True, "the reference"
        elif eq is None:
            same, detail = None, "equivalence was not checked"
        else:
            same, detail = eq.equivalent, eq.detail
        own = tuple(verdicts.get(r.variant, ()))
        ok, why = eligible(comparison, r.variant, own)
        out.append(Alternative(r.variant, same, detail, ok, why, own,
                               _figures(comparison, r.variant)))
    return tuple(out)


def _rss_limit(rules: Sequence[Rule]) -> float | None:
    found = [r.value for r in rules if r.metric == "peak_rss" and r.kind == "absolute"]
    return min(found) if found else None


def _about(result: Result) -> tuple[str | None, str | None]:
    """The stage and variant a profile is of (its target, or for a profiler that keeps no
    target, e.g. a plugin's, its own ``stage`` and ``variant``), or Nones; a comparison
    is about every variant, so it is about none here."""
    if result.kind == "comparison":
        return None, None
    target = getattr(result, "target", None)
    if target is not None:
        return getattr(target, "name", None), getattr(target, "variant", None)
    return getattr(result, "stage", None), getattr(result, "variant", None)


def pick_profiles(profiles: Sequence[Result], stage: str | None = None,
                  kinds: Collection[str] | None = None) -> tuple[Result, ...]:
    """Of ``profiles`` (oldest first), per kind the one the hint reads and a decision
    keeps: the newest of the reference variant (pure: escalation starts from where its
    time goes), else the newest of any variant. With ``stage``, only profiles of that
    stage count; with ``kinds``, only results of those kinds. Comparisons and other
    results without a target are left out."""
    chosen: dict[str, Result] = {}
    for result in profiles:
        name, variant = _about(result)
        if name is None or (stage is not None and name != stage) or \
                (kinds is not None and result.kind not in kinds):
            continue
        held = chosen.get(result.kind)
        if held is None or variant == REFERENCE or _about(held)[1] != REFERENCE:
            chosen[result.kind] = result
    return tuple(chosen.values())


def hotspot_hint(comparison: Comparison | None, verdicts: Mapping[str, Sequence[Verdict]],
                 profiles: Sequence[Result] = (), *, repeats: float | None = None) -> Hint:
    """The hotspot hint of a stage, read from pure's verdicts and figures in
    ``comparison`` (None: not measured yet), the stage's ``profiles`` (oldest first;
    per kind :func:`pick_profiles`'s choice is read) and ``repeats``, the share of the
    workload's items that repeat an earlier one (None: not known)."""
    picked = {p.kind: p for p in pick_profiles(profiles)}
    pure = None if comparison is None else \
        next((r for r in comparison.results if r.variant == REFERENCE), None)
    peak = None
    if pure is not None and pure.measurement.peak_rss_kb is not None:
        peak = float(pure.measurement.peak_rss_kb * 1024)
    own = tuple(verdicts.get(REFERENCE, ()))
    return read_hotspot(verdicts=own, flame=picked.get("flamegraph"),  # type: ignore[arg-type]
                        memory=picked.get("memory_track"),  # type: ignore[arg-type]
                        peak_rss=peak, rss_limit=_rss_limit([v.rule for v in own]),
                        repeats=repeats)


def build_decision(*, stage: str, variant: str, rationale: str, pipeline: str,
                   comparison: Comparison, pipeline_name: str = "",
                   verdicts: Mapping[str, Sequence[Verdict]] | None = None,
                   order: Sequence[str] | None = None, profiles: Sequence[Result] = (),
                   limits: Sequence[Rule] = (), who: str | None = None,
                   decision_id: str | None = None,
                   clock: Callable[[], datetime] | None = None,
                   repeats: float | None = None) -> DecisionRecord:
    """The decision to use ``variant`` for ``stage``, on ``comparison`` (every variant of
    the stage, measured on one workload) and ``profiles`` of the stage (``repeats``: how
    often the workload's items repeat, for the hint). A variant that was not measured, or
    that differs from pure, is refused: the equivalence law holds for every choice."""
    rationale = check_text(rationale, "the rationale", limit=MAX_RATIONALE)
    if comparison.stage != stage:
        raise InvalidInputError(f"the comparison is of stage {comparison.stage!r}, not "
                                f"{stage!r}")
    if variant not in comparison.variants:
        raise InvalidInputError(f"variant {variant!r} of {stage} was not measured in the "
                                f"evidence; measured: {', '.join(comparison.variants)}")
    for other in profiles:
        target = getattr(other, "target", None)
        if target is not None and getattr(target, "name", stage) != stage:
            raise InvalidInputError(f"a {other.kind} of {target.label} is not evidence "
                                    f"about stage {stage!r}")
    verdicts = verdicts or {}
    alts = alternatives(comparison, verdicts)
    chosen = next(a for a in alts if a.variant == variant)
    if chosen.equivalent is False:
        raise InvalidInputError(
            f"{stage}/{variant} is not equivalent to pure on {comparison.workload} "
            f"({chosen.equivalence}); a variant that changes the results cannot be chosen")
    hint = hotspot_hint(comparison, verdicts, profiles, repeats=repeats)
    first = comparison.results[0].measurement
    sha = first.environment.get("git_sha")
    when = (clock or (lambda: datetime.now(UTC)))()
    bare = DecisionRecord(
        id=decision_id or new_id(), created_at=when.isoformat(timespec="seconds"),
        author=who or author(), pipeline=pipeline, workload=comparison.workload,
        stage=stage, variant=variant, rationale=rationale, alternatives=alts,
        suggestion=suggest(comparison, verdicts, order), hint=hint, limits=tuple(limits),
        git_sha=None if sha is None else str(sha), environment=dict(first.environment),
        pipeline_name=pipeline_name or pipeline)
    # the evidence gets what the rest of the record leaves of its size budget
    budget = RECORD_BUDGET - RECORD_MARGIN - packed_size(bare.to_json())
    evidence, cuts = compact_evidence((comparison, *profiles), max(budget, 0))
    return replace(bare, evidence=evidence, compaction=cuts)
