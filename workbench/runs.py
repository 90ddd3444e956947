"""One end-to-end run of a pipeline on a workload, timed segment by segment.

:func:`run_pipeline` runs any pipeline on a workload once, materializing between segments
(a fused segment counts as one) so that each gets its own wall time. Stages that derive
parameters from the workload (``derive_params``) get them first. It is a single, unwarmed
run for looking at a pipeline; measurements with warm-up, repeats and statistics are the
measurement engine's job.
"""

from __future__ import annotations

import html
import time
from collections.abc import Callable, Sized
from dataclasses import dataclass
from typing import Any

from workbench.pipeline import FusionReport, Pipeline
from workbench.stages import materialize
from workbench.workloads import Workload, get_workload

__all__ = ["PipelineRun", "SegmentTiming", "run_pipeline"]

Progress = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class SegmentTiming:
    stages: tuple[str, ...]
    variants: tuple[str, ...]
    fused: bool
    seconds: float
    items_out: int

    @property
    def label(self) -> str:
        text = "+".join(f"{s}/{v}" for s, v in zip(self.stages, self.variants, strict=True))
        return text + (" (fused)" if self.fused else "")


@dataclass(frozen=True, slots=True)
class PipelineRun:
    """What one run did: the selection, per-segment times, sizes and the final output."""

    pipeline: str
    workload: str
    selection: tuple[tuple[str, str], ...]
    n_input: int
    timings: tuple[SegmentTiming, ...]
    fusion: FusionReport
    output: Any  # the last stage's output, materialized (not part of the JSON record)

    @property
    def total_seconds(self) -> float:
        return sum(t.seconds for t in self.timings)

    def to_json(self) -> dict[str, Any]:
        return {
            "schema_version": 1, "kind": "pipeline-run", "pipeline": self.pipeline,
            "workload": self.workload, "selection": dict(self.selection),
            "n_input": self.n_input,
            "timings": [{"stages": list(t.stages), "variants": list(t.variants),
                         "fused": t.fused, "seconds": t.seconds, "items_out": t.items_out}
                        for t in self.timings],
            "output": _summary(self.output), "fusion": self.fusion.to_json(),
        }

    def to_text(self) -> str:
        chosen = ", ".join(f"{s}={v}" for s, v in self.selection)
        lines = [f"pipeline {self.pipeline} on workload {self.workload} "
                 f"({self.n_input:,} items in; {chosen})",
                 f"{'segment':44} {'seconds':>9} {'items out':>10}"]
        lines += [f"{t.label:44} {t.seconds:9.4f} {t.items_out:10d}" for t in self.timings]
        lines.append(f"{'total (one unwarmed run)':44} {self.total_seconds:9.4f}")
        lines.append(f"output: {_summary(self.output)}")
        return "\n".join(lines)

    def to_html(self) -> str:
        rows = "".join(f"<tr><td>{html.escape(t.label)}</td><td>{t.seconds:.4f}</td>"
                       f"<td>{t.items_out}</td></tr>" for t in self.timings)
        return (f"<p>pipeline <b>{html.escape(self.pipeline)}</b> on workload "
                f"<b>{html.escape(self.workload)}</b>: {self.n_input:,} items in</p>"
                "<table class='wb-run'><thead><tr><th>segment</th><th>seconds</th>"
                f"<th>items out</th></tr></thead><tbody>{rows}</tbody></table>"
                + self.fusion.to_html())

    def __str__(self) -> str:
        return self.to_text()

    def _repr_html_(self) -> str:
        return self.to_html()


def _count(value: Any) -> int:
    return len(value) if isinstance(value, Sized) else 0


def _summary(value: Any) -> str:
    text = repr(value)
    size = f"{len(value):,} items, " if isinstance(value, Sized) else ""
    return f"{type(value).__name__} ({size}{text[:120]}{'...' if len(text) > 120 else ''})"


def run_pipeline(pipeline: Pipeline, workload: Workload | str, *, label: str | None = None,
                 progress: Progress | None = None) -> PipelineRun:
    """Run ``pipeline`` end to end on ``workload`` once, timing each segment."""
    w = workload if isinstance(workload, Workload) else get_workload(workload)
    data = w.load()
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
                       _count(data), tuple(timings), pipeline.fusion_report(), value)
