"""One end-to-end run of a pipeline on a workload, timed segment by segment.

:func:`run_pipeline` runs any pipeline on a workload once, materializing between segments
(a fused segment counts as one) so that each gets its own wall time. Stages that derive
parameters from the workload (``derive_params``) get them first. It is a single, unwarmed
run for looking at a pipeline; measurements with warm-up, repeats and statistics are the
measurement engine's job. A batch-sequence workload (:class:`~workbench.batches.BatchSequence`)
is refused: it is many inputs in order, which a comparison times one batch at a time.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sized
from dataclasses import dataclass, field
from typing import Any, ClassVar

from workbench.batches import BatchSequence
from workbench.errors import InvalidInputError
from workbench.pipeline import FusionReport, Pipeline
from workbench.progress import Status
from workbench.results import Result
from workbench.stages import materialize
from workbench.workloads import Workload, get_workload

__all__ = ["PipelineRun", "SegmentTiming", "run_pipeline"]



@dataclass(frozen=True, slots=True)
class SegmentTiming:
    stages: tuple[str, ...]
    variants: tuple[str, ...]
    fused: bool
    seconds: float
    items_out: int

    def to_json(self) -> dict[str, Any]:
        return {"stages": list(self.stages), "variants": list(self.variants),
                "fused": self.fused, "seconds": self.seconds, "items_out": self.items_out}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SegmentTiming:
        return cls(tuple(map(str, data["stages"])), tuple(map(str, data["variants"])),
                   bool(data["fused"]), float(data["seconds"]), int(data["items_out"]))

    @property
    def label(self) -> str:
        text = "+".join(f"{s}/{v}" for s, v in zip(self.stages, self.variants, strict=True))
        return text + (" (fused)" if self.fused else "")


@dataclass(frozen=True, slots=True)
class PipelineRun(Result):
    """What one run did: the selection, per-segment times, sizes and the final output."""

    kind: ClassVar[str] = "pipeline-run"
    schema_version: ClassVar[int] = 1

    pipeline: str
    workload: str
    selection: tuple[tuple[str, str], ...]
    n_input: int
    timings: tuple[SegmentTiming, ...]
    fusion: FusionReport
    output_summary: str
    #: the last stage's output, materialized (kept in memory only, not in the record)
    output: Any = field(default=None, compare=False)

    @property
    def total_seconds(self) -> float:
        return sum(t.seconds for t in self.timings)

    def _payload(self) -> dict[str, Any]:
        return {"pipeline": self.pipeline, "workload": self.workload,
                "selection": dict(self.selection), "n_input": self.n_input,
                "timings": [t.to_json() for t in self.timings],
                "output": self.output_summary, "fusion": self.fusion.to_json()}

    @classmethod
    def _from_payload(cls, data: Mapping[str, Any]) -> PipelineRun:
        return cls(str(data["pipeline"]), str(data["workload"]),
                   tuple((str(k), str(v)) for k, v in data["selection"].items()),
                   int(data["n_input"]),
                   tuple(SegmentTiming.from_json(t) for t in data["timings"]),
                   FusionReport.from_json(data["fusion"]), str(data["output"]))


def _count(value: Any) -> int:
    return len(value) if isinstance(value, Sized) else 0


def _summary(value: Any) -> str:
    text = repr(value)
    size = f"{len(value):,} items, " if isinstance(value, Sized) else ""
    return f"{type(value).__name__} ({size}{text[:120]}{'...' if len(text) > 120 else ''})"


def run_pipeline(pipeline: Pipeline, workload: Workload | str, *, label: str | None = None,
                 progress: Status | None = None) -> PipelineRun:
    """Run ``pipeline`` end to end on ``workload`` once, timing each segment."""
    w = workload if isinstance(workload, Workload) else get_workload(workload)
    data = w.load()
    if isinstance(data, BatchSequence):
        raise InvalidInputError(
            f"workload {w.name!r} is a batch sequence ({data.summary()}), not one input, "
            "and a run takes one input. Measure a stage on it instead "
            f"(workbench compare STAGE -w {w.name}, or %wb compare STAGE -w {w.name}): that "
            "times one stage call per batch, in a stated cache state (cold, warm or steady). "
            "To run the whole pipeline, use a workload of one batch.")
    derived = {s.name: s.derive_params(pipeline, data) for s in pipeline.stages
               if s.derive_params is not None}
    pipeline = pipeline.configure(**{k: v for k, v in derived.items() if v})
    timings: list[SegmentTiming] = []
    value: Any = data
    for seg in pipeline.plan():
        if progress is not None:
            progress("+".join(seg.stages))
        sub = Pipeline(pipeline.name, tuple(pipeline.stage(s) for s in seg.stages),
                       {s: pipeline.selection[s] for s in seg.stages},
                       {s: pipeline.params[s] for s in seg.stages}, pipeline.fuse)
        started = time.perf_counter()
        value = materialize(sub.run(value))
        seconds = time.perf_counter() - started
        timings.append(SegmentTiming(seg.stages, seg.variants, seg.fused, seconds, _count(value)))
    return PipelineRun(label or pipeline.name, w.name, tuple(pipeline.selection.items()),
                       _count(data), tuple(timings), pipeline.fusion_report(), _summary(value),
                       value)
