"""Where a pipeline's time goes: each stage's share of warm end-to-end runs.

The pipeline runs (with the variants the decision log records, pure where none) unfused
in this process, once to warm up (imports, JIT compilation, caches) and then ``runs``
times (:func:`workbench.app.reporting.stage_shares`); :func:`shares_of` gives each stage
its median time over the sum of the medians. It picks the stage worth profiling; it is
not a measurement (no isolation, no interval): ``compare`` measures.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from workbench.errors import InvalidInputError
from workbench.results import Result

if TYPE_CHECKING:
    from workbench.runs import PipelineRun

__all__ = ["StageShare", "StageShares", "shares_of"]


@dataclass(frozen=True, slots=True)
class StageShare:
    stage: str
    variant: str
    seconds: float  # the median over the runs
    share: float

    def to_json(self) -> dict[str, Any]:
        return {"stage": self.stage, "variant": self.variant, "seconds": self.seconds,
                "share": self.share}


@dataclass(frozen=True)
class StageShares(Result):
    """Each stage's median time and share of warm runs (see the module docstring)."""

    kind: ClassVar[str] = "stage-shares"
    schema_version: ClassVar[int] = 1

    pipeline: str
    workload: str
    runs: int
    stages: tuple[StageShare, ...]

    @property
    def hottest(self) -> StageShare:
        return max(self.stages, key=lambda s: s.seconds)

    def of(self, stage: str) -> StageShare:
        for s in self.stages:
            if s.stage == stage:
                return s
        raise InvalidInputError(f"stage {stage!r} is not in the pipeline; its stages: "
                                + ", ".join(s.stage for s in self.stages))

    def _payload(self) -> dict[str, Any]:
        return {"pipeline": self.pipeline, "workload": self.workload, "runs": self.runs,
                "stages": [s.to_json() for s in self.stages]}

    @classmethod
    def _from_payload(cls, data: Mapping[str, Any]) -> StageShares:
        return cls(str(data["pipeline"]), str(data["workload"]), int(data["runs"]),
                   tuple(StageShare(str(s["stage"]), str(s["variant"]), float(s["seconds"]),
                                    float(s["share"])) for s in data["stages"]))


def shares_of(done: Sequence[PipelineRun], runs: int) -> StageShares:
    """Each stage's median time over the pipeline runs ``done`` (``runs`` of them, warm
    and unfused) and its share of the sum of the medians."""
    first = done[0]
    stages = [t.stages[0] for t in first.timings]
    medians = [statistics.median(r.timings[i].seconds for r in done)
               for i in range(len(stages))]
    total = sum(medians) or 1.0
    selection = dict(first.selection)
    return StageShares(first.pipeline, first.workload, runs, tuple(
        StageShare(stage, selection[stage], seconds, seconds / total)
        for stage, seconds in zip(stages, medians, strict=True)))
