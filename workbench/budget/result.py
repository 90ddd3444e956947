"""What a budget check found: one :class:`Verdict` per rule and target, and the
:class:`CheckResult` that collects them (exit code, JSON round trip, text and HTML).

How verdicts are reached is documented in :mod:`workbench.budget.verdict`.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from workbench.budget.spec import Rule
from workbench.budget.units import format_value
from workbench.errors import InvalidInputError

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
_COLORS = {"pass": "32", "breach": "31", "inconclusive": "33", "not-comparable": "35",
           "no-baseline": "36"}


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
    (None for values without statistics, such as memory peaks).
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
                "ratio_high": self.ratio_high, "confidence": self.confidence}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Verdict:
        status = data.get("status")
        if status not in STATUSES:
            raise InvalidInputError(f"verdict status {status!r} is unknown; expected one of: "
                                    + ", ".join(STATUSES))
        try:
            return cls(Rule.from_json(data["rule"]), status, data.get("workload"),
                       str(data["message"]), *(_opt(data.get(k)) for k in (
                           "observed", "observed_low", "observed_high", "baseline", "ratio",
                           "ratio_low", "ratio_high", "confidence")))
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidInputError(f"malformed verdict JSON ({exc!r})") from None

    def cells(self) -> tuple[str, ...]:
        kind = self.rule.info.kind
        observed = format_value(self.observed, kind)
        if self.observed_low is not None and self.observed_high is not None:
            observed += (f" [{format_value(self.observed_low, kind)}, "
                         f"{format_value(self.observed_high, kind)}]")
        ratio = "" if self.ratio is None else f"{self.ratio:.3g}x"
        if ratio and self.ratio_low is not None and self.ratio_high is not None:
            ratio += f" [{self.ratio_low:.3g}, {self.ratio_high:.3g}]"
        return (self.status, self.rule.level, self.target, self.rule.metric, observed,
                self.rule.limit_text(), ratio)


COLUMNS = ("status", "level", "target", "metric", "observed [CI]", "limit", "ratio [CI]")


@dataclass(frozen=True, slots=True)
class CheckResult:
    """Every verdict of one budget check, with the settings that produced them."""

    verdicts: tuple[Verdict, ...]
    budgets_hash: str
    family_alpha: float = 0.05
    correction: str = "bonferroni"
    confidence: float = 0.95  # of each error-level interval, after the correction
    created_at: str = field(
        default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))

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

    def to_json(self) -> dict[str, Any]:
        return {"schema_version": CHECK_SCHEMA_VERSION, "kind": "budget-check",
                "budgets_hash": self.budgets_hash, "family_alpha": self.family_alpha,
                "correction": self.correction, "confidence": self.confidence,
                "created_at": self.created_at, "verdicts": [v.to_json() for v in self.verdicts]}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> CheckResult:
        if data.get("kind") != "budget-check":
            raise InvalidInputError(f"not a budget check record (kind {data.get('kind')!r}); "
                                    "expected kind 'budget-check'")
        version = data.get("schema_version")
        if not isinstance(version, int) or not 1 <= version <= CHECK_SCHEMA_VERSION:
            raise InvalidInputError(f"budget check schema_version {version!r} is not supported; "
                                    f"this workbench reads versions 1..{CHECK_SCHEMA_VERSION}")
        try:
            return cls(tuple(Verdict.from_json(v) for v in data["verdicts"]),
                       str(data["budgets_hash"]), float(data["family_alpha"]),
                       str(data["correction"]), float(data["confidence"]),
                       str(data["created_at"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidInputError(f"malformed budget check JSON ({exc!r})") from None

    def dumps(self) -> str:
        return json.dumps(self.to_json(), indent=2)

    def summary_line(self) -> str:
        counts = ", ".join(f"{self.count(s)} {s}" for s in STATUSES if self.count(s))
        return (f"budget check: {len(self.verdicts)} verdicts ({counts or 'none'}); "
                f"error-level intervals at {100 * self.confidence:.3g}% "
                f"({self.correction}, family alpha {self.family_alpha:g}); "
                f"budgets {self.budgets_hash[:12]}")

    def to_text(self, color: bool = False) -> str:
        rows = [COLUMNS, *(v.cells() for v in self.verdicts)]
        widths = [max(len(r[i]) for r in rows) for i in range(len(COLUMNS))]
        lines = [self.summary_line()]
        for i, row in enumerate(rows):
            text = "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
            if color and i > 0:
                code = _COLORS[self.verdicts[i - 1].status]
                text = f"\x1b[{code}m{text}\x1b[0m"
            lines.append(text)
        lines.extend(f"  {v.status}: {v.target} {v.rule.metric}: {v.message}"
                     for v in self.verdicts)
        return "\n".join(lines)

    def to_html(self) -> str:
        head = "".join(f"<th>{html.escape(c)}</th>" for c in (*COLUMNS, "message"))
        body = "".join(
            f"<tr class='wb-{v.status}'>"
            + "".join(f"<td>{html.escape(c)}</td>" for c in (*v.cells(), v.message))
            + "</tr>"
            for v in self.verdicts
        )
        return (f"<div class='wb-budget-check'><p>{html.escape(self.summary_line())}</p>"
                f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>")

    def __str__(self) -> str:
        return self.to_text()

    def _repr_html_(self) -> str:
        return self.to_html()

