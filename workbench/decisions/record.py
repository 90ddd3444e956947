"""A budget decision: which variant of a stage was chosen, why, and on what evidence.

A :class:`DecisionRecord` is a result (kind ``decision``) that stands alone: the evidence
it was chosen on (the comparison, budget verdicts, profiles) is embedded as result
records, beside a per-variant digest (:class:`Alternative`) that the log and the export
read without re-doing statistics. Records are never edited: a later decision on the same
pipeline and stage names the one it ``supersedes``.

Schema version 1 fields: ``id``, ``created_at`` (UTC), ``author``, ``pipeline`` (its
reference, ``module:function``, or ``<object>:NAME``), ``pipeline_name``,
``workload``, ``stage``, ``variant``, ``rationale``, ``alternatives``, ``suggestion``,
``hint``, ``evidence``, ``limits`` (the rules the chosen variant is held to),
``budgets_file`` (the budgets file updated with them, if any), ``git_sha``,
``environment`` and ``supersedes``.

Schema version 2 stores compacted evidence: a record built by
:func:`~workbench.decisions.evidence.build_decision` holds its evidence made small
(:mod:`.compaction`), each piece with the :class:`~.compaction.Cut` s that made it so
(``compaction``), and writes each such piece packed (:mod:`.packing`: lossless), with
its cuts in the piece's ``"compacted"`` object. Evidence without cuts recorded (a version
1 record's, or a record built directly) is written whole, as before.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Self

from workbench.budget.check_result import Verdict
from workbench.budget.rules import Rule
from workbench.decisions.compaction import Cut
from workbench.decisions.hotspots import Hint
from workbench.decisions.packing import pack, unpack
from workbench.decisions.rule import Suggestion
from workbench.errors import InvalidInputError
from workbench.results import Result, result_from_json

__all__ = ["FIGURES", "Alternative", "DecisionRecord", "check_text"]

#: The figures an alternative carries (ns, items/s, bytes; speed-up over pure).
FIGURES = ("p50_ns", "p95_ns", "p99_ns", "throughput_items_per_s", "peak_rss_bytes",
           "speedup")
#: The longest rationale (characters) a decision accepts.
MAX_RATIONALE = 100_000


def check_text(value: object, what: str, *, limit: int = 1000) -> str:
    """``value`` as a stripped, non-empty string of at most ``limit`` characters."""
    if not isinstance(value, str):
        raise InvalidInputError(f"{what} must be text; got {type(value).__name__} {value!r}")
    text = value.strip()
    if not text:
        raise InvalidInputError(f"{what} is empty; write what it should say")
    if len(text) > limit:
        raise InvalidInputError(f"{what} has {len(text):,} characters; at most {limit:,} "
                                "are accepted")
    if "\x00" in text:
        raise InvalidInputError(f"{what} contains a NUL character")
    return text


@dataclass(frozen=True, slots=True)
class Alternative:
    """One variant considered: its equivalence to pure, whether it was eligible (and why
    not), its budget verdicts and its figures from the comparison."""

    variant: str
    equivalent: bool | None  # None: not checked
    equivalence: str
    eligible: bool
    why: str
    verdicts: tuple[Verdict, ...] = ()
    figures: tuple[tuple[str, float | None], ...] = ()

    def figure(self, name: str) -> float | None:
        return dict(self.figures).get(name)

    def to_json(self) -> dict[str, Any]:
        return {"variant": self.variant, "equivalent": self.equivalent,
                "equivalence": self.equivalence, "eligible": self.eligible, "why": self.why,
                "verdicts": [v.to_json() for v in self.verdicts],
                "figures": dict(self.figures)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Alternative:
        eq = data["equivalent"]
        figures = data.get("figures", {})
        unknown = sorted(set(figures) - set(FIGURES))
        if unknown:
            raise InvalidInputError(f"unknown figures {unknown}; known: {', '.join(FIGURES)}")
        return cls(str(data["variant"]), None if eq is None else bool(eq),
                   str(data["equivalence"]), bool(data["eligible"]), str(data["why"]),
                   tuple(Verdict.from_json(v) for v in data.get("verdicts", ())),
                   tuple((k, None if figures[k] is None else float(figures[k]))
                         for k in FIGURES if k in figures))


@dataclass(frozen=True)
class DecisionRecord(Result):
    """One recorded decision (see the module docstring)."""

    kind: ClassVar[str] = "decision"
    schema_version: ClassVar[int] = 2

    id: str
    created_at: str
    author: str
    pipeline: str
    workload: str
    stage: str
    variant: str
    rationale: str
    alternatives: tuple[Alternative, ...]
    suggestion: Suggestion
    hint: Hint | None = None
    evidence: tuple[Result, ...] = ()
    limits: tuple[Rule, ...] = ()
    budgets_file: str | None = None
    git_sha: str | None = None
    environment: Mapping[str, Any] = field(default_factory=dict)
    supersedes: str | None = None
    pipeline_name: str = ""  # the Pipeline's own name (``pipeline`` is how it was named)
    #: Per piece of evidence, the cuts that compacted it (None: stored whole); empty for
    #: a record whose evidence was never compacted.
    compaction: tuple[tuple[Cut, ...] | None, ...] = ()

    def __post_init__(self) -> None:
        if self.compaction and len(self.compaction) != len(self.evidence):
            raise InvalidInputError(f"compaction names {len(self.compaction)} pieces of "
                                    f"evidence; the record holds {len(self.evidence)}")

    @property
    def followed_suggestion(self) -> bool:
        return self.suggestion.variant == self.variant

    @property
    def chosen(self) -> Alternative | None:
        return next((a for a in self.alternatives if a.variant == self.variant), None)

    def evidence_of(self, kind: str) -> tuple[Result, ...]:
        return tuple(e for e in self.evidence if e.kind == kind)

    def cuts(self, index: int) -> tuple[Cut, ...] | None:
        """The cuts that compacted evidence ``index`` (None: it is stored whole)."""
        return self.compaction[index] if self.compaction else None

    def _evidence_json(self) -> list[dict[str, Any]]:
        out = []
        for i, e in enumerate(self.evidence):
            cuts = self.cuts(i)
            record = e.to_json()
            out.append(record if cuts is None else pack(record, [c.to_json() for c in cuts]))
        return out

    def with_supersedes(self, earlier: str | None) -> DecisionRecord:
        from dataclasses import replace

        return replace(self, supersedes=earlier)

    def _payload(self) -> dict[str, Any]:
        return {
            # id, pipeline and stage lead, so the log finds them without parsing the rest
            "id": self.id, "created_at": self.created_at, "author": self.author,
            "pipeline": self.pipeline, "pipeline_name": self.pipeline_name,
            "workload": self.workload, "stage": self.stage,
            "variant": self.variant, "rationale": self.rationale,
            "alternatives": [a.to_json() for a in self.alternatives],
            "suggestion": self.suggestion.to_json(),
            "followed_suggestion": self.followed_suggestion,
            "hint": None if self.hint is None else self.hint.to_json(),
            "evidence": self._evidence_json(),
            "limits": [r.to_json() for r in self.limits],
            "budgets_file": self.budgets_file, "git_sha": self.git_sha,
            "environment": dict(self.environment), "supersedes": self.supersedes,
        }

    @classmethod
    def _from_payload(cls, data: Mapping[str, Any]) -> Self:
        hint, budgets, sha, sup = (data.get(k) for k in
                                   ("hint", "budgets_file", "git_sha", "supersedes"))
        environment = data.get("environment", {})
        if not isinstance(environment, Mapping):
            raise InvalidInputError(f"environment must be an object; got {environment!r}")
        evidence, compaction = _read_evidence(data.get("evidence", ()))
        return cls(
            id=str(data["id"]), created_at=str(data["created_at"]),
            author=str(data["author"]), pipeline=str(data["pipeline"]),
            workload=str(data["workload"]), stage=str(data["stage"]),
            variant=str(data["variant"]), rationale=str(data["rationale"]),
            alternatives=tuple(Alternative.from_json(a) for a in data["alternatives"]),
            suggestion=Suggestion.from_json(data["suggestion"]),
            hint=None if hint is None else Hint.from_json(hint),
            evidence=evidence, compaction=compaction,
            limits=tuple(Rule.from_json(r) for r in data.get("limits", ())),
            budgets_file=None if budgets is None else str(budgets),
            git_sha=None if sha is None else str(sha), environment=dict(environment),
            supersedes=None if sup is None else str(sup),
            pipeline_name=str(data.get("pipeline_name", "")),
        )


def _read_evidence(entries: object) -> tuple[tuple[Result, ...],
                                             tuple[tuple[Cut, ...] | None, ...]]:
    """The evidence of a stored record and the cuts of each piece (``()`` when no piece
    was compacted: a version 1 record)."""
    if not isinstance(entries, list | tuple):
        raise InvalidInputError(f"evidence must be a list; got {type(entries).__name__}")
    evidence, compaction = [], []
    for entry in entries:
        if not isinstance(entry, Mapping):
            raise InvalidInputError(f"a piece of evidence is a result record (an object); "
                                    f"got {type(entry).__name__}")
        record, cuts = unpack(entry)
        evidence.append(result_from_json(record))
        compaction.append(None if cuts is None else tuple(Cut.from_json(c) for c in cuts))
    packed = any(c is not None for c in compaction)
    return tuple(evidence), tuple(compaction) if packed else ()
