"""Where a pipeline's time goes: each stage's share of warm end-to-end runs.

:func:`stage_shares` runs the pipeline (with the variants the decision log records, pure
where none) unfused in this process, once to warm up (imports, JIT compilation, caches)
and then ``runs`` times, and gives each stage its median time over the sum of the
medians. It picks the stage worth profiling; it is not a measurement (no isolation, no
interval): ``compare`` measures.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from workbench.errors import InvalidInputError
from workbench.results import Result

if TYPE_CHECKING:
    from workbench.measure.targets import WorkloadArg
    from workbench.refs import PipelineArg

__all__ = ["StageShare", "StageShares", "stage_shares"]


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


def stage_shares(pipeline: PipelineArg, workload: WorkloadArg, *, runs: int = 3,
                 decided: Path | None = None) -> StageShares:
    """``runs`` warm, unfused runs after one warm-up run (see the module docstring);
    ``decided`` names the decision log (a log that does not exist yet decides nothing)."""
    from workbench import app

    if isinstance(runs, bool) or not isinstance(runs, int) or runs < 1:
        raise InvalidInputError(f"runs must be a positive integer; got {runs!r}")
    if decided is not None and not decided.is_file():
        decided = None  # no log yet: nothing decided, every stage runs pure
    done = [app.run(pipeline, workload, fuse=False, decided=decided)
            for _ in range(runs + 1)][1:]
    first = done[0]
    stages = [t.stages[0] for t in first.timings]
    medians = [statistics.median(r.timings[i].seconds for r in done)
               for i in range(len(stages))]
    total = sum(medians) or 1.0
    selection = dict(first.selection)
    return StageShares(first.pipeline, first.workload, runs, tuple(
        StageShare(stage, selection[stage], seconds, seconds / total)
        for stage, seconds in zip(stages, medians, strict=True)))
