"""Per stage, the variant the selection rule suggests today beside the one decided.

:func:`stage_choices` judges each stage's comparison against the project's budgets (and
the stored baseline of the workload, for relative limits), applies the selection rule of
:mod:`workbench.decisions.rule`, and reads the decision log for the variant each stage
runs now. A report shows it so that a decision the evidence no longer supports stands out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from workbench.results import Result

if TYPE_CHECKING:
    from workbench.measure.comparison import Comparison
    from workbench.project import Project
    from workbench.refs import PipelineArg

__all__ = ["StageChoice", "StageChoices", "stage_choices"]


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
                  project: Project, budgets: Path | None = None,
                  baseline: Path | None = None, log: Path | None = None) -> StageChoices:
    """The suggestion for each comparison's stage and its current decision.

    ``budgets`` defaults to the project's budgets file, ``baseline`` to the stored
    baseline of the comparisons' workload (when there is one) and ``log`` to the project's
    decision log."""
    from workbench.budget.judge import Budgets, baseline_path, standing_budgets, verdicts_by_variant
    from workbench.decisions.rule import suggest
    from workbench.decisions.store import DecisionLog
    from workbench.refs import pipeline_label, resolve_pipeline

    pipe, ref = resolve_pipeline(pipeline)
    label = pipeline_label(pipe, ref)
    workloads = sorted({c.workload for c in comparisons.values()})
    workload = workloads[0] if workloads else ""
    budgets = budgets or project.budgets_path
    if baseline is None and workload:
        stored = baseline_path(project.root, workload)
        baseline = stored if stored.is_file() else None
    standing = standing_budgets(budgets, baseline, workload, pipeline) if workload \
        else Budgets(None, (), "nothing compared")
    log = log or project.decisions_path
    current = DecisionLog(log).read().current(label, pipe.name)
    rows = []
    for stage, comparison in comparisons.items():
        s = suggest(comparison, verdicts_by_variant(standing, comparison),
                    pipe.stage(stage).variant_names)
        d = current.get(stage)
        rows.append(StageChoice(stage, s.variant, s.reason,
                                None if d is None else d.variant, None if d is None else d.id,
                                None if d is None else d.created_at))
    return StageChoices(label, ",".join(workloads), tuple(rows), standing.note, str(log))
