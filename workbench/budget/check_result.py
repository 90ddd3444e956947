"""What a budget check found: one :class:`Verdict` per rule and target, and the
:class:`CheckResult` that collects them (exit code; the result protocol of
:mod:`workbench.results`; drawn by :mod:`workbench.render.budget`).

How verdicts are reached is documented in :mod:`workbench.budget.verdict`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from workbench.budget.spec import Rule
from workbench.errors import InvalidInputError
from workbench.results import Result

if TYPE_CHECKING:
    from workbench.measure.sweep import Sweep

__all__ = [
    "CHECK_SCHEMA_VERSION",
    "STATUSES",
    "CheckResult",
    "ScalingObservation",
    "Status",
    "Verdict",
]

CHECK_SCHEMA_VERSION = 1
Status = Literal["pass", "breach", "inconclusive", "not-comparable", "no-baseline"]
STATUSES: tuple[Status, ...] = ("pass", "breach", "inconclusive", "not-comparable",
                                "no-baseline")
_UNDECIDED = ("inconclusive", "not-comparable", "no-baseline")


def _notes(value: Any) -> tuple[str, ...]:
    """A stored check's notes: a list of strings (absent: none)."""
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(n, str) for n in value):
        raise InvalidInputError(f"a budget check's notes must be a list of strings; "
                                f"got {value!r}")
    return tuple(value)


def _opt(value: Any) -> float | None:
    return None if value is None else float(value)


@dataclass(frozen=True, slots=True)
class ScalingObservation:
    """A stage/variant's log-log scaling exponent from a size sweep, with its interval."""

    stage: str
    variant: str
    workload: str | None
    slope: float
    low: float
    high: float
    confidence: float
    environment: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_sweep(cls, sweep: Sweep) -> tuple[ScalingObservation, ...]:
        """One observation per variant of ``sweep`` whose exponent could be fitted."""
        out = []
        for variant, fit in sweep.slopes.items():
            if fit is None:
                continue
            env: Mapping[str, Any] = {}
            if sweep.points:
                env = sweep.points[0][1].result(variant).measurement.environment
            out.append(cls(sweep.stage, variant, sweep.workload, fit.slope, fit.interval.low,
                           fit.interval.high, fit.interval.confidence, dict(env)))
        return tuple(out)

    def to_json(self) -> dict[str, Any]:
        return {"stage": self.stage, "variant": self.variant, "workload": self.workload,
                "slope": self.slope, "low": self.low, "high": self.high,
                "confidence": self.confidence, "environment": dict(self.environment)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ScalingObservation:
        try:
            return cls(str(data["stage"]), str(data["variant"]), data.get("workload"),
                       float(data["slope"]), float(data["low"]), float(data["high"]),
                       float(data["confidence"]), dict(data.get("environment") or {}))
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidInputError(
                f"malformed scaling observation ({exc!r}); expected stage, variant, workload, "
                "slope, low, high, confidence"
            ) from None


@dataclass(frozen=True, slots=True)
class Verdict:
    """The outcome of one rule on one measured target.

    ``observed`` (with ``observed_low``/``observed_high``) is the current value in canonical
    units; ``baseline`` the baseline's value for relative rules; ``ratio`` (with its
    interval) current/baseline for relative rules; ``confidence`` the interval's level
    (None for values without statistics, such as memory peaks). ``workers`` is the number
    of worker processes per side the verdict rests on, and ``look`` the look of a
    sequential check at which it was reached (1: the first measurement; see
    :mod:`workbench.budget.sequential`); both None where they do not apply.
    """

    rule: Rule
    status: Status
    workload: str | None
    message: str
    observed: float | None = None
    observed_low: float | None = None
    observed_high: float | None = None
    baseline: float | None = None
    ratio: float | None = None
    ratio_low: float | None = None
    ratio_high: float | None = None
    confidence: float | None = None
    workers: int | None = None
    look: int | None = None

    @property
    def target(self) -> str:
        return f"{self.rule.label}@{self.workload or '-'}"

    @property
    def blocking(self) -> bool:
        """An error-level breach: fails the check."""
        return self.status == "breach" and self.rule.level == "error"

    @property
    def undecided(self) -> bool:
        """An error-level rule the data could not decide (fails only a strict check)."""
        return self.status in _UNDECIDED and self.rule.level == "error"

    def to_json(self) -> dict[str, Any]:
        return {"rule": self.rule.to_json(), "status": self.status, "workload": self.workload,
                "message": self.message, "observed": self.observed,
                "observed_low": self.observed_low, "observed_high": self.observed_high,
                "baseline": self.baseline, "ratio": self.ratio, "ratio_low": self.ratio_low,
                "ratio_high": self.ratio_high, "confidence": self.confidence,
                "workers": self.workers, "look": self.look}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Verdict:
        status = data.get("status")
        if status not in STATUSES:
            raise InvalidInputError(f"verdict status {status!r} is unknown; expected one of: "
                                    + ", ".join(STATUSES))
        try:
            numbers: dict[str, Any] = {k: _opt(data.get(k)) for k in (
                "observed", "observed_low", "observed_high", "baseline", "ratio", "ratio_low",
                "ratio_high", "confidence")}
            counts = {k: None if data.get(k) is None else int(data[k])
                      for k in ("workers", "look")}
            return cls(Rule.from_json(data["rule"]), status, data.get("workload"),
                       str(data["message"]), **numbers, **counts)
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidInputError(f"malformed verdict JSON ({exc!r})") from None


@dataclass(frozen=True, slots=True)
class CheckResult(Result):
    """Every verdict of one budget check, with the settings that produced them."""

    kind: ClassVar[str] = "budget-check"
    schema_version: ClassVar[int] = CHECK_SCHEMA_VERSION

    verdicts: tuple[Verdict, ...]
    budgets_hash: str
    family_alpha: float = 0.05
    correction: str = "bonferroni"
    confidence: float = 0.95  # of each error-level interval, after the correction
    created_at: str = field(
        default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    against: str = ""  # what relative limits were judged against, in words ("": unsaid)
    notes: tuple[str, ...] = ()  # one line each, shown above the verdicts

    def exit_code(self, strict: bool = False) -> int:
        """1 on any error-level breach; else 2 if ``strict`` and an error-level rule was
        inconclusive, not comparable or had no baseline; else 0 (warn-level breaches pass)."""
        if any(v.blocking for v in self.verdicts):
            return 1
        if strict and any(v.undecided for v in self.verdicts):
            return 2
        return 0

    def count(self, status: Status) -> int:
        return sum(1 for v in self.verdicts if v.status == status)

    @property
    def breaches(self) -> tuple[Verdict, ...]:
        return tuple(v for v in self.verdicts if v.status == "breach")

    def _payload(self) -> dict[str, Any]:
        return {"budgets_hash": self.budgets_hash, "family_alpha": self.family_alpha,
                "correction": self.correction, "confidence": self.confidence,
                "created_at": self.created_at, "verdicts": [v.to_json() for v in self.verdicts],
                **({"against": self.against} if self.against else {}),
                **({"notes": list(self.notes)} if self.notes else {})}

    @classmethod
    def _from_payload(cls, data: Mapping[str, Any]) -> CheckResult:
        return cls(tuple(Verdict.from_json(v) for v in data["verdicts"]),
                   str(data["budgets_hash"]), float(data["family_alpha"]),
                   str(data["correction"]), float(data["confidence"]), str(data["created_at"]),
                   str(data.get("against") or ""), _notes(data.get("notes")))

    def summary_json(self) -> dict[str, Any]:
        """Counts per status, the exit codes (plain and ``--strict``) and the breaches."""
        return {"counts": {s: self.count(s) for s in STATUSES},
                "exit_code": self.exit_code(), "exit_code_strict": self.exit_code(strict=True),
                "breaches": [{"target": v.target, "metric": v.rule.metric,
                              "level": v.rule.level, "message": v.message}
                             for v in self.breaches]}
