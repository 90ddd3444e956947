"""Per stage, the variant the selection rule suggests today beside the one decided.

:func:`stage_choices` judges each stage's comparison against the project's budgets (and
the stored baseline of the workload, for relative limits) and applies the selection rule
(:func:`workbench.decisions.judging.judge`), and reads the decision log for the variant
each stage runs now. A report shows it so that a decision the evidence no longer
supports stands out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from workbench.results import Result

if TYPE_CHECKING:
    from workbench.measure.comparison import Comparison
    from workbench.refs import PipelineArg

__all__ = ["StageChoice", "StageChoices", "compared_workloads", "stage_choices"]


@dataclass(frozen=True, slots=True)
class StageChoice:
    stage: str
    suggested: str | None
    reason: str
    decided: str | None = None
    decision_id: str | None = None
    decided_at: str | None = None

    @property
    def agrees(self) -> bool | None:
        """Whether the decided variant is the suggested one (None: nothing decided)."""
        return None if self.decided is None else self.decided == self.suggested

    def to_json(self) -> dict[str, Any]:
        return {"stage": self.stage, "suggested": self.suggested, "reason": self.reason,
                "decided": self.decided, "decision_id": self.decision_id,
                "decided_at": self.decided_at}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> StageChoice:
        def opt(key: str) -> str | None:
            value = data.get(key)
            return None if value is None else str(value)

        return cls(str(data["stage"]), opt("suggested"), str(data["reason"]), opt("decided"),
                   opt("decision_id"), opt("decided_at"))


@dataclass(frozen=True)
class StageChoices(Result):
    """The suggestion and the decision of every compared stage (see the module)."""

    kind: ClassVar[str] = "stage-choices"
    schema_version: ClassVar[int] = 1

    pipeline: str
    workload: str
    choices: tuple[StageChoice, ...]
    budgets_note: str = ""
    log: str = ""

    def _payload(self) -> dict[str, Any]:
        return {"pipeline": self.pipeline, "workload": self.workload,
                "choices": [c.to_json() for c in self.choices],
                "budgets_note": self.budgets_note, "log": self.log}

    @classmethod
    def _from_payload(cls, data: Mapping[str, Any]) -> StageChoices:
        return cls(str(data["pipeline"]), str(data["workload"]),
                   tuple(StageChoice.from_json(c) for c in data["choices"]),
                   str(data.get("budgets_note", "")), str(data.get("log", "")))


def stage_choices(comparisons: Mapping[str, Comparison], *, pipeline: PipelineArg,
                  budgets: Path, baseline: Path | None, log: Path) -> StageChoices:
    """The suggestion for each comparison's stage (judged against the budgets file at
    ``budgets`` and the stored ``baseline``, if any) and its current decision in the log
    at ``log``."""
    from workbench.budget.standing import Budgets, standing_budgets
    from workbench.decisions.judging import judge
    from workbench.decisions.store import DecisionLog
    from workbench.refs import pipeline_label, resolve_pipeline

    pipe, ref = resolve_pipeline(pipeline)
    label = pipeline_label(pipe, ref)
    workloads = compared_workloads(comparisons)
    standing = standing_budgets(budgets, baseline, workloads[0], pipeline) if workloads \
        else Budgets(None, (), "nothing compared")
    current = DecisionLog(log).read().current(label, pipe.name)
    rows = []
    for stage, comparison in comparisons.items():
        s = judge(comparison, standing, pipe.stage(stage).variant_names).suggestion
        d = current.get(stage)
        rows.append(StageChoice(stage, s.variant, s.reason,
                                None if d is None else d.variant, None if d is None else d.id,
                                None if d is None else d.created_at))
    return StageChoices(label, ",".join(workloads), tuple(rows), standing.note, str(log))


def compared_workloads(comparisons: Mapping[str, Comparison]) -> list[str]:
    """The workloads the comparisons were measured on, sorted (the first one is judged)."""
    return sorted({c.workload for c in comparisons.values()})
