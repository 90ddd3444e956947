"""A budgeted block: a notebook cell measured like any target and held to limits.

:class:`BudgetedBlock` is the result of ``%%budget``: the block's measurement, the
measurement it was compared with (if any: an earlier cell or a stage variant measured
beside it, or a stored baseline), and the budget check of its limits, with the verdict
semantics of ``workbench check`` (:mod:`workbench.budget.verdict`).
:class:`BlockBudgetError` is what an error-level breach raises (a
:class:`~workbench.budget.guard.PerfBudgetError`, so one ``except`` catches both).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from workbench.budget.check_result import CheckResult
from workbench.budget.guard import PerfBudgetError
from workbench.errors import WorkbenchError
from workbench.measure.measurement import Measurement
from workbench.results import Result

__all__ = ["BlockBudgetError", "BudgetedBlock", "CheckBudgetError"]


@dataclass(frozen=True, slots=True)
class BudgetedBlock(Result):
    """One ``%%budget`` cell: what was measured, against what, and the verdicts."""

    kind: ClassVar[str] = "budget-block"
    schema_version: ClassVar[int] = 1

    name: str
    source: str
    current: Measurement
    check: CheckResult
    baseline: Measurement | None = None
    against: str | None = None  # how the baseline was named (--against)
    warn_only: bool = False  # --warn: a breach is shown, not raised
    #: What the configuration cannot claim (too few workers to decide without a model, or
    #: runs in this process), shown with the verdicts.
    warning: str | None = None

    @property
    def ok(self) -> bool:
        return self.current.ok

    @property
    def status(self) -> str:
        """failed | breach | undecided | pass | measured (no limits were given)."""
        if not self.current.ok:
            return "failed"
        if self.blocking:
            return "breach"
        if not self.check.verdicts:
            return "measured"
        if any(v.undecided for v in self.check.verdicts):
            return "undecided"
        return "pass"

    @property
    def blocking(self) -> bool:
        """An error-level breach (raised unless ``warn_only``)."""
        return self.check.exit_code() == 1

    def _payload(self) -> dict[str, Any]:
        return {"name": self.name, "source": self.source, "against": self.against,
                "warn_only": self.warn_only, "current": self.current.to_json(),
                "baseline": None if self.baseline is None else self.baseline.to_json(),
                "check": self.check.to_json(), "warning": self.warning}

    @classmethod
    def _from_payload(cls, data: Mapping[str, Any]) -> BudgetedBlock:
        base = data["baseline"]
        return cls(str(data["name"]), str(data["source"]),
                   Measurement.from_json(data["current"]), CheckResult.from_json(data["check"]),
                   None if base is None else Measurement.from_json(base),
                   None if data["against"] is None else str(data["against"]),
                   bool(data["warn_only"]),
                   None if data.get("warning") is None else str(data["warning"]))

    def summary_json(self) -> dict[str, Any]:
        return {"status": self.status, "check": self.check.summary_json(),
                "warning": self.warning}


class BlockBudgetError(PerfBudgetError):
    """A ``%%budget`` block broke an error-level limit; ``block`` holds the evidence."""

    def __init__(self, block: BudgetedBlock) -> None:
        self.block = block
        self.label = block.name
        self.figures = None
        self.breaches = ()
        breaches = [f"{v.rule.metric} {v.message}" for v in block.check.verdicts
                    if v.blocking]
        WorkbenchError.__init__(
            self, f"performance budget exceeded in %%budget {block.name}: "
            + "; ".join(breaches))


class CheckBudgetError(PerfBudgetError):
    """``%wb check`` found an error-level breach; ``result`` holds every verdict."""

    def __init__(self, result: CheckResult) -> None:
        self.result = result
        self.label = "check"
        self.figures = None
        self.breaches = ()
        broken = [f"{v.rule.label} {v.rule.metric} {v.rule.limit_text()}: {v.message}"
                  for v in result.verdicts if v.blocking]
        WorkbenchError.__init__(self, "performance budget exceeded in check: "
                                + "; ".join(broken))
