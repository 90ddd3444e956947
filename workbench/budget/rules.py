"""The vocabulary of budgets: metrics (kind and direction), levels and :class:`Rule`.

The grammar that produces rules is documented in :mod:`workbench.budget.spec`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from workbench import formatting as fmt
from workbench.errors import InvalidInputError
from workbench.measure import metrics

__all__ = ["ALL", "DEFAULT_VARIANT", "LEVELS", "METRICS", "Direction", "LimitKind",
           "MetricInfo", "Rule"]

DEFAULT_VARIANT = "pure"
LEVELS = ("error", "warn")
Direction = metrics.Direction
LimitKind = Literal["relative", "absolute"]


#: What a budget may limit: the registered metrics (:mod:`workbench.measure.metrics`).
METRICS = metrics.METRICS
MetricInfo = metrics.Metric
ALL = "*"  # every stage, or every variant


@dataclass(frozen=True, slots=True)
class Rule:
    """One limit on one metric of one stage/variant (``"*"``: every stage or variant)."""

    stage: str
    variant: str
    metric: str
    kind: LimitKind
    value: float  # ratio (relative) or canonical units: ns, bytes, items/s, exponent
    level: str = "error"
    line: int | None = None  # where in the budgets file, when known (not part of the digest)
    #: A stage's target (``[target.STAGE]``): it holds whichever variant the stage runs.
    #: Unselected (``variant`` ``"*"``), every variant is judged against it (the
    #: selection rule, the panel); :meth:`BudgetSpec.selecting` binds it to the variant
    #: the stage runs, the one a budget check measures.
    target: bool = False

    @property
    def info(self) -> MetricInfo:
        return METRICS[self.metric]

    @property
    def direction(self) -> Direction:
        return METRICS[self.metric].direction

    @property
    def label(self) -> str:
        return f"{self.stage}/{self.variant}"

    def limit_text(self) -> str:
        sign = "<=" if self.direction == "lower" else ">="
        if self.kind == "relative":
            return f"{sign} {self.value:g}x baseline"
        return f"{sign} {fmt.value(self.value, self.info.kind)}"

    def canonical(self) -> dict[str, Any]:
        return {"stage": self.stage, "variant": self.variant, "metric": self.metric,
                "kind": self.kind, "value": self.value, "level": self.level,
                **({"target": True} if self.target else {})}

    def to_json(self) -> dict[str, Any]:
        return {**self.canonical(), "line": self.line}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Rule:
        try:
            kind = str(data["kind"])
            metric = str(data["metric"])
            if kind not in ("relative", "absolute") or metric not in METRICS:
                raise ValueError(f"kind {kind!r} / metric {metric!r}")
            line = data.get("line")
            target = data.get("target", False)
            if not isinstance(target, bool):
                raise ValueError(f"target {target!r} is not true or false")
            return cls(str(data["stage"]), str(data["variant"]), metric,
                       "relative" if kind == "relative" else "absolute",
                       float(data["value"]), str(data["level"]),
                       None if line is None else int(line), target)
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidInputError(
                f"malformed budget rule {dict(data)!r} ({exc}); expected stage, variant, "
                f"metric (one of {', '.join(METRICS)}), kind (relative|absolute), value, level"
            ) from None
